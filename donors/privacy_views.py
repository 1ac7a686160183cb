"""Privacy in the back office: forget a donor, the per-donor GDPR export, the retention review."""

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, StringField
from wtforms.validators import DataRequired, Length, Optional

from donors import erasure, gdpr_export, merge, retention
from donors.merge_views import TABLE_LABELS
from donors.models import Donor
from donors.paging import paginate_rows
from legami import audit
from legami.access import add_menu, roles_required
from legami.extensions import db
from legami.models import Role
from legami.timeutil import today_rome
from legami.validation import Invalid, apply_to_form

bp = Blueprint("donor_privacy", __name__, url_prefix="/staff/donors")


def init_app(app) -> None:
    app.register_blueprint(bp)
    add_menu(app, _l("Retention review"), "donor_privacy.retention", Role.STAFF, group="donors")


PAGE_SIZE = 50
MAX_YEARS = 100


class ForgetForm(FlaskForm):
    request_note = StringField(
        _l("How and when the donor asked"),
        description=_l("For the audit log, e.g. “e-mail of 3 March”. No personal data."),
        validators=[Optional(), Length(max=200)],
    )
    confirm = BooleanField(
        _l("I understand that this cannot be undone."),
        validators=[DataRequired(message=_l("Tick the box to confirm."))],
    )


@bp.route("/<int:donor_id>/forget", methods=["GET", "POST"])
@roles_required(Role.STAFF)
def forget(donor_id: int):
    donor = db.get_or_404(Donor, donor_id)
    form = ForgetForm()
    if donor.is_erased:
        flash(_("This donor was already forgotten."), "info")
        return redirect(url_for("donors_staff.donor", donor_id=donor_id))
    if form.validate_on_submit():
        try:
            erasure.forget(
                donor.id,
                current_user,
                today_rome(),
                current_app.config["DONOR_RETENTION_YEARS"],
                form.request_note.data or "",
            )
        except Invalid as invalid:
            db.session.rollback()
            apply_to_form(form, invalid)
        else:
            db.session.commit()
            flash(_("Donor #%(id)s is forgotten; the gifts stay.", id=donor_id), "info")
            return redirect(url_for("donors_staff.donor", donor_id=donor_id))
    return render_template(
        "donors/staff/erase_confirm.html",
        donor=db.session.get(Donor, donor_id),
        form=form,
        counts=merge.reference_counts(donor_id),
        live_recurring=erasure.live_recurring_gifts(donor_id),
        table_labels=TABLE_LABELS,
    ), 422 if form.errors else 200


@bp.get("/<int:donor_id>/gdpr-export")
@roles_required(Role.STAFF)
def export(donor_id: int):
    donor = db.get_or_404(Donor, donor_id)
    data = gdpr_export.zip_bytes(donor)
    audit.record(current_user, "donor.gdpr_export", f"donor:{donor_id}")
    db.session.commit()
    return Response(
        data,
        mimetype="application/zip",
        headers={"Content-Disposition": f'attachment; filename="donor-{donor_id}-gdpr.zip"'},
    )


@bp.get("/retention", endpoint="retention")
@roles_required(Role.STAFF)
def retention_review():
    default = current_app.config["DONOR_RETENTION_YEARS"]
    years = request.args.get("years", default, type=int)
    if not 1 <= years <= MAX_YEARS:
        flash(_("Years must be a whole number from 1 to %(max)s.", max=MAX_YEARS), "error")
        years = default
    page = paginate_rows(retention.inactive_donors(today_rome(), years), PAGE_SIZE)
    return render_template("donors/staff/retention.html", page=page, years=years)

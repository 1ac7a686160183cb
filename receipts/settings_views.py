"""The treasurer's receipt settings: one page per organisation."""

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from legami.access import roles_required
from legami.extensions import db
from legami.models import Organisation, Role
from legami.money import format_amount
from legami.validation import Invalid, apply_to_form
from receipts import issuing, settings
from receipts.forms import SettingsForm

bp = Blueprint("receipts_settings", __name__, url_prefix="/staff/receipts/settings")


@bp.get("")
@roles_required(Role.TREASURER)
def index():
    organisations = db.session.scalars(select(Organisation).order_by(Organisation.name)).all()
    rows = [(org, issuing.settings_for(org.id)) for org in organisations]
    db.session.commit()  # the default rows made for organisations that had none
    return render_template("receipts/staff/settings_index.html", rows=rows)


@bp.route("/<int:org_id>", methods=["GET", "POST"])
@roles_required(Role.TREASURER)
def edit(org_id: int):
    org = db.get_or_404(Organisation, org_id)
    current = issuing.settings_for(org.id)
    db.session.commit()  # the default row, for an organisation that had none
    form = SettingsForm(obj=current)
    if not form.is_submitted():
        form.threshold.data = format_amount(current.threshold_cents)
    if form.validate_on_submit():
        try:
            settings.save(
                current,
                form.data,
                current_user,
                signature=form.signature_image.data,
                remove_signature=form.remove_signature.data,
            )
        except Invalid as invalid:
            apply_to_form(form, invalid)
        else:
            flash(_("Receipt settings of %(name)s saved.", name=org.name), "info")
            return redirect(url_for(".index"))
    status = 422 if form.errors or form.form_errors else 200
    return render_template(
        "receipts/staff/settings.html", form=form, org=org, settings=current
    ), status

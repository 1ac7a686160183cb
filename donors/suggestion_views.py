"""Staff accept or reject the changes a gift form suggested, from the donor's record page."""

from flask import Blueprint, flash, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user

from donors import suggestions
from donors.models import Donor
from legami.access import roles_required
from legami.extensions import db
from legami.models import Role
from legami.validation import Invalid

bp = Blueprint("donor_suggestions", __name__, url_prefix="/staff/donors")


def _decide(donor_id: int, suggestion_id: int, accept: bool):
    donor = db.get_or_404(Donor, donor_id)
    try:
        if accept:
            suggestions.accept(donor, suggestion_id, current_user)
        else:
            suggestions.reject(donor, suggestion_id, current_user)
    except Invalid as invalid:
        db.session.rollback()
        flash(" ".join(str(m) for m in invalid.errors.values()), "error")
    else:
        db.session.commit()
        flash(_("Suggested change applied.") if accept else _("Suggested change rejected."), "info")
    return redirect(url_for("donors_staff.donor", donor_id=donor.id))


@bp.post("/<int:donor_id>/suggestions/<int:suggestion_id>/accept")
@roles_required(Role.STAFF)
def accept(donor_id: int, suggestion_id: int):
    return _decide(donor_id, suggestion_id, accept=True)


@bp.post("/<int:donor_id>/suggestions/<int:suggestion_id>/reject")
@roles_required(Role.STAFF)
def reject(donor_id: int, suggestion_id: int):
    return _decide(donor_id, suggestion_id, accept=False)


def init_app(app) -> None:
    app.register_blueprint(bp)
    app.jinja_env.globals.update(
        donor_suggestions=suggestions.pending, suggestion_fields=suggestions.FIELDS
    )

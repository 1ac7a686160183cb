"""Staff turn a campaign's ledger into a report-back newsletter draft."""

from flask import Blueprint, flash, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user

from campaigns.models import Campaign
from legami.access import roles_required
from legami.extensions import db
from legami.models import Role
from legami.validation import Invalid
from mailing import report_back

bp = Blueprint("mailing_report_back", __name__, url_prefix="/staff/newsletters/report-back")


@bp.post("/<int:campaign_id>")
@roles_required(Role.STAFF)
def from_ledger(campaign_id: int):
    campaign = db.get_or_404(Campaign, campaign_id)
    try:
        created = report_back.draft(campaign, current_user)
    except Invalid as invalid:
        db.session.rollback()
        for message in invalid.errors.values():
            flash(str(message), "error")
        return redirect(url_for("payments_ledger_staff.index"))
    flash(_("A report-back draft was made from the ledger: check it, then schedule it."), "info")
    return redirect(url_for("newsletters.edit", newsletter_id=created.id))

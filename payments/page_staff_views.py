"""Staff's side of personal pages: per-campaign settings, the approval queue with each page
as the public will see it, hiding and showing again."""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from campaigns.models import Campaign
from legami.access import roles_required
from legami.extensions import db
from legami.models import Role
from legami.validation import Invalid
from payments import fundraising_pages
from payments.page_forms import PageSettingsForm
from payments.page_models import FundraisingPage, PageStatus
from payments.page_views import fundraising_pages_context

bp = Blueprint("payments_pages_staff", __name__, url_prefix="/staff/pagine")


@bp.get("/")
@roles_required(Role.STAFF)
def queue():
    status = request.args.get("stato", PageStatus.PENDING.value)
    query = select(FundraisingPage).order_by(FundraisingPage.created_at)
    if status in set(PageStatus):
        query = query.where(FundraisingPage.status == status)
    campaigns = db.session.scalars(select(Campaign).order_by(Campaign.title)).all()
    return render_template(
        "payments/pages/staff_queue.html",
        pages=db.session.scalars(query).all(),
        status=status,
        statuses=list(PageStatus),
        campaigns=campaigns,
    )


@bp.get("/<int:page_id>")
@roles_required(Role.STAFF)
def preview(page_id: int):
    page = db.get_or_404(FundraisingPage, page_id)
    return render_template(
        "payments/pages/page.html", preview=True, **fundraising_pages_context(page)
    )


@bp.post("/<int:page_id>/<action>")
@roles_required(Role.STAFF)
def review(page_id: int, action: str):
    page = db.get_or_404(FundraisingPage, page_id)
    try:
        fundraising_pages.review(page, action, current_user)
    except Invalid as invalid:
        db.session.rollback()
        for message in invalid.errors.values():
            flash(str(message), "error")
    else:
        db.session.commit()
        flash(_("Page updated."), "info")
    return redirect(url_for(".preview", page_id=page_id))


@bp.route("/campagna/<int:campaign_id>", methods=["GET", "POST"])
@roles_required(Role.STAFF)
def settings(campaign_id: int):
    campaign = db.get_or_404(Campaign, campaign_id)
    current = fundraising_pages.settings_for(campaign.id)
    form = PageSettingsForm(obj=current)
    if form.validate_on_submit():
        fundraising_pages.set_settings(
            campaign, form.allow_pages.data, form.needs_approval.data, current_user
        )
        db.session.commit()
        flash(_("Saved."), "info")
        return redirect(url_for(".settings", campaign_id=campaign.id))
    return render_template("payments/pages/staff_settings.html", campaign=campaign, form=form)

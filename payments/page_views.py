"""Personal fundraising pages for the public: open one, confirm it, see it, give through it."""

from dataclasses import replace

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from campaigns.models import Campaign, CampaignStatus
from donors import portal
from legami.extensions import db, limiter
from legami.i18n import current_language
from legami.validation import Invalid, apply_to_form
from payments import defence, fundraising_pages, giving
from payments.forms import PRESETS_CENTS, DonationForm
from payments.models import Method, RecurringGift
from payments.page_forms import OpenPageForm
from payments.page_models import FundraisingPage, PageStatus
from payments.views import _request_from

bp = Blueprint("payments_pages", __name__)

PER_IP = "5/hour;20/day"


def init_app(app) -> None:
    """Pages' blueprints (public, donor area, staff, API), signals, panel and menus."""
    from campaigns.panels import add_panel
    from donors import soft_credits
    from donors.portal import add_portal_section
    from legami.access import add_menu
    from legami.api import document
    from legami.models import Role
    from payments import page_api, page_portal_views, page_staff_views

    app.register_blueprint(bp)
    app.register_blueprint(page_portal_views.bp)
    app.register_blueprint(page_staff_views.bp)
    app.register_blueprint(page_api.bp)
    document(app, page_api.PATHS, page_api.SCHEMAS)
    fundraising_pages.connect_signals(app)
    app.jinja_env.globals["page_leaderboard"] = fundraising_pages.leaderboard
    app.jinja_env.globals["page_settings"] = fundraising_pages.settings_for
    app.jinja_env.globals["soft_credit"] = soft_credits.for_donor
    add_panel(app, "payments/pages/_panel.html")
    add_portal_section(app, _l("Your fundraising pages"), "payments_pages_portal.pages")
    add_menu(
        app, _l("Fundraising pages"), "payments_pages_staff.queue", Role.STAFF, group="fundraising"
    )


def _campaign(slug: str) -> Campaign:
    campaign = db.first_or_404(db.select(Campaign).where(Campaign.slug == slug))
    if campaign.status != CampaignStatus.LIVE:
        abort(404)
    return campaign


@bp.route("/campagne/<slug>/pagine/nuova", methods=["GET", "POST"])
@limiter.limit(PER_IP, methods=["POST"], on_breach=defence.on_breach)
def new(slug: str):
    campaign = _campaign(slug)
    if not fundraising_pages.settings_for(campaign.id).allow_pages:
        abort(404)
    form = OpenPageForm(team_slug=request.args.get("squadra", ""))
    if form.validate_on_submit():
        try:
            fundraising_pages.open_page(
                fundraising_pages.PageRequest(
                    campaign=campaign,
                    email=form.email.data,
                    first_name=fundraising_pages.plain(form.first_name.data, 100),
                    last_name=fundraising_pages.plain(form.last_name.data, 100),
                    display_name=fundraising_pages.plain(form.display_name.data, 100),
                    title=fundraising_pages.plain(form.title.data, 150),
                    story=fundraising_pages.plain(form.story.data, 2000),
                    goal_cents=form.goal.cents,
                    ends_on=form.ends_on.data,
                    is_team=form.is_team.data,
                    team_slug=(form.team_slug.data or "").strip(),
                    on_leaderboard=form.on_leaderboard.data,
                    photo=form.photo.data or None,
                    ip=request.remote_addr or "",
                    language=current_language(),
                )
            )
        except Invalid as invalid:
            db.session.rollback()
            apply_to_form(form, invalid, {"goal_cents": "goal"})
        else:
            db.session.commit()
            return render_template("payments/pages/check_mail.html", campaign=campaign)
    status = 422 if form.errors or form.form_errors else 200
    return render_template("payments/pages/new.html", campaign=campaign, form=form), status


@bp.route("/pagine/conferma/<token>", methods=["GET", "POST"])
def confirm(token: str):
    """As the portal's link: a button, so that a mail scanner opening it does not use it up."""
    if request.method == "POST":
        donor, pages = fundraising_pages.confirm(token)
        db.session.commit()
        if donor is not None:
            return render_template("payments/pages/confirmed.html", pages=pages)
    elif portal.link_is_valid(token):
        return render_template("payments/pages/confirm.html", token=token)
    return render_template("donors/portal/link_invalid.html"), 410


def _visible(slug: str) -> FundraisingPage:
    """A live page; its owner (signed in) also sees it while it waits."""
    page = fundraising_pages.by_slug(slug)
    if page is None:
        abort(404)
    owner = portal.current_donor()
    if not page.is_public and not (owner is not None and owner.id == page.owner_id):
        abort(404)
    return page


@bp.get("/pagine/<slug>")
def page(slug: str):
    found = _visible(slug)
    return render_template("payments/pages/page.html", **fundraising_pages_context(found))


def fundraising_pages_context(found: FundraisingPage) -> dict:
    raised, gifts = fundraising_pages.raised(found)
    return {
        "page": found,
        "raised_cents": raised,
        "gifts": gifts,
        "percent": raised * 100 // found.goal_cents,
        "wall": fundraising_pages.wall(found),
        "members": fundraising_pages.members(found) if found.is_team else [],
    }


@bp.route("/pagine/<slug>/dona", methods=["GET", "POST"])
@limiter.limit(defence.PER_IP, methods=["POST"], on_breach=defence.on_breach)
@limiter.limit(
    defence.PER_EMAIL, key_func=defence.email_key, methods=["POST"], on_breach=defence.on_breach
)
def give(slug: str):
    found = _visible(slug)
    if found.status != PageStatus.LIVE or found.campaign.status != CampaignStatus.LIVE:
        abort(404)
    campaign = found.campaign
    form = DonationForm()
    if form.validate_on_submit():
        if form.website.data:
            defence.record("honeypot")
            abort(400)
        try:
            gift_request = replace(
                _request_from(form, campaign),
                on_created=lambda gift: fundraising_pages.attribute(gift, found),
            )
            gift = giving.start(gift_request)
        except Invalid as invalid:
            db.session.rollback()
            apply_to_form(form, invalid)
        except giving.PaymentUnavailable:
            form.form_errors.append(
                _("Card payments are not available right now. Please try again later.")
            )
        else:
            if isinstance(gift, RecurringGift):
                return redirect(url_for("payments.monthly", token=gift.token))
            if gift.method == Method.BANK_TRANSFER:
                return redirect(url_for("payments.transfer", token=gift.token))
            return redirect(url_for("payments.card", token=gift.token))
    status = 422 if form.errors or form.form_errors else 200
    return render_template(
        "payments/give.html",
        campaign=campaign,
        form=form,
        presets=PRESETS_CENTS,
        fundraising_page=found,
    ), status

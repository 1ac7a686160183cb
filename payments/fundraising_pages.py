"""Personal and team fundraising pages: opening one, confirming it by e-mail, approval and
hiding, the owner's edits and thank-you, and the gifts made through it.

Guarantees:
- A page exists for the public only after its owner followed the single-use link mailed to
  them (the donor portal's sign-in, donors.portal), and, where the campaign asks, after
  staff approved it. Staff may hide it at any time; its gifts stay the campaign's.
- Texts are plain: stored as typed (control characters dropped) and always shown escaped.
  Photos pass legami.uploads' checks. One address opens at most PAGES_PER_DAY pages a day.
- A gift made through a page is attributed to it and its team (PageGift); a monthly gift's
  instalments each follow as they are paid. A page's figure is its gifts net of refunds,
  counted as the campaign counts them; its goal is announced once (a conditional UPDATE).
"""

import re
import secrets
from dataclasses import dataclass
from datetime import date, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, exists, func, or_, select, update
from sqlalchemy.orm import joinedload

from campaigns.models import Campaign, CampaignStatus
from donors import portal
from donors.identity import DonorDetails, find_or_create, normalise_email
from donors.models import Donor
from legami import audit
from legami.extensions import db
from legami.models import User
from legami.money import MAX_GOAL_CENTS
from legami.slugs import slugify
from legami.timeutil import now_utc, today_rome
from legami.uploads import save_image
from legami.validation import Invalid
from payments import page_signals, signals, success_facts
from payments.models import Donation, RecurringGift, Status
from payments.page_models import MAX_STORY, FundraisingPage, PageGift, PageSettings, PageStatus

PAGES_PER_DAY = 3
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def plain(text: str | None, max_length: int) -> str:
    return _CONTROL.sub("", (text or "").replace("\r\n", "\n")).strip()[: max_length + 1]


def settings_for(campaign_id: int) -> PageSettings:
    found = db.session.get(PageSettings, campaign_id)
    return found or PageSettings(campaign_id=campaign_id, allow_pages=False, needs_approval=True)


def set_settings(campaign: Campaign, allow: bool, needs_approval: bool, user: User | None):
    found = db.session.get(PageSettings, campaign.id)
    if found is None:
        found = PageSettings(campaign_id=campaign.id)
        db.session.add(found)
    found.allow_pages, found.needs_approval = allow, needs_approval
    audit.record(
        user, "pages.settings", f"campaign:{campaign.id}", allow=allow, approval=needs_approval
    )
    return found


@dataclass(frozen=True)
class PageRequest:
    campaign: Campaign
    email: str
    first_name: str
    last_name: str
    display_name: str
    title: str
    story: str
    goal_cents: int | None
    ends_on: date | None
    is_team: bool = False
    team_slug: str = ""
    on_leaderboard: bool = True
    photo: object = None  # an uploaded file, or None
    ip: str = ""
    language: str = "it"


def _validate(req: PageRequest, team: FundraisingPage | None) -> dict:
    errors = {}
    campaign = req.campaign
    if campaign.status != CampaignStatus.LIVE or not settings_for(campaign.id).allow_pages:
        errors["title"] = _l("This campaign does not take personal pages.")
    if not req.first_name or not req.last_name:
        errors["last_name"] = _l("Write your first and last name.")
    if not req.display_name or len(req.display_name) > 100:
        errors["display_name"] = _l("Write the name to show, up to 100 characters.")
    if not req.title or len(req.title) > 150:
        errors["title"] = _l("Write a title, up to 150 characters.")
    if len(req.story) > MAX_STORY:
        errors["story"] = _l("At most %(max)s characters.", max=MAX_STORY)
    if req.goal_cents is None or not 0 < req.goal_cents <= MAX_GOAL_CENTS:
        errors["goal"] = _l("Write a goal above zero.")
    if req.ends_on is None or req.ends_on < today_rome() or req.ends_on > campaign.ends_on:
        errors["ends_on"] = _l(
            "Choose an end date from today to the campaign's end (%(end)s).",
            end=campaign.ends_on.isoformat(),
        )
    if req.team_slug and (team is None or req.is_team):
        errors["team_slug"] = _l("This team is not open on this campaign.")
    return errors


def _team(campaign: Campaign, slug: str) -> FundraisingPage | None:
    if not slug:
        return None
    return db.session.scalar(
        select(FundraisingPage).where(
            FundraisingPage.slug == slug,
            FundraisingPage.campaign_id == campaign.id,
            FundraisingPage.is_team.is_(True),
            FundraisingPage.status == PageStatus.LIVE,
        )
    )


def opened_today(email: str) -> int:
    """Pages opened in the last day by the donor with this address."""
    return db.session.scalar(
        select(func.count(FundraisingPage.id))
        .join(Donor, Donor.id == FundraisingPage.owner_id)
        .where(
            Donor.email == normalise_email(email),
            FundraisingPage.created_at > now_utc() - timedelta(days=1),
        )
    )


def open_page(req: PageRequest) -> FundraisingPage:
    """Store the page, unconfirmed, and ask its owner to confirm by e-mail. The caller commits."""
    team = _team(req.campaign, req.team_slug)
    errors = _validate(req, team)
    if not errors and opened_today(req.email) >= PAGES_PER_DAY:
        errors["email"] = _l("You opened several pages today: try again tomorrow.")
    if errors:
        raise Invalid(errors)
    photo = save_image(req.photo, "photo") if req.photo else None
    owner = find_or_create(
        DonorDetails(
            email=req.email,
            first_name=req.first_name,
            last_name=req.last_name,
            language=req.language,
        ),
        source=f"page:{req.campaign.slug}",
        update_existing=False,
    )
    page = FundraisingPage(
        slug=f"{slugify(req.title, 60) or 'pagina'}-{secrets.token_hex(3)}",
        campaign_id=req.campaign.id,
        owner_id=owner.id,
        is_team=req.is_team,
        team_id=team.id if team else None,
        display_name=req.display_name,
        title=req.title,
        story=req.story,
        photo=photo,
        goal_cents=req.goal_cents,
        ends_on=req.ends_on,
        on_leaderboard=req.on_leaderboard,
        created_ip=req.ip[:45],
    )
    db.session.add(page)
    db.session.flush()
    page_signals.page_confirmation_requested.send(
        current_app._get_current_object(), donor_id=owner.id
    )
    return page


def confirm(token: str) -> tuple[Donor | None, list[FundraisingPage]]:
    """Follow the owner's single-use link: they are signed in to their donor area and their
    unconfirmed pages go live, or to staff for approval. The caller commits."""
    donor = portal.redeem(token)
    if donor is None:
        return None, []
    portal.log_in(donor)
    pages = db.session.scalars(
        select(FundraisingPage).where(
            FundraisingPage.owner_id == donor.id,
            FundraisingPage.status == PageStatus.UNCONFIRMED,
        )
    ).all()
    for page in pages:
        page.confirmed_at = now_utc()
        approval = settings_for(page.campaign_id).needs_approval
        page.status = PageStatus.PENDING if approval else PageStatus.LIVE
    return donor, list(pages)


def review(page: FundraisingPage, action: str, user: User | None) -> None:
    """Staff approve, reject, hide or show again a page. The caller commits."""
    allowed = {
        "approve": ((PageStatus.PENDING,), PageStatus.LIVE),
        "reject": ((PageStatus.PENDING,), PageStatus.REJECTED),
        "hide": ((PageStatus.LIVE, PageStatus.PENDING), PageStatus.HIDDEN),
        "show": ((PageStatus.HIDDEN,), PageStatus.LIVE),
    }
    if action not in allowed or page.status not in allowed[action][0]:
        raise Invalid({"action": _l("This page cannot be changed that way now.")})
    before = page.status
    page.status = allowed[action][1]
    if action == "approve":
        page.approved_at, page.approved_by_id = now_utc(), user.id if user else None
    page.hidden_at = now_utc() if action == "hide" else None
    audit.record(user, f"pages.{action}", f"page:{page.id}", status=[before, page.status])


def edit(page: FundraisingPage, owner: Donor, values: dict, photo=None) -> None:
    """The owner's own edits, from the donor area. The caller commits."""
    if page.owner_id != owner.id:
        raise Invalid({"title": _l("This is not your page.")})
    title = plain(values.get("title"), 150)
    story = plain(values.get("story"), MAX_STORY)
    goal = values.get("goal_cents")
    ends_on = values.get("ends_on")
    errors = {}
    if not title or len(title) > 150:
        errors["title"] = _l("Write a title, up to 150 characters.")
    if len(story) > MAX_STORY:
        errors["story"] = _l("At most %(max)s characters.", max=MAX_STORY)
    if goal is None or not 0 < goal <= MAX_GOAL_CENTS:
        errors["goal"] = _l("Write a goal above zero.")
    if ends_on is None or ends_on > page.campaign.ends_on:
        errors["ends_on"] = _l(
            "Choose an end date up to the campaign's end (%(end)s).",
            end=page.campaign.ends_on.isoformat(),
        )
    if errors:
        raise Invalid(errors)
    page.title, page.story, page.goal_cents, page.ends_on = title, story, goal, ends_on
    page.on_leaderboard = bool(values.get("on_leaderboard"))
    if photo:
        page.photo = save_image(photo, "photo")


def relay_thanks(page: FundraisingPage, owner: Donor, message: str) -> None:
    """The owner's one thank-you to the page's donors, relayed by Legami: the owner never sees
    their addresses. The caller commits."""
    if page.owner_id != owner.id:
        raise Invalid({"message": _l("This is not your page.")})
    text = plain(message, MAX_STORY)
    if not text or len(text) > MAX_STORY:
        raise Invalid(
            {"message": _l("Write your message, up to %(max)s characters.", max=MAX_STORY)}
        )
    claimed = db.session.execute(
        update(FundraisingPage)
        .where(FundraisingPage.id == page.id, FundraisingPage.thanks_sent_at.is_(None))
        .values(thanks_sent_at=now_utc(), thanks_message=text)
    )
    if claimed.rowcount != 1:
        raise Invalid({"message": _l("You have already thanked this page's donors.")})
    db.session.expire(page)
    page_signals.page_thanks_relayed.send(current_app._get_current_object(), page_id=page.id)


def by_slug(slug: str) -> FundraisingPage | None:
    return db.session.scalar(select(FundraisingPage).where(FundraisingPage.slug == slug))


def attribute(gift: Donation | RecurringGift, page: FundraisingPage) -> None:
    """Record that a gift was made through this page (and its team)."""
    key = "recurring_gift_id" if isinstance(gift, RecurringGift) else "donation_id"
    db.session.add(PageGift(page_id=page.id, team_id=page.team_id, **{key: gift.id}))


def _counted_gifts(page: FundraisingPage):
    own = PageGift.team_id == page.id if page.is_team else PageGift.page_id == page.id
    if page.is_team:
        own = or_(own, PageGift.page_id == page.id)
    return (
        select(Donation)
        .join(PageGift, PageGift.donation_id == Donation.id)
        .where(own, Donation.status.in_([Status.SUCCEEDED, Status.REFUNDED]))
    )


def raised(page: FundraisingPage) -> tuple[int, int]:
    """(net cents, gifts) through the page; a team's include its members' pages."""
    gifts = _counted_gifts(page).subquery()
    row = db.session.execute(
        select(
            func.coalesce(func.sum(gifts.c.amount_cents - gifts.c.refunded_cents), 0),
            func.count().filter(gifts.c.status == Status.SUCCEEDED),
        )
    ).one()
    return int(row[0]), int(row[1])


def wall(page: FundraisingPage, limit: int = 20) -> list[dict]:
    """The page's latest gifts, named (with the amount) only where the donor allowed it."""
    rows = db.session.scalars(
        _counted_gifts(page)
        .options(joinedload(Donation.donor))
        .where(Donation.status == Status.SUCCEEDED)
        .order_by(Donation.succeeded_at.desc())
        .limit(limit)
    ).all()
    return [
        {
            "name": d.donor.display_name if d.show_name else None,
            "amount_cents": d.amount_cents if d.show_name else None,
            "dedication": d.dedication if d.show_name else "",
        }
        for d in rows
    ]


def _raised_by_page(campaign_id: int) -> dict[int, int]:
    """Net cents through each page of the campaign, a team's including its members': two
    grouped sums, whatever the number of pages."""
    net = func.sum(Donation.amount_cents - Donation.refunded_cents)
    counted = Donation.status.in_([Status.SUCCEEDED, Status.REFUNDED])
    totals: dict[int, int] = {}
    for column in (PageGift.page_id, PageGift.team_id):
        rows = db.session.execute(
            select(column, net)
            .join(Donation, Donation.id == PageGift.donation_id)
            .where(counted, Donation.campaign_id == campaign_id, column.is_not(None))
            .group_by(column)
        )
        for page_id, cents in rows:
            totals[page_id] = totals.get(page_id, 0) + int(cents)
    return totals


def members(team: FundraisingPage) -> list[tuple[FundraisingPage, int]]:
    pages = db.session.scalars(
        select(FundraisingPage)
        .where(FundraisingPage.team_id == team.id, FundraisingPage.status == PageStatus.LIVE)
        .order_by(FundraisingPage.created_at)
    ).all()
    totals = _raised_by_page(team.campaign_id)
    return [(p, totals.get(p.id, 0)) for p in pages]


def leaderboard(campaign_id: int, limit: int = 10) -> list[tuple[FundraisingPage, int]]:
    """The campaign's live pages that chose to appear, by what they raised."""
    pages = db.session.scalars(
        select(FundraisingPage)
        .where(
            FundraisingPage.campaign_id == campaign_id,
            FundraisingPage.status == PageStatus.LIVE,
            FundraisingPage.on_leaderboard.is_(True),
        )
        .order_by(FundraisingPage.created_at)
    ).all()
    totals = _raised_by_page(campaign_id)
    ranked = sorted(((p, totals.get(p.id, 0)) for p in pages), key=lambda pair: -pair[1])
    return ranked[:limit]


# Work for a gift that succeeds: it came through a page, or its monthly gift did.
success_facts.register(
    "fundraising_page",
    or_(
        exists().where(PageGift.donation_id == Donation.id),
        and_(
            Donation.recurring_gift_id.is_not(None),
            exists().where(PageGift.recurring_gift_id == Donation.recurring_gift_id),
        ),
    ),
)


def _on_succeeded(app, donation_id: int, **_) -> None:
    if not success_facts.may_have_work(donation_id, "fundraising_page"):
        return
    donation = db.session.get(Donation, donation_id)
    link = db.session.scalar(select(PageGift).where(PageGift.donation_id == donation_id))
    if link is None and donation.recurring_gift_id is not None:
        monthly = db.session.scalar(
            select(PageGift).where(PageGift.recurring_gift_id == donation.recurring_gift_id)
        )
        if monthly is not None:
            link = PageGift(
                page_id=monthly.page_id, team_id=monthly.team_id, donation_id=donation_id
            )
            db.session.add(link)
            db.session.flush()
    if link is None:
        return
    page_signals.page_gift_received.send(app, donation_id=donation_id, page_id=link.page_id)
    for page_id in filter(None, (link.page_id, link.team_id)):
        page = db.session.get(FundraisingPage, page_id)
        if raised(page)[0] < page.goal_cents:
            continue
        reached = db.session.execute(
            update(FundraisingPage)
            .where(FundraisingPage.id == page_id, FundraisingPage.goal_reached_at.is_(None))
            .values(goal_reached_at=now_utc())
        )
        if reached.rowcount == 1:
            page_signals.page_goal_reached.send(app, donation_id=donation_id, page_id=page_id)


def connect_signals(app) -> None:
    signals.donation_succeeded.connect(_on_succeeded, sender=app)

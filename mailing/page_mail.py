"""Mail about personal fundraising pages: the owner's confirmation link, the owner told of
each gift and of the goal reached, and the owner's thank-you relayed to the page's donors.

Receivers only queue jobs (in the change's transaction); renderers make links and read the
page when the mail goes out. The relayed thank-you goes from the organisation to each donor
of the page once (one job per donor's latest gift), so the owner never learns an address
and the donors never learn the owner's.
"""

from email.message import EmailMessage

from flask import current_app, render_template, url_for
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from donors import portal
from donors.models import Donor
from legami.extensions import db
from mailing import queue
from mailing.models import MailJob
from payments import fundraising_pages, page_signals
from payments.models import Donation, Status
from payments.page_models import FundraisingPage, PageGift, PageStatus


def _message(template: str, subject, to: Donor, reply_to: str, **context) -> EmailMessage:
    with force_locale(to.language or "it"):
        message = EmailMessage()
        message["To"] = to.email
        message["Subject"] = str(subject)
        if reply_to:
            message["Reply-To"] = reply_to
        message.set_content(render_template(template, donor=to, **context))
    return message


def _page_url(page: FundraisingPage) -> str:
    return current_app.config["BASE_URL"] + url_for("payments_pages.page", slug=page.slug)


def confirm(job: MailJob) -> EmailMessage | None:
    donor = db.session.get(Donor, job.donor_id)
    if donor is None or donor.is_erased:
        return None
    waiting = db.session.scalars(
        select(FundraisingPage).where(
            FundraisingPage.owner_id == donor.id,
            FundraisingPage.status == PageStatus.UNCONFIRMED,
        )
    ).all()
    if not waiting:
        return None  # confirmed by an earlier link
    return _message(
        "mailing/page_confirm.txt",
        _l("Confirm your fundraising page"),
        donor,
        waiting[0].campaign.organisation.email,
        pages=waiting,
        url=portal.issue_link(donor, "payments_pages.confirm"),
        minutes=current_app.config["PORTAL_LINK_MAX_AGE"] // 60,
    )


def _gift_and_page(job: MailJob, team: bool = False):
    donation = db.session.get(Donation, job.donation_id)
    link = db.session.scalar(select(PageGift).where(PageGift.donation_id == job.donation_id))
    if donation is None or link is None:
        return None, None
    page_id = link.team_id if team else link.page_id
    return donation, db.session.get(FundraisingPage, page_id) if page_id else None


def gift(job: MailJob) -> EmailMessage | None:
    donation, page = _gift_and_page(job)
    if page is None or page.owner.is_erased:
        return None
    return _message(
        "mailing/page_gift.txt",
        _l("A gift through your page"),
        page.owner,
        page.campaign.organisation.email,
        page=page,
        name=donation.donor.display_name if donation.show_name else None,
        amount_cents=donation.amount_cents if donation.show_name else None,
        raised_cents=fundraising_pages.raised(page)[0],
        url=_page_url(page),
    )


def _goal(job: MailJob, team: bool) -> EmailMessage | None:
    _donation, page = _gift_and_page(job, team)
    if page is None or page.owner.is_erased:
        return None
    return _message(
        "mailing/page_goal.txt",
        _l("Your page reached its goal"),
        page.owner,
        page.campaign.organisation.email,
        page=page,
        raised_cents=fundraising_pages.raised(page)[0],
        url=_page_url(page),
    )


def thanks(job: MailJob) -> EmailMessage | None:
    donation, page = _gift_and_page(job)
    if page is None or donation.donor.is_erased or not page.thanks_message:
        return None
    return _message(
        "mailing/page_thanks.txt",
        _l("A thank-you from %(name)s", name=page.display_name),
        donation.donor,
        page.campaign.organisation.email,
        page=page,
        url=_page_url(page),
    )


def on_confirmation(app, donor_id: int) -> None:
    queue.enqueue_for_donor("page_confirm", donor_id)


def on_gift(app, donation_id: int, page_id: int) -> None:
    queue.enqueue("page_gift", donation_id)


def on_goal(app, donation_id: int, page_id: int) -> None:
    page = db.session.get(FundraisingPage, page_id)
    queue.enqueue("team_goal" if page.is_team else "page_goal", donation_id)


def on_thanks(app, page_id: int) -> None:
    """One job per donor of the page: their latest gift through it that still stands."""
    latest = (
        select(func.max(Donation.id))
        .join(PageGift, PageGift.donation_id == Donation.id)
        .where(PageGift.page_id == page_id, Donation.status == Status.SUCCEEDED)
        .group_by(Donation.donor_id)
    )
    for donation_id in db.session.scalars(latest):
        queue.enqueue("page_thanks", donation_id)


def connect_signals(app) -> None:
    queue.RENDERERS.update(
        page_confirm=confirm,
        page_gift=gift,
        page_goal=lambda job: _goal(job, team=False),
        team_goal=lambda job: _goal(job, team=True),
        page_thanks=thanks,
    )
    page_signals.page_confirmation_requested.connect(on_confirmation, sender=app)
    page_signals.page_gift_received.connect(on_gift, sender=app)
    page_signals.page_goal_reached.connect(on_goal, sender=app)
    page_signals.page_thanks_relayed.connect(on_thanks, sender=app)

"""After a challenge's window: the matcher's statement, the request, and the payment.

- The statement lists each gift the challenge still matches (its day, the gift, the match),
  naming the donor only when they chose to show their name with the gift; nothing else
  about them.
- `ask` fixes the amount requested: what the pool holds when the window has closed.
- `settle` records the matcher's payment as the matcher's own gift to the campaign (a bank
  transfer: deductible, receipted like any gift, by payments' signals) and only when it is
  exactly the amount requested and the pledge has not moved since (else: request again).
  The pledge then leaves the campaign's matched figure as the gift enters its raised one,
  so raised + matched stays the same, and the challenge's lines stand as paid.
"""

from dataclasses import dataclass
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from campaigns import totals
from campaigns.models import TOTAL_SLOTS
from legami import audit
from legami.extensions import db
from legami.i18n import money
from legami.models import User
from legami.timeutil import now_utc, today_rome
from legami.validation import Invalid
from payments import transitions
from payments.matching_models import Challenge, MatchLine
from payments.models import Donation, Method


@dataclass(frozen=True)
class StatementRow:
    received_on: date
    gift_cents: int
    matched_cents: int
    donor_name: str  # empty unless the donor chose to show their name


def statement_rows(challenge: Challenge) -> list[StatementRow]:
    rows = db.session.execute(
        select(MatchLine, Donation)
        .join(Donation, Donation.id == MatchLine.donation_id)
        .where(MatchLine.challenge_id == challenge.id, MatchLine.held_cents > 0)
        .order_by(Donation.received_on, Donation.id)
    ).all()
    return [
        StatementRow(
            received_on=donation.received_on,
            gift_cents=line.base_cents,
            matched_cents=line.held_cents,
            donor_name=donation.donor.display_name if donation.show_name else "",
        )
        for line, donation in rows
    ]


def lock(challenge_id: int) -> Challenge | None:
    return db.session.scalar(
        select(Challenge)
        .where(Challenge.id == challenge_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


def ask(challenge_id: int, user: User | None) -> Challenge:
    """Fix the amount to request from the matcher. The caller commits."""
    challenge = lock(challenge_id)
    if challenge.settled:
        raise Invalid({"amount": _l("The matcher has already paid this challenge.")})
    if today_rome() <= challenge.ends_on:
        raise Invalid({"amount": _l("The challenge's window has not closed yet.")})
    challenge.asked_cents = challenge.committed_cents
    challenge.asked_at = now_utc()
    audit.record(
        user, "matching.ask", f"challenge:{challenge.id}", amount_cents=challenge.asked_cents
    )
    return challenge


def settle(
    challenge_id: int,
    amount_cents: int,
    received_on: date,
    trace_reference: str,
    user: User | None,
) -> Donation:
    """Record the matcher's transfer that pays the pledge. The caller commits."""
    challenge = lock(challenge_id)
    if challenge.settled:
        raise Invalid({"amount": _l("The matcher has already paid this challenge.")})
    if challenge.asked_cents is None:
        raise Invalid({"amount": _l("Request the payment first: the statement fixes it.")})
    if challenge.asked_cents != challenge.committed_cents:
        raise Invalid(
            {
                "amount": _l(
                    "The pledge changed since the request (%(then)s, now %(now)s): "
                    "request the payment again.",
                    then=money(challenge.asked_cents),
                    now=money(challenge.committed_cents),
                )
            }
        )
    if challenge.asked_cents == 0:
        raise Invalid({"amount": _l("Nothing was matched: the matcher owes nothing.")})
    if amount_cents != challenge.asked_cents:
        raise Invalid(
            {
                "amount": _l(
                    "The payment must be the amount requested: %(asked)s.",
                    asked=money(challenge.asked_cents),
                )
            }
        )
    if received_on > today_rome():
        raise Invalid({"received_on": _l("The date cannot be in the future.")})
    gift = Donation(
        campaign_id=challenge.campaign_id,
        organisation_id=challenge.campaign.organisation_id,
        donor_id=challenge.matcher_id,
        amount_cents=amount_cents,
        method=Method.BANK_TRANSFER,
        trace_reference=trace_reference[:100],
        show_name=True,
    )
    db.session.add(gift)
    db.session.flush()
    challenge.settled_donation_id = gift.id
    challenge.settled_at = now_utc()
    db.session.flush()
    _leave_matched_figure(challenge)
    pending = transitions.mark_succeeded(gift.id, received_on=received_on)
    audit.record(
        user,
        "matching.settle",
        f"challenge:{challenge.id}",
        donation_id=gift.id,
        amount_cents=amount_cents,
        received_on=received_on.isoformat(),
    )
    transitions.send(pending)
    return gift


def _leave_matched_figure(challenge: Challenge) -> None:
    """Take the settled lines out of the campaign's matched figure, slot by slot."""
    per_slot = db.session.execute(
        select(
            (MatchLine.donation_id % TOTAL_SLOTS).label("slot"),
            func.sum(MatchLine.held_cents).label("held"),
        )
        .where(MatchLine.challenge_id == challenge.id)
        .group_by("slot")
    ).all()
    for slot, held in per_slot:
        totals.add_matched(challenge.campaign_id, slot, -int(held))


@dataclass(frozen=True)
class Pledged:
    """A challenge's pledge as the dashboard shows it."""

    challenge: Challenge
    pledged_cents: int  # held by its lines now
    asked_cents: int | None
    received_cents: int  # the matcher's payment, once recorded


def pledged_versus_received(campaign_id: int | None = None) -> list[Pledged]:
    query = select(Challenge).order_by(Challenge.ends_on.desc(), Challenge.id)
    if campaign_id is not None:
        query = query.where(Challenge.campaign_id == campaign_id)
    return [
        Pledged(
            challenge=c,
            pledged_cents=c.committed_cents,
            asked_cents=c.asked_cents,
            received_cents=c.settled_donation.net_cents if c.settled_donation else 0,
        )
        for c in db.session.scalars(query)
    ]

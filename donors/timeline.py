"""A donor's history in one list, newest first: gifts and refunds, monthly gifts started and
stopped, mails sent, consents, changed details, interactions, merges into this donor.

Each source gives at most its newest `limit` rows (one indexed query each); the merged list
is cut to `limit` again, so the page stays small however long the history.
"""

from dataclasses import dataclass
from datetime import datetime, time

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from donors.models import ConsentEvent, Donor, DonorChange, DonorMerge, Interaction
from legami.extensions import db
from legami.timeutil import ROME
from mailing.models import MailJob
from payments.models import Donation, RecurringGift, Refund

LIMIT = 100


@dataclass(frozen=True)
class Entry:
    at: datetime  # UTC; for an interaction, known by its day only (see `_interaction_at`)
    kind: str  # created, gift, refund, monthly_started, monthly_stopped, mail, consent,
    # change, interaction, merge
    row: object


def timeline(donor: Donor, limit: int = LIMIT) -> list[Entry]:
    entries = [Entry(donor.created_at, "created", donor)]
    entries += [Entry(_gift_at(d), "gift", d) for d in _gifts(donor.id, limit)]
    entries += [Entry(r.created_at, "refund", r) for r in _refunds(donor.id, limit)]
    for gift in _monthly(donor.id, limit):
        entries.append(Entry(gift.created_at, "monthly_started", gift))
        if gift.cancelled_at:
            entries.append(Entry(gift.cancelled_at, "monthly_stopped", gift))
    entries += [Entry(m.sent_at, "mail", m) for m in _mails(donor.id, limit)]
    entries += [
        Entry(e.occurred_at, "consent", e)
        for e in _newest(ConsentEvent, ConsentEvent.occurred_at, donor.id, limit)
    ]
    entries += [
        Entry(c.changed_at, "change", c)
        for c in _newest(DonorChange, DonorChange.changed_at, donor.id, limit)
    ]
    entries += [Entry(_interaction_at(i), "interaction", i) for i in _interactions(donor.id, limit)]
    entries += [Entry(m.merged_at, "merge", m) for m in _merges(donor.id, limit)]
    entries.sort(key=lambda e: e.at, reverse=True)
    return entries[:limit]


def _gift_at(donation: Donation) -> datetime:
    return donation.succeeded_at or donation.created_at


def _interaction_at(interaction: Interaction) -> datetime:
    """Written down the day it happened: when it was written; otherwise noon of that day."""
    if interaction.created_at.astimezone(ROME).date() == interaction.occurred_on:
        return interaction.created_at
    return datetime.combine(interaction.occurred_on, time(12), ROME)


def _newest(model, column, donor_id: int, limit: int) -> list:
    stmt = select(model).where(model.donor_id == donor_id)
    return db.session.scalars(stmt.order_by(column.desc(), model.id.desc()).limit(limit)).all()


def _gifts(donor_id: int, limit: int) -> list[Donation]:
    return db.session.scalars(
        select(Donation)
        .options(joinedload(Donation.campaign))
        .where(Donation.donor_id == donor_id)
        .order_by(func.coalesce(Donation.succeeded_at, Donation.created_at).desc())
        .limit(limit)
    ).all()


def _refunds(donor_id: int, limit: int) -> list[Refund]:
    return db.session.scalars(
        select(Refund)
        .join(Donation)
        .options(joinedload(Refund.donation))
        .where(Donation.donor_id == donor_id)
        .order_by(Refund.created_at.desc())
        .limit(limit)
    ).all()


def _monthly(donor_id: int, limit: int) -> list[RecurringGift]:
    return db.session.scalars(
        select(RecurringGift)
        .options(joinedload(RecurringGift.campaign))
        .where(RecurringGift.donor_id == donor_id)
        .order_by(RecurringGift.created_at.desc())
        .limit(limit)
    ).all()


def _mails(donor_id: int, limit: int) -> list[MailJob]:
    """Mails sent to the donor, or about one of their gifts: two indexed queries, since an
    OR of the two would scan the whole mail queue."""
    sent = select(MailJob).where(MailJob.sent_at.is_not(None))
    sent = sent.order_by(MailJob.sent_at.desc()).limit(limit)
    to_donor = db.session.scalars(sent.where(MailJob.donor_id == donor_id)).all()
    about_gifts = db.session.scalars(
        sent.join(Donation, MailJob.donation_id == Donation.id).where(Donation.donor_id == donor_id)
    ).all()
    return list({m.id: m for m in [*to_donor, *about_gifts]}.values())


def _interactions(donor_id: int, limit: int) -> list[Interaction]:
    return db.session.scalars(
        select(Interaction)
        .options(joinedload(Interaction.user))
        .where(Interaction.donor_id == donor_id)
        .order_by(Interaction.occurred_on.desc(), Interaction.id.desc())
        .limit(limit)
    ).all()


def _merges(donor_id: int, limit: int) -> list[DonorMerge]:
    return db.session.scalars(
        select(DonorMerge)
        .where(DonorMerge.survivor_id == donor_id)
        .order_by(DonorMerge.merged_at.desc())
        .limit(limit)
    ).all()

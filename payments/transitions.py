"""A donation's state changes: idempotent, and right whatever order the news arrives in.

Each function locks the donation row, applies a fact (paid, failed, refunded so far, disputed)
and returns the signals to send after commit. Facts only move forward: a success after a full
refund leaves the gift refunded; a repeated fact changes nothing.
"""

from datetime import date, datetime

from flask import current_app
from sqlalchemy import select

from legami.extensions import db
from legami.timeutil import ROME, now_utc
from payments import signals
from payments.models import Donation, Status
from payments.totals import counted, move


def lock(donation_id: int) -> Donation | None:
    return db.session.scalar(
        select(Donation)
        .where(Donation.id == donation_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


def mark_succeeded(
    donation: Donation, when: datetime | None = None, received_on: date | None = None
) -> list:
    """The money arrived. Returns the signals to send."""
    if donation.succeeded_at is not None:
        return []
    before = counted(donation)
    when = when or now_utc()
    donation.succeeded_at = when
    donation.received_on = received_on or when.astimezone(ROME).date()
    if donation.status in (Status.PENDING, Status.FAILED, Status.CANCELLED):
        donation.status = Status.SUCCEEDED
    move(donation, before)
    return [(signals.donation_succeeded, {"donation": donation})]


def mark_failed(donation: Donation) -> list:
    if donation.status == Status.PENDING:
        donation.status = Status.FAILED
    return []


def mark_cancelled(donation: Donation) -> list:
    if donation.status == Status.PENDING:
        donation.status = Status.CANCELLED
    return []


def record_refunded_total(donation: Donation, refunded_cents: int) -> list:
    """The provider's running total of refunds for this gift (never a delta: repeats are safe).

    A refund proves the payment happened, so it also settles a gift still pending.
    """
    refunded_cents = min(refunded_cents, donation.amount_cents)
    if refunded_cents <= donation.refunded_cents:
        return []
    pending = []
    before = counted(donation)
    donation.refunded_cents = refunded_cents
    full = refunded_cents >= donation.amount_cents
    if donation.succeeded_at is None:
        donation.succeeded_at = now_utc()
        donation.received_on = donation.succeeded_at.astimezone(ROME).date()
        if not full:  # part of the gift stays given: it is thanked and receipted
            pending.append((signals.donation_succeeded, {"donation": donation}))
    donation.status = Status.REFUNDED if full else Status.SUCCEEDED
    move(donation, before)
    pending.append(
        (signals.donation_refunded, {"donation": donation, "refunded_cents": refunded_cents})
    )
    return pending


def record_dispute(donation: Donation, dispute_status: str) -> list:
    """open -> won or lost; a lost dispute takes the money back like a full refund."""
    order = {None: 0, "open": 1, "won": 2, "lost": 2}
    if order[dispute_status] < order[donation.dispute_status] or (
        donation.dispute_status == dispute_status
    ):
        return []
    donation.dispute_status = dispute_status
    if dispute_status == "lost":
        return record_refunded_total(donation, donation.amount_cents)
    return []


def send(pending: list) -> None:
    """Send the signals of a change, inside its transaction (see payments.signals)."""
    app = current_app._get_current_object()
    for signal, kwargs in pending:
        signal.send(app, **kwargs)

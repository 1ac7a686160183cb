"""A donation's state changes: idempotent, and right whatever order the news arrives in.

Each function applies a fact (paid, failed, refunded so far, disputed) under the donation's
row lock and returns the signals to send. Facts only move forward: a success after a full
refund leaves the gift refunded; a repeated fact changes nothing.
"""

from datetime import date, datetime

from flask import current_app
from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm.util import identity_key

from legami.extensions import db
from legami.timeutil import ROME, now_utc
from payments import signals
from payments.models import Donation, Status
from payments.totals import add, counted, move


def lock(donation_id: int) -> Donation | None:
    return db.session.scalar(
        select(Donation)
        .where(Donation.id == donation_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


# One statement, built once (it runs for every gift): NULL parameters mean "not checked"
# or "keep what is there".
_SUCCEED = (
    update(Donation)
    .where(
        Donation.id == bindparam("b_id"),
        Donation.succeeded_at.is_(None),
        Donation.amount_cents == func.coalesce(bindparam("b_amount"), Donation.amount_cents),
        Donation.currency == func.coalesce(bindparam("b_currency"), Donation.currency),
    )
    .values(
        succeeded_at=bindparam("b_at"),
        received_on=bindparam("b_day"),
        status=Status.SUCCEEDED.value,
        stripe_charge_id=func.coalesce(Donation.stripe_charge_id, bindparam("b_charge")),
        stripe_payment_intent_id=func.coalesce(
            Donation.stripe_payment_intent_id, bindparam("b_intent")
        ),
    )
    .returning(Donation.campaign_id, Donation.donor_id, Donation.amount_cents)
)


def mark_succeeded(
    donation_id: int,
    when: datetime | None = None,
    received_on: date | None = None,
    *,
    amount_cents: int | None = None,
    currency: str | None = None,
    charge_id: str | None = None,
    intent_id: str | None = None,
) -> list:
    """The money arrived: one compare-and-set UPDATE, which also takes the row lock.

    It changes the row only if the gift has not succeeded yet (and, when given, the amount
    and currency match what was promised); a repeat or a concurrent twin changes nothing.
    A gift not yet succeeded counts for nothing in the totals (a refund would have settled
    it), so the campaign and the donor's year gain exactly its amount and one gift.
    Returns the signals to send.
    """
    when = when or now_utc()
    day = received_on or when.astimezone(ROME).date()
    row = (
        db.session.connection()
        .execute(
            _SUCCEED,
            {
                "b_id": donation_id,
                "b_at": when,
                "b_day": day,
                "b_amount": amount_cents,
                "b_currency": currency,
                "b_charge": charge_id,
                "b_intent": intent_id,
            },
        )
        .first()
    )
    if row is None:
        return []
    cached = db.session.identity_map.get(identity_key(Donation, donation_id))
    if cached is not None:
        db.session.expire(cached)
    add(row.campaign_id, donation_id, row.donor_id, day, row.amount_cents, 1)
    return [(signals.donation_succeeded, {"donation_id": donation_id})]


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
            pending.append((signals.donation_succeeded, {"donation_id": donation.id}))
    donation.status = Status.REFUNDED if full else Status.SUCCEEDED
    move(donation, before)
    pending.append(
        (signals.donation_refunded, {"donation_id": donation.id, "refunded_cents": refunded_cents})
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
    pending = [
        (
            signals.donation_disputed,
            {"donation_id": donation.id, "dispute_status": dispute_status},
        )
    ]
    if dispute_status == "lost":
        pending += record_refunded_total(donation, donation.amount_cents)
    return pending


def send(pending: list) -> None:
    """Send the signals of a change, inside its transaction (see payments.signals)."""
    app = current_app._get_current_object()
    for signal, kwargs in pending:
        signal.send(app, **kwargs)

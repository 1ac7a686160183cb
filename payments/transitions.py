"""A donation's state changes: idempotent, and right whatever order the news arrives in.

Each function applies a fact (paid, paid the wrong amount, failed, refunded, disputed) under
the donation's row lock and returns the signals to send. Facts only move forward: a success
after a full refund leaves the gift refunded; a repeated fact changes nothing.

Refunds are rows, one per refund, dated when it was made; a gift's refunded amount is the sum
of its rows still holding money back (pending or succeeded), capped at the gift, so a refund
that fails or is canceled gives the money back to the gift. A lost dispute takes it all.
A gift in review (paid, but not what was asked) keeps its refunds as rows in Stripe's
currency and its refunded amount at zero: it counts in no total until it is resolved.
"""

from datetime import UTC, date, datetime
from functools import cache

from flask import current_app
from sqlalchemy import bindparam, exists, func, or_, select, update
from sqlalchemy.orm.util import identity_key

from legami.extensions import db
from legami.timeutil import ROME, now_utc
from payments import signals, success_facts
from payments.models import (
    REFUND_HOLDING,
    Donation,
    EventState,
    Method,
    PaymentEvent,
    Refund,
    RefundStatus,
    Status,
)
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


# The same, found by the PaymentIntent Legami stored for a card gift (Stripe's success).
_SUCCEED_INTENT = (
    update(Donation)
    .where(
        Donation.stripe_payment_intent_id == bindparam("b_intent"),
        Donation.method == Method.CARD.value,
        Donation.succeeded_at.is_(None),
        Donation.amount_cents == bindparam("b_amount"),
        Donation.currency == bindparam("b_currency"),
    )
    .values(
        succeeded_at=bindparam("b_at"),
        received_on=bindparam("b_day"),
        status=Status.SUCCEEDED.value,
        stripe_charge_id=func.coalesce(Donation.stripe_charge_id, bindparam("b_charge")),
    )
    .returning(
        Donation.id,
        Donation.campaign_id,
        Donation.donor_id,
        Donation.amount_cents,
        # Whether news of this payment waits for it (payments.webhooks), in the same trip:
        # the gift's flag is read from the row as locked (an event that parked while this
        # UPDATE waited for the row is seen), the rest as of the statement's start.
        or_(
            Donation.parked_events,
            exists().where(
                PaymentEvent.state == EventState.PARKED.value,
                PaymentEvent.awaits.in_([bindparam("b_intent"), bindparam("b_charge")]),
            ),
        ).label("parked"),
    )
)


@cache
def _with_facts(statement: str, fact_names: tuple[str, ...]):
    """A success statement that also returns the receivers' facts (payments.success_facts)."""
    base = {"id": _SUCCEED, "intent": _SUCCEED_INTENT}[statement]
    return base.returning(*success_facts.columns(fact_names))


def succeed_intent(
    intent_id: str, when: datetime, amount_cents: int, currency: str, charge_id: str | None
) -> tuple[int | None, list, bool]:
    """Stripe's PaymentIntent succeeded: the card gift that stored this intent, if it has not
    succeeded yet and asked this amount and currency, succeeds in one UPDATE. Returns (its id,
    the signals, whether events parked on the intent or charge wait for it), or (None, [],
    False) when no such gift changed."""
    day = when.astimezone(ROME).date()
    facts = success_facts.names()
    row = (
        db.session.connection()
        .execute(
            _with_facts("intent", facts),
            {
                "b_intent": intent_id,
                "b_at": when,
                "b_day": day,
                "b_amount": amount_cents,
                "b_currency": currency,
                "b_charge": charge_id,
            },
        )
        .first()
    )
    if row is None:
        return None, [], False
    success_facts.remember(row.id, row, facts)
    _forget(row.id)
    add(row.campaign_id, row.id, row.donor_id, day, row.amount_cents, 1)
    return row.id, [(signals.donation_succeeded, {"donation_id": row.id})], row.parked


def _forget(donation_id: int) -> None:
    cached = db.session.identity_map.get(identity_key(Donation, donation_id))
    if cached is not None:
        db.session.expire(cached)


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
    facts = success_facts.names()
    row = (
        db.session.connection()
        .execute(
            _with_facts("id", facts),
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
    success_facts.remember(donation_id, row, facts)
    _forget(donation_id)
    add(row.campaign_id, donation_id, row.donor_id, day, row.amount_cents, 1)
    return [(signals.donation_succeeded, {"donation_id": donation_id})]


def mark_review(
    donation: Donation, paid_cents: int, paid_currency: str, when: datetime, charge_id=None
) -> list:
    """The money arrived, but not the amount or currency asked for: the gift waits for the
    treasurer in review, with what Stripe says was paid. It adds nothing to any total."""
    if donation.succeeded_at is not None:
        return []
    donation.status = Status.REVIEW
    donation.stripe_paid_cents = paid_cents
    donation.stripe_paid_currency = paid_currency
    donation.succeeded_at = when
    donation.received_on = when.astimezone(ROME).date()
    donation.stripe_charge_id = donation.stripe_charge_id or charge_id
    return []


def accept_review(donation: Donation) -> list:
    """The treasurer accepts a gift in review as paid with what Stripe charged, which is in
    the gift's own currency: it succeeds with that amount, counts in the totals and is
    thanked and receipted; refunds already made on it then count as on any gift. The caller
    holds the row lock."""
    if donation.status != Status.REVIEW or donation.stripe_paid_currency != donation.currency:
        return []
    donation.amount_cents = donation.stripe_paid_cents
    donation.status = Status.SUCCEEDED
    donation.refunded_cents = 0
    db.session.flush()
    add(
        donation.campaign_id,
        donation.id,
        donation.donor_id,
        donation.received_on,
        donation.amount_cents,
        1,
    )
    return [
        (signals.donation_succeeded, {"donation_id": donation.id}),
        *_refresh_refunded(donation),
    ]


def reject_review(donation: Donation) -> list:
    """The treasurer does not accept a gift in review: it is cancelled and counts in no total
    (what Stripe charged is refunded by the caller, as rows in Stripe's currency)."""
    if donation.status == Status.REVIEW:
        donation.status = Status.CANCELLED
    return []


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
    if donation.status == Status.REVIEW:
        return []
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


def set_refunded_total(donation: Donation, refunded_cents: int) -> list:
    """A received gift's refunded amount is now this, up (a refund, a lost dispute) or down
    (a refund that failed); the gift, its totals and its receipt follow."""
    if donation.status not in (Status.SUCCEEDED, Status.REFUNDED):
        return []
    if donation.dispute_status == "lost":
        refunded_cents = donation.amount_cents
    refunded_cents = max(0, min(refunded_cents, donation.amount_cents))
    if refunded_cents == donation.refunded_cents:
        return []
    before = counted(donation)
    donation.refunded_cents = refunded_cents
    full = refunded_cents >= donation.amount_cents
    donation.status = Status.REFUNDED if full else Status.SUCCEEDED
    move(donation, before)
    return [
        (signals.donation_refunded, {"donation_id": donation.id, "refunded_cents": refunded_cents})
    ]


_RANK = {"pending": 0, "requires_action": 0, "succeeded": 1, "failed": 2, "canceled": 2}


def record_stripe_refunds(donation: Donation, refunds: list[dict], when: datetime) -> list:
    """Stripe's refund objects, each its own dated row (once, by its Stripe id; its state
    only moves forward: pending, succeeded, then failed or canceled), then the gift's total.

    A refund Stripe's charge total already reported (a row without an id, see
    record_charge_total) is taken over by it rather than counted twice.
    """
    for refund in refunds:
        refund_id, amount = refund.get("id"), refund.get("amount")
        status = refund.get("status")
        status = status if status in _RANK else RefundStatus.SUCCEEDED.value
        if not isinstance(refund_id, str) or not isinstance(amount, int) or amount <= 0:
            continue
        ended = when if status in (RefundStatus.FAILED, RefundStatus.CANCELED) else None
        row = db.session.scalar(select(Refund).where(Refund.stripe_refund_id == refund_id))
        if row is not None:
            if _RANK[status] > _RANK[row.status]:
                row.status, row.ended_at = status, ended
            continue
        _take_from_reported(donation, amount)
        made = refund.get("created")
        db.session.add(
            Refund(
                donation_id=donation.id,
                amount_cents=amount,
                currency=str(refund.get("currency") or donation.currency).upper()[:3],
                status=status,
                ended_at=ended,
                stripe_refund_id=refund_id[:100],
                reason=str(refund.get("reason") or "")[:300],
                created_at=datetime.fromtimestamp(made, UTC) if isinstance(made, int) else when,
            )
        )
    db.session.flush()
    return _refresh_refunded(donation)


def record_charge_total(
    donation: Donation, refunded_cents: int, currency: str, when: datetime
) -> list:
    """Stripe's charge says `refunded_cents` were refunded at `when` (charge.refunded, which
    since API 2022-11-15 no longer lists the refunds). What the known refunds holding money
    at `when` do not explain is a row of its own, dated `when`, until its refund event names
    it. Known refunds made after `when` count too: an older total never adds a row for a
    refund already known, only (at worst) waits for an unknown one's own event."""
    known = db.session.scalar(
        select(func.coalesce(func.sum(Refund.amount_cents), 0)).where(
            Refund.donation_id == donation.id,
            or_(Refund.status.in_([s.value for s in REFUND_HOLDING]), Refund.ended_at > when),
        )
    )
    missing = refunded_cents - known
    if missing > 0:
        db.session.add(
            Refund(
                donation_id=donation.id,
                amount_cents=missing,
                currency=currency,
                created_at=when,
            )
        )
        db.session.flush()
    return _refresh_refunded(donation)


def _take_from_reported(donation: Donation, amount: int) -> None:
    """A refund now known by its id replaces that much of the rows a charge total made."""
    if donation.method != Method.CARD:
        return
    reported = db.session.scalars(
        select(Refund)
        .where(Refund.donation_id == donation.id, Refund.stripe_refund_id.is_(None))
        .order_by(Refund.created_at, Refund.id)
    ).all()
    for row in reported:
        if amount <= 0:
            return
        taken = min(amount, row.amount_cents)
        amount -= taken
        if taken == row.amount_cents:
            db.session.delete(row)
        else:
            row.amount_cents -= taken


def _refresh_refunded(donation: Donation) -> list:
    holding = db.session.scalar(
        select(func.coalesce(func.sum(Refund.amount_cents), 0)).where(
            Refund.donation_id == donation.id,
            Refund.status.in_([s.value for s in REFUND_HOLDING]),
        )
    )
    return set_refunded_total(donation, holding)


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
        pending += set_refunded_total(donation, donation.amount_cents)
    return pending


def send(pending: list) -> None:
    """Send the signals of a change, inside its transaction (see payments.signals).

    A gift that succeeded and was refunded in full in the same change (a refund that waited
    for its payment) is not thanked: nothing of it remains.
    """
    app = current_app._get_current_object()
    refunded = {k["donation_id"] for s, k in pending if s is signals.donation_refunded}
    for signal, kwargs in pending:
        if signal is signals.donation_succeeded and kwargs["donation_id"] in refunded:
            donation = db.session.get(Donation, kwargs["donation_id"])
            if donation.net_cents <= 0:
                continue
        signal.send(app, **kwargs)


def mark_unconfirmed(donation: Donation) -> list:
    """The bank took back a confirmed transfer before anything was issued for it: the gift is
    pending again and counts for nothing (a later payment confirms it anew). The caller holds
    the row lock and has asked that nothing documents the gift (treasury.reverse_transfer).
    """
    if donation.status != Status.SUCCEEDED or donation.refunded_cents:
        return []
    before = counted(donation)
    donation.status = Status.PENDING
    move(donation, before)
    donation.succeeded_at = None
    donation.received_on = None
    return [(signals.donation_unconfirmed, {"donation_id": donation.id})]

"""Stripe webhooks: verified, stored once, applied as idempotent transitions.

What this module guarantees, for every API version Stripe may send (2022 to today):

- Exactly once. A repeated event id stops at the unique index (under concurrency too: the
  second insert waits for the first to commit, then fails). A handler that raises rolls
  everything back and the endpoint answers 500, so Stripe delivers the event again.
- Which gift. A PaymentIntent settles only the card gift that stored its id when Legami
  created it (before the browser could confirm it); its metadata is never trusted, so no
  PaymentIntent can settle a bank transfer or another gift. Events of connected accounts
  (with `account`) are stored and ignored.
- Monthly gifts. The payment behind a paid invoice is read where the API version puts it:
  the invoice's `payments` (2025-03-31 and later, when expanded), `invoice_payment.paid`, or
  the invoice's `charge` / `payment_intent` (earlier versions); failing all, from Stripe.
- Nothing is dropped. A refund, dispute or invoice payment about a gift Legami does not have
  yet (or has not been paid yet) is parked on the payment key it waits for, and applied, in
  the events' own time order, in the transaction that creates or settles that gift. A gift
  that exists is serialised by its row lock; one that does not yet by a lock on its payment
  keys, taken both by the event that parks and by the one that creates the gift (an advisory
  lock on PostgreSQL, the write lock on SQLite), so a concurrent pair never misses each other.
- What was asked is what was paid. A PaymentIntent, charge or invoice whose amount or
  currency differs from the gift's puts it in review (payments.models.Status.REVIEW) with
  what Stripe says was paid; its refunds are recorded as rows in Stripe's currency and it
  counts in no total until the treasurer resolves it.
- Refunds. Each refund is its own dated row (refund.created / refund.updated /
  charge.refund.updated, and the list older versions put in charge.refunded); since
  2022-11-15 charge.refunded only gives the total, and what no known refund explains is
  recorded, dated, until its refund event names it (see payments.transitions).
- Monthly states move forward by the event's own `created` time: a stopped gift stays
  stopped, and older news (a failure before the last payment) changes nothing.
"""

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache

import stripe
from flask import current_app
from sqlalchemy import bindparam, or_, select, text, update

from legami.extensions import db
from legami.sql import upsert_insert
from legami.timeutil import now_utc
from payments import stripe_gateway, totals, transitions
from payments.models import (
    Donation,
    EventState,
    Frequency,
    Method,
    PaymentEvent,
    RecurringGift,
    RecurringStatus,
    Status,
)

TOLERANCE_SECONDS = 300


class BadWebhook(ValueError):
    pass


@dataclass
class Result:
    duplicate: bool
    outcome: str


@dataclass
class Outcome:
    """What an event did: its text for the treasurer, the gift, the signals to send, its
    state and, when parked, the payment key it waits for."""

    text: str
    donation_id: int | None = None
    pending: list = field(default_factory=list)
    state: str = EventState.APPLIED
    awaits: str | None = None


def _ignored(text_: str, donation_id: int | None = None) -> Outcome:
    return Outcome(f"ignored: {text_}", donation_id, state=EventState.IGNORED)


def _parked(keys: list[str], what: str, donation: Donation | None = None) -> Outcome:
    """Waits for the first key; a gift that exists (row-locked) is flagged for its success."""
    if donation is not None:
        donation.parked_events = True
    return Outcome(
        f"parked: waits for {what} {keys[0]}",
        donation.id if donation else None,
        state=EventState.PARKED,
        awaits=keys[0],
    )


def verify(payload: bytes, signature: str, secret: str) -> dict:
    """The event, if the Stripe-Signature header is right and fresh; BadWebhook otherwise."""
    if not secret:
        raise BadWebhook("STRIPE_WEBHOOK_SECRET is not configured")
    try:
        text_ = payload.decode("utf-8")
        stripe.WebhookSignature.verify_header(text_, signature, secret, TOLERANCE_SECONDS)
    except (stripe.SignatureVerificationError, UnicodeDecodeError) as exc:
        raise BadWebhook(f"signature: {exc}") from exc
    try:
        event = json.loads(text_)
        event["id"], event["type"], event["data"]["object"]
    except (ValueError, KeyError, TypeError) as exc:
        raise BadWebhook("malformed event") from exc
    if not isinstance(event["id"], str) or not isinstance(event["data"]["object"], dict):
        raise BadWebhook("malformed event")
    return event


@cache
def _store_statement(dialect: str):
    # Built once: it runs for every event.
    return (
        upsert_insert(PaymentEvent)
        .values(
            provider="stripe",
            event_id=bindparam("b_event"),
            type=bindparam("b_type"),
            payload=bindparam("b_payload"),
            outcome=bindparam("b_outcome"),
            state=bindparam("b_state"),
            awaits=bindparam("b_awaits"),
            occurred_at=bindparam("b_occurred"),
            donation_id=bindparam("b_donation"),
            received_at=bindparam("b_at"),
        )
        .on_conflict_do_nothing(index_elements=["provider", "event_id"])
        .returning(PaymentEvent.id)
    )


def process(event: dict, payload: bytes) -> Result:
    """Apply the event, store it and send its signals, in one transaction.

    The event row goes in last, with ON CONFLICT DO NOTHING: a repeat (or a concurrent
    twin, which waits for the first to commit) applies nothing new, because every
    transition is idempotent, then finds its id taken and rolls back. The campaign's and
    donor's totals are written after it, just before the commit (payments.totals), so their
    shared rows stay locked for as short a time as possible.
    """
    created = _created(event)
    with totals.deferred():
        outcome = _outcome(event, created)
        db.session.flush()
        row_id = (
            db.session.connection()
            .execute(
                _store_statement(db.engine.dialect.name),
                {
                    "b_event": event["id"],
                    "b_type": str(event["type"])[:100],
                    "b_payload": payload.decode("utf-8"),
                    "b_outcome": outcome.text[:300],
                    "b_state": outcome.state,
                    "b_awaits": outcome.awaits,
                    "b_occurred": created,
                    "b_donation": outcome.donation_id,
                    "b_at": now_utc(),
                },
            )
            .scalar()
        )
        if row_id is None:
            db.session.rollback()
            return Result(duplicate=True, outcome="duplicate")
        transitions.send(outcome.pending)
        # Last: the totals' rows are shared by every gift of a campaign and of a donor.
        totals.apply_deferred()
        db.session.commit()
    return Result(duplicate=False, outcome=outcome.text)


def _outcome(event: dict, created: datetime) -> Outcome:
    if event.get("account"):
        return _ignored(f"an event of connected account {str(event['account'])[:40]}")
    handler = HANDLERS.get(event["type"])
    if handler is None:
        return _ignored("not an event Legami acts on")
    obj = event["data"]["object"]
    complete = COMPLETE.get(event["type"])
    if complete is not None:
        obj = complete(obj)  # may ask Stripe: before the transaction takes any lock
    return handler(obj, created)


def _id(value) -> str | None:
    """An expandable field: an id, or the object itself (as localstripe sends it)."""
    value = value.get("id") if isinstance(value, dict) else value
    return value[:100] if isinstance(value, str) and value else None


def _created(event: dict) -> datetime:
    created = event.get("created")
    return datetime.fromtimestamp(created, UTC) if isinstance(created, int) else now_utc()


def _time(value, default: datetime) -> datetime:
    return datetime.fromtimestamp(value, UTC) if isinstance(value, int) else default


def _currency(obj: dict) -> str:
    return str(obj.get("currency") or "").upper()[:3]


def _keys(*values: str | None) -> list[str]:
    return [v for v in dict.fromkeys(values) if v]


def _lock_keys(keys: list[str]) -> None:
    """Serialise, in this transaction, the events about payment keys whose gift may not
    exist yet: an event parked on a key and the gift that appears with it never miss each
    other. PostgreSQL: an advisory lock per key, in one order. SQLite has one writer at a
    time: its write lock, taken before reading."""
    if db.engine.dialect.name == "postgresql":
        for key in sorted(keys):
            db.session.execute(
                text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"), {"key": key}
            )
    else:
        db.session.execute(text("UPDATE payment_events SET state = state WHERE 1 = 0"))


def _lock(donation_id: int | None) -> Donation | None:
    return transitions.lock(donation_id) if donation_id else None


def _find_locked(keys: list[str], find: Callable[[], int | None]) -> Donation | None:
    """The gift `find` names, row-locked. A gift that exists is serialised by its row lock
    (as its payment's success is); only when there is none yet are the keys locked, and it
    is looked for again. Handlers applied from the park run with their gift there, so they
    take no key lock while holding a row (no lock order to invert)."""
    if db.engine.dialect.name != "postgresql":
        _lock_keys(keys)
    donation = _lock(find())
    if donation is None and db.engine.dialect.name == "postgresql":
        _lock_keys(keys)
        donation = _lock(find())
    return donation


def _gift_for_payment(intent_id: str | None, charge_id: str | None) -> Donation | None:
    conditions = []
    if intent_id:
        conditions.append(Donation.stripe_payment_intent_id == intent_id)
    if charge_id:
        conditions.append(Donation.stripe_charge_id == charge_id)
    if not conditions:
        return None
    return _find_locked(
        _keys(intent_id, charge_id),
        lambda: db.session.scalar(select(Donation.id).where(or_(*conditions)).limit(1)),
    )


def _apply_parked(keys: list[str]) -> list:
    """Apply the events parked on these keys, oldest first (by their own time); returns
    their signals. Each runs its handler again, now that its gift is there."""
    keys, pending, tried = _keys(*keys), [], []
    while keys:
        row = db.session.execute(
            select(
                PaymentEvent.id, PaymentEvent.type, PaymentEvent.payload, PaymentEvent.occurred_at
            )
            .where(
                PaymentEvent.state == EventState.PARKED.value,
                PaymentEvent.awaits.in_(keys),
                PaymentEvent.id.not_in(tried),
            )
            .order_by(PaymentEvent.occurred_at, PaymentEvent.id)
            .limit(1)
        ).first()
        if row is None:
            break
        tried.append(row.id)
        # Taken out of the queue first, so that its own handler never applies it again.
        _update_event(row.id, state=EventState.APPLIED.value)
        obj = json.loads(row.payload)["data"]["object"]
        outcome = HANDLERS[row.type](obj, row.occurred_at or now_utc())
        _update_event(
            row.id,
            state=outcome.state,
            awaits=outcome.awaits,
            outcome=outcome.text[:300],
            donation_id=outcome.donation_id,
        )
        pending += outcome.pending
    return pending


def _update_event(event_row_id: int, **values) -> None:
    db.session.execute(update(PaymentEvent).where(PaymentEvent.id == event_row_id).values(**values))


# One-off card gifts ---------------------------------------------------------------------


def on_intent_succeeded(intent: dict, created: datetime) -> Outcome:
    intent_id = _id(intent.get("id"))
    if intent_id is None:
        return _ignored("a PaymentIntent without an id")
    received = intent.get("amount_received") or intent.get("amount")
    if not isinstance(received, int):
        return _ignored("a PaymentIntent without its amount")
    currency, charge_id = _currency(intent), _id(intent.get("latest_charge"))
    donation_id, pending, parked = transitions.succeed_intent(
        intent_id, created, received, currency, charge_id
    )
    if donation_id is not None:
        if parked:
            pending += _apply_parked([intent_id, charge_id])
        return Outcome("succeeded", donation_id, pending)
    donation = _lock(_card_gift_id(intent_id))
    if donation is None:
        return _not_ours(intent)
    if donation.succeeded_at is not None:
        return Outcome(f"already {donation.status}", donation.id)
    pending = transitions.mark_review(donation, received, currency, created, charge_id)
    return Outcome(
        _review_text(received, currency, donation),
        donation.id,
        pending + _apply_parked([intent_id, charge_id]),
    )


def _card_gift_id(intent_id: str | None) -> int | None:
    if not intent_id:
        return None
    return db.session.scalar(
        select(Donation.id).where(
            Donation.stripe_payment_intent_id == intent_id, Donation.method == Method.CARD.value
        )
    )


def _not_ours(intent: dict) -> Outcome:
    claimed = str((intent.get("metadata") or {}).get("donation_id", ""))[:20]
    if claimed:
        return _ignored(f"not the PaymentIntent Legami made for gift {claimed}")
    return _ignored("no gift for this PaymentIntent")


def _review_text(paid, currency: str, donation: Donation) -> str:
    return (
        f"needs review: paid {paid} {currency}, asked {donation.amount_cents} {donation.currency}"
    )


def on_intent_failed(intent: dict, created: datetime) -> Outcome:
    donation = _lock(_card_gift_id(_id(intent.get("id"))))
    if donation is None:
        return _not_ours(intent)
    transitions.mark_failed(donation)
    return Outcome(f"payment failed; gift is {donation.status}", donation.id)


# Refunds and disputes -------------------------------------------------------------------


def _settle_by_charge(donation: Donation, charge: dict, created: datetime) -> list:
    """A refunded charge was paid: it settles a gift still waiting for its PaymentIntent's
    success, if it is the amount and currency asked for (else the gift goes to review)."""
    paid = charge.get("amount")
    when = _time(charge.get("created"), created)
    intent_id, charge_id = _id(charge.get("payment_intent")), _id(charge.get("id"))
    pending = []
    if isinstance(paid, int):
        pending = transitions.mark_succeeded(
            donation.id,
            when=when,
            amount_cents=paid,
            currency=_currency(charge) or None,
            charge_id=charge_id,
            intent_id=intent_id,
        )
    if not pending:
        transitions.mark_review(
            transitions.lock(donation.id), int(paid or 0), _currency(charge), when, charge_id
        )
    return pending + _apply_parked([intent_id, charge_id])


def on_charge_refunded(charge: dict, created: datetime) -> Outcome:
    intent_id, charge_id = _id(charge.get("payment_intent")), _id(charge.get("id"))
    keys = _keys(intent_id, charge_id)
    if not keys:
        return _ignored("a charge without an id")
    donation = _gift_for_payment(intent_id, charge_id)
    if donation is None:
        return _parked(keys, "the gift of payment")
    pending = []
    if donation.succeeded_at is None:
        pending += _settle_by_charge(donation, charge, created)
        donation = transitions.lock(donation.id)
    listed = (charge.get("refunds") or {}).get("data")
    if isinstance(listed, list):
        pending += transitions.record_stripe_refunds(donation, listed, created)
    refunded = charge.get("amount_refunded")
    if isinstance(refunded, int):
        currency = _currency(charge) or donation.currency
        pending += transitions.record_charge_total(donation, refunded, currency, created)
    return Outcome(_refund_text(donation), donation.id, pending)


def _refund_text(donation: Donation) -> str:
    if donation.status == Status.REVIEW:
        return f"refund recorded on a gift in review (paid {donation.stripe_paid_cents})"
    return f"refunded {donation.refunded_cents} of {donation.amount_cents}"


def on_refund(refund: dict, created: datetime) -> Outcome:
    """refund.created / refund.updated / refund.failed and charge.refund.updated: a refund,
    made by Legami or in Stripe's dashboard, with its state."""
    intent_id, charge_id = _id(refund.get("payment_intent")), _id(refund.get("charge"))
    keys = _keys(intent_id, charge_id)
    if not keys or not _id(refund.get("id")):
        return _ignored("a refund without its payment")
    donation = _gift_for_payment(intent_id, charge_id)
    if donation is None or donation.succeeded_at is None:
        return _parked(keys, "the payment", donation)
    pending = transitions.record_stripe_refunds(donation, [refund], created)
    return Outcome(_refund_text(donation), donation.id, pending)


DISPUTE_STATES = {"won": "won", "lost": "lost", "warning_closed": "won"}


def on_dispute(dispute: dict, created: datetime) -> Outcome:
    intent_id, charge_id = _id(dispute.get("payment_intent")), _id(dispute.get("charge"))
    keys = _keys(intent_id, charge_id)
    if not keys:
        return _ignored("a dispute without its payment")
    donation = _gift_for_payment(intent_id, charge_id)
    if donation is None or donation.succeeded_at is None:
        return _parked(keys, "the payment", donation)
    state = DISPUTE_STATES.get(dispute.get("status", ""), "open")
    pending = transitions.record_dispute(donation, state)
    return Outcome(f"dispute {state}", donation.id, pending)


# Monthly gifts --------------------------------------------------------------------------


def _subscription_id(invoice: dict) -> str | None:
    # 2025-03-31 moved it under parent.subscription_details.
    parent = (invoice.get("parent") or {}).get("subscription_details") or {}
    return _id(invoice.get("subscription")) or _id(parent.get("subscription"))


def _invoice_payment(invoice: dict) -> tuple[str | None, str | None]:
    """(PaymentIntent, charge) that paid the invoice, where this API version puts them."""
    payments = (invoice.get("payments") or {}).get("data") or []
    for paid in sorted(payments, key=lambda p: p.get("status") != "paid"):
        payment = paid.get("payment") or {}
        intent_id, charge_id = _id(payment.get("payment_intent")), _id(payment.get("charge"))
        if intent_id or charge_id:
            return intent_id, charge_id
    return _id(invoice.get("payment_intent")), _id(invoice.get("charge"))


def complete_invoice(invoice: dict) -> dict:
    """A paid invoice that does not say which payment paid it (2025-03-31 and later, with
    `payments` not expanded) is completed from Stripe, before any lock is taken. Without
    Stripe keys (or if Stripe does not know it) it stays as it is: invoice_payment.paid
    will name the payment."""
    if any(_invoice_payment(invoice)) or not invoice.get("amount_paid"):
        return invoice
    if not current_app.config.get("STRIPE_SECRET_KEY") or not _id(invoice.get("id")):
        return invoice
    try:
        found = stripe_gateway.invoice_payment(invoice["id"])
    except stripe.InvalidRequestError:  # Stripe does not know it: nothing to add
        return invoice
    return {**invoice, **found}


def _recurring(subscription_id: str | None) -> RecurringGift | None:
    if not subscription_id:
        return None
    return db.session.scalar(
        select(RecurringGift)
        .where(RecurringGift.stripe_subscription_id == subscription_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


def _move(gift: RecurringGift, state: str, when: datetime) -> bool:
    """The gift's state, unless this news is older than the last applied (at the same
    second, the later delivery wins); a stopped gift stays stopped."""
    last = gift.status_changed_at
    if gift.status == RecurringStatus.CANCELLED or (last is not None and when < last):
        return False
    gift.status, gift.status_changed_at = state, when
    if state == RecurringStatus.CANCELLED:
        gift.cancelled_at = when
    return True


def on_invoice_paid(invoice: dict, created: datetime) -> Outcome:
    invoice_id, subscription_id = _id(invoice.get("id")), _subscription_id(invoice)
    if invoice_id is None or subscription_id is None:
        return _ignored("not an invoice of a subscription")
    paid = invoice.get("amount_paid")
    if not isinstance(paid, int) or paid <= 0:
        return _ignored("nothing paid on this invoice")
    intent_id, charge_id = _invoice_payment(invoice)
    keys = _keys(invoice_id, intent_id, charge_id)
    _lock_keys(keys)
    gift = _recurring(subscription_id)
    if gift is None:
        return _parked([subscription_id], "the monthly gift of subscription")
    keys.append(subscription_id)
    moved = _move(gift, RecurringStatus.ACTIVE, created)
    donation_id = db.session.scalar(
        select(Donation.id).where(Donation.stripe_invoice_id == invoice_id)
    )
    if donation_id is not None:
        donation = transitions.lock(donation_id)
        _link(donation, intent_id, charge_id)
        pending = _apply_parked(keys)
        return Outcome("already received", donation_id, pending)
    when = _time((invoice.get("status_transitions") or {}).get("paid_at"), created)
    currency = _currency(invoice)
    donation = Donation(
        campaign_id=gift.campaign_id,
        organisation_id=gift.campaign.organisation_id,
        donor_id=gift.donor_id,
        recurring_gift=gift,
        amount_cents=gift.amount_cents,
        currency=gift.currency,
        method=Method.CARD,
        frequency=Frequency.MONTHLY,
        stripe_invoice_id=invoice_id,
    )
    db.session.add(donation)
    _link(donation, intent_id, charge_id)
    db.session.flush()
    if (paid, currency) == (gift.amount_cents, gift.currency):
        pending = transitions.mark_succeeded(donation.id, when=when)
        text_ = "monthly gift received" + ("" if moved else f"; gift stays {gift.status}")
    else:
        pending = transitions.mark_review(donation, paid, currency, when)
        text_ = _review_text(paid, currency, donation)
    return Outcome(text_, donation.id, pending + _apply_parked(keys))


def _link(donation: Donation, intent_id: str | None, charge_id: str | None) -> None:
    """Give a monthly gift the payment that paid its invoice, once, if no other gift has it."""
    if intent_id and donation.stripe_payment_intent_id is None:
        taken = db.session.scalar(
            select(Donation.id).where(Donation.stripe_payment_intent_id == intent_id)
        )
        if taken is None:
            donation.stripe_payment_intent_id = intent_id
    if charge_id and donation.stripe_charge_id is None:
        donation.stripe_charge_id = charge_id


def on_invoice_payment_paid(payment: dict, created: datetime) -> Outcome:
    """invoice_payment.paid (2025-03-31 and later): which PaymentIntent or charge paid which
    invoice."""
    invoice_id = _id(payment.get("invoice"))
    paid = payment.get("payment") or {}
    intent_id, charge_id = _id(paid.get("payment_intent")), _id(paid.get("charge"))
    if invoice_id is None or not (intent_id or charge_id):
        return _ignored("an invoice payment without its invoice or payment")
    keys = _keys(invoice_id, intent_id, charge_id)
    donation = _find_locked(
        keys,
        lambda: db.session.scalar(
            select(Donation.id).where(Donation.stripe_invoice_id == invoice_id)
        ),
    )
    if donation is None:
        return _parked([invoice_id], "the monthly gift of invoice")
    _link(donation, intent_id, charge_id)
    db.session.flush()
    return Outcome("payment of the monthly gift noted", donation.id, _apply_parked(keys))


def on_invoice_failed(invoice: dict, created: datetime) -> Outcome:
    subscription_id = _subscription_id(invoice)
    gift = _recurring(subscription_id)
    if gift is None:
        return _ignored("no monthly gift for this invoice")
    moved = _move(gift, RecurringStatus.PAST_DUE, created)
    pending = _apply_parked([subscription_id])
    if moved:
        return Outcome(f"monthly payment failed; gift {gift.token[:6]} past due", pending=pending)
    return Outcome(f"older than the gift's state; gift stays {gift.status}", pending=pending)


SUBSCRIPTION_STATES = {
    "active": RecurringStatus.ACTIVE,
    "trialing": RecurringStatus.ACTIVE,
    "past_due": RecurringStatus.PAST_DUE,
    "unpaid": RecurringStatus.PAST_DUE,
    "incomplete": RecurringStatus.INCOMPLETE,
    "canceled": RecurringStatus.CANCELLED,
    "incomplete_expired": RecurringStatus.CANCELLED,
}


def on_subscription_changed(subscription: dict, created: datetime) -> Outcome:
    subscription_id = _id(subscription.get("id"))
    gift = _recurring(subscription_id)
    if gift is None:
        return _ignored("no monthly gift for this subscription")
    state = SUBSCRIPTION_STATES.get(subscription.get("status", ""))
    moved = state is not None and _move(gift, state, created)
    pending = _apply_parked([subscription_id])
    return Outcome(
        f"monthly gift {state}" if moved else f"monthly gift stays {gift.status}", pending=pending
    )


def on_subscription_deleted(subscription: dict, created: datetime) -> Outcome:
    return on_subscription_changed({**subscription, "status": "canceled"}, created)


HANDLERS: dict[str, Callable[[dict, datetime], Outcome]] = {
    "payment_intent.succeeded": on_intent_succeeded,
    "payment_intent.payment_failed": on_intent_failed,
    "charge.refunded": on_charge_refunded,
    "charge.refund.updated": on_refund,
    "refund.created": on_refund,
    "refund.updated": on_refund,
    "refund.failed": on_refund,
    "charge.dispute.created": on_dispute,
    "charge.dispute.updated": on_dispute,
    "charge.dispute.closed": on_dispute,
    "invoice.paid": on_invoice_paid,
    "invoice_payment.paid": on_invoice_payment_paid,
    "invoice.payment_failed": on_invoice_failed,
    "customer.subscription.updated": on_subscription_changed,
    "customer.subscription.deleted": on_subscription_deleted,
}
# Run before the transaction: they may ask Stripe for what the event leaves out.
COMPLETE: dict[str, Callable[[dict], dict]] = {"invoice.paid": complete_invoice}

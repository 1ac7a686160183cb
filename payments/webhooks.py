"""Stripe webhooks: verified, stored once, applied as idempotent transitions.

A repeated event id stops at the unique index (under concurrency too: the second insert waits
for the first to commit, then fails). A handler that raises rolls everything back and the
endpoint answers 500, so Stripe delivers the event again.
"""

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache

import stripe
from sqlalchemy import bindparam, or_, select

from legami.extensions import db
from legami.sql import upsert_insert
from legami.timeutil import now_utc
from payments import transitions
from payments.models import (
    Donation,
    Frequency,
    Method,
    PaymentEvent,
    RecurringGift,
    RecurringStatus,
    Refund,
)

TOLERANCE_SECONDS = 300


class BadWebhook(ValueError):
    pass


@dataclass
class Result:
    duplicate: bool
    outcome: str


def verify(payload: bytes, signature: str, secret: str) -> dict:
    """The event, if the Stripe-Signature header is right and fresh; BadWebhook otherwise."""
    if not secret:
        raise BadWebhook("STRIPE_WEBHOOK_SECRET is not configured")
    try:
        text = payload.decode("utf-8")
        stripe.WebhookSignature.verify_header(text, signature, secret, TOLERANCE_SECONDS)
    except (stripe.SignatureVerificationError, UnicodeDecodeError) as exc:
        raise BadWebhook(f"signature: {exc}") from exc
    try:
        event = json.loads(text)
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
    transition is idempotent, then finds its id taken and rolls back.
    """
    handler = HANDLERS.get(event["type"])
    donation_id, outcome, pending = None, "ignored: not an event Legami acts on", []
    if handler is not None:
        donation_id, outcome, pending = handler(event["data"]["object"], _created(event))
    db.session.flush()
    row_id = (
        db.session.connection()
        .execute(
            _store_statement(db.engine.dialect.name),
            {
                "b_event": event["id"],
                "b_type": str(event["type"])[:100],
                "b_payload": payload.decode("utf-8"),
                "b_outcome": outcome[:300],
                "b_donation": donation_id,
                "b_at": now_utc(),
            },
        )
        .scalar()
    )
    if row_id is None:
        db.session.rollback()
        return Result(duplicate=True, outcome="duplicate")
    transitions.send(pending)
    db.session.commit()
    return Result(duplicate=False, outcome=outcome)


def _id(value) -> str | None:
    """An expandable field: an id, or the object itself (as localstripe sends it)."""
    return value.get("id") if isinstance(value, dict) else value


def _created(event: dict) -> datetime:
    created = event.get("created")
    return datetime.fromtimestamp(created, UTC) if isinstance(created, int) else datetime.now(UTC)


def _donation_id_for_intent(intent: dict) -> int | None:
    """Ours, by the id we put in the metadata, checked against the PaymentIntent's id."""
    metadata = intent.get("metadata") or {}
    if str(metadata.get("donation_id", "")).isdigit():
        return db.session.scalar(
            select(Donation.id).where(
                Donation.id == int(metadata["donation_id"]),
                # NULL: the webhook overtook the commit that stores the intent's id.
                or_(
                    Donation.stripe_payment_intent_id == intent.get("id"),
                    Donation.stripe_payment_intent_id.is_(None),
                ),
            )
        )
    return db.session.scalar(
        select(Donation.id).where(Donation.stripe_payment_intent_id == intent.get("id"))
    )


def _donation_for_intent(intent: dict) -> Donation | None:
    donation_id = _donation_id_for_intent(intent)
    return transitions.lock(donation_id) if donation_id else None


def _donation_for_charge(obj: dict) -> Donation | None:
    """By the charge's PaymentIntent, else by the charge id (invoice payments)."""
    conditions = []
    if obj.get("payment_intent"):
        conditions.append(Donation.stripe_payment_intent_id == obj["payment_intent"])
    charge_id = obj.get("charge") if obj.get("object") == "dispute" else obj.get("id")
    if charge_id:
        conditions.append(Donation.stripe_charge_id == charge_id)
    for condition in conditions:
        donation_id = db.session.scalar(select(Donation.id).where(condition))
        if donation_id:
            return transitions.lock(donation_id)
    return None


def on_intent_succeeded(intent: dict, created: datetime):
    donation_id = _donation_id_for_intent(intent)
    if donation_id is None:
        return None, "no donation for this payment", []
    received = intent.get("amount_received") or intent.get("amount")
    pending = transitions.mark_succeeded(
        donation_id,
        when=created,
        amount_cents=received,
        currency=str(intent.get("currency", "")).upper(),
        charge_id=_id(intent.get("latest_charge")),
        intent_id=intent.get("id"),
    )
    if pending:
        return donation_id, "succeeded", pending
    donation = db.session.get(Donation, donation_id)
    if donation.succeeded_at is not None:
        return donation_id, "already succeeded", []
    return donation_id, f"amount mismatch: {received} {intent.get('currency')}", []


def on_intent_failed(intent: dict, created: datetime):
    donation = _donation_for_intent(intent)
    if donation is None:
        return None, "no donation for this payment", []
    transitions.mark_failed(donation)
    return donation.id, f"payment failed; gift is {donation.status}", []


def on_charge_refunded(charge: dict, created: datetime):
    donation = _donation_for_charge(charge)
    if donation is None:
        return None, "no donation for this charge", []
    pending = transitions.record_refunded_total(donation, int(charge.get("amount_refunded", 0)))
    _record_refunds(donation, charge, created)
    return donation.id, f"refunded {donation.refunded_cents} of {donation.amount_cents}", pending


def _record_refunds(donation: Donation, charge: dict, created: datetime) -> None:
    """A dated Refund row for each of the charge's refunds not recorded yet, so the tax
    exports know the year the money went back. A staff refund stored its Stripe id when it
    asked for it; the donation's row lock (taken above) keeps concurrent events in line."""
    listed = (charge.get("refunds") or {}).get("data") or []
    refunds = {
        r["id"]: r
        for r in listed
        if r.get("id") and r.get("status") not in ("failed", "canceled") and r.get("amount")
    }
    if not refunds:
        return
    known = db.session.scalars(
        select(Refund.stripe_refund_id).where(Refund.stripe_refund_id.in_(list(refunds)))
    )
    for refund_id in refunds.keys() - set(known):
        refund = refunds[refund_id]
        db.session.add(
            Refund(
                donation_id=donation.id,
                amount_cents=int(refund["amount"]),
                stripe_refund_id=refund_id,
                reason=str(refund.get("reason") or "")[:300],
                created_at=(
                    datetime.fromtimestamp(refund["created"], UTC)
                    if isinstance(refund.get("created"), int)
                    else created
                ),
            )
        )


def on_dispute(dispute: dict, created: datetime):
    donation = _donation_for_charge(dispute)
    if donation is None:
        return None, "no donation for this dispute", []
    status = dispute.get("status", "")
    state = {"won": "won", "lost": "lost", "warning_closed": "won"}.get(status, "open")
    pending = transitions.record_dispute(donation, state)
    return donation.id, f"dispute {state}", pending


def _subscription_id(invoice: dict) -> str | None:
    # Newer API versions moved it under parent.subscription_details.
    parent = (invoice.get("parent") or {}).get("subscription_details") or {}
    return invoice.get("subscription") or parent.get("subscription")


def _recurring(subscription_id: str | None) -> RecurringGift | None:
    if not subscription_id:
        return None
    return db.session.scalar(
        select(RecurringGift)
        .where(RecurringGift.stripe_subscription_id == subscription_id)
        .with_for_update()
    )


def on_invoice_paid(invoice: dict, created: datetime):
    gift = _recurring(_subscription_id(invoice))
    if gift is None:
        return None, "no monthly gift for this invoice", []
    if invoice.get("amount_paid", 0) <= 0:
        return None, "nothing paid on this invoice", []
    gift.status = RecurringStatus.ACTIVE
    donation_id = db.session.scalar(
        select(Donation.id).where(Donation.stripe_invoice_id == invoice["id"])
    )
    if donation_id is None:
        donation = Donation(
            campaign_id=gift.campaign_id,
            organisation_id=gift.campaign.organisation_id,
            donor_id=gift.donor_id,
            recurring_gift=gift,
            amount_cents=int(invoice["amount_paid"]),
            currency=str(invoice.get("currency", "eur")).upper(),
            method=Method.CARD,
            frequency=Frequency.MONTHLY,
            stripe_invoice_id=invoice["id"],
            stripe_charge_id=_id(invoice.get("charge")),
            stripe_payment_intent_id=_id(invoice.get("payment_intent")),
        )
        db.session.add(donation)
        db.session.flush()
    else:
        donation = transitions.lock(donation_id)
    pending = transitions.mark_succeeded(donation.id, when=created)
    return donation.id, "monthly gift received" if pending else "already received", pending


def on_invoice_failed(invoice: dict, created: datetime):
    gift = _recurring(_subscription_id(invoice))
    if gift is None:
        return None, "no monthly gift for this invoice", []
    if gift.status != RecurringStatus.CANCELLED:
        gift.status = RecurringStatus.PAST_DUE
    return None, f"monthly payment failed; gift {gift.token[:6]} past due", []


SUBSCRIPTION_STATES = {
    "active": RecurringStatus.ACTIVE,
    "trialing": RecurringStatus.ACTIVE,
    "past_due": RecurringStatus.PAST_DUE,
    "unpaid": RecurringStatus.PAST_DUE,
    "incomplete": RecurringStatus.INCOMPLETE,
    "canceled": RecurringStatus.CANCELLED,
    "incomplete_expired": RecurringStatus.CANCELLED,
}


def on_subscription_changed(subscription: dict, created: datetime):
    gift = _recurring(subscription.get("id"))
    if gift is None:
        return None, "no monthly gift for this subscription", []
    if gift.status == RecurringStatus.CANCELLED:
        return None, "monthly gift already cancelled", []
    state = SUBSCRIPTION_STATES.get(subscription.get("status", ""), gift.status)
    gift.status = state
    if state == RecurringStatus.CANCELLED:
        gift.cancelled_at = created
    return None, f"monthly gift {state}", []


def on_subscription_deleted(subscription: dict, created: datetime):
    return on_subscription_changed({**subscription, "status": "canceled"}, created)


HANDLERS: dict[str, Callable] = {
    "payment_intent.succeeded": on_intent_succeeded,
    "payment_intent.payment_failed": on_intent_failed,
    "charge.refunded": on_charge_refunded,
    "charge.dispute.created": on_dispute,
    "charge.dispute.closed": on_dispute,
    "invoice.paid": on_invoice_paid,
    "invoice.payment_failed": on_invoice_failed,
    "customer.subscription.updated": on_subscription_changed,
    "customer.subscription.deleted": on_subscription_deleted,
}

"""The treasurer resolves a gift in review (Stripe charged another amount or currency than
the gift asked, payments.webhooks):

- accept: allowed when Stripe charged the gift's own currency; the gift succeeds with the
  amount Stripe charged, and the totals, the thank-you and the receipt follow through the
  usual success signal (payments.transitions.accept_review);
- reject: what Stripe still holds of the payment (what it charged, less the refunds under
  way or made) is refunded through Stripe, as a pending Refund row in Stripe's currency that
  Stripe's refund events then settle; the gift is cancelled and counts in no total. When
  nothing is left at Stripe, the gift is only cancelled.

Each resolution is written to the audit log in the same transaction; the caller commits.
"""

from dataclasses import dataclass

import stripe
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from legami import audit
from legami.extensions import db
from legami.models import User
from legami.validation import Invalid
from payments import stripe_gateway, transitions
from payments.models import REFUND_HOLDING, Donation, Refund, RefundStatus, Status

ACCEPT, REJECT = "accept", "reject"


@dataclass(frozen=True)
class Choices:
    """What the treasurer can do with a gift in review."""

    can_accept: bool
    # What Stripe still holds of the payment, in its currency: refunded on reject.
    to_refund_cents: int


def choices(donation: Donation) -> Choices:
    refunded = db.session.scalar(
        select(func.coalesce(func.sum(Refund.amount_cents), 0)).where(
            Refund.donation_id == donation.id,
            Refund.status.in_([s.value for s in REFUND_HOLDING]),
        )
    )
    return Choices(
        can_accept=donation.stripe_paid_currency == donation.currency,
        to_refund_cents=max(0, (donation.stripe_paid_cents or 0) - refunded),
    )


def check(donation: Donation, decision: str) -> Choices:
    """Raise Invalid unless `decision` can be applied to the gift now."""
    if donation.status != Status.REVIEW:
        raise Invalid({"decision": _l("Only a gift that needs review can be resolved here.")})
    if decision not in (ACCEPT, REJECT):
        raise Invalid({"decision": _l("Choose whether to accept or refund the gift.")})
    found = choices(donation)
    if decision == ACCEPT and not found.can_accept:
        raise Invalid(
            {
                "decision": _l(
                    "Stripe charged %(currency)s, not the gift's currency: it cannot be "
                    "accepted, only refunded.",
                    currency=donation.stripe_paid_currency,
                )
            }
        )
    if (
        decision == REJECT
        and found.to_refund_cents
        and not (donation.stripe_payment_intent_id or donation.stripe_charge_id)
    ):
        raise Invalid(
            {
                "decision": _l(
                    "Legami does not know Stripe's payment for this gift: refund it in "
                    "Stripe's dashboard."
                )
            }
        )
    return found


def resolve(donation_id: int, decision: str, user: User | None) -> str:
    """Apply the treasurer's `decision` to a gift in review; returns its new status."""
    donation = transitions.lock(donation_id)
    found = check(donation, decision)
    paid, currency = donation.stripe_paid_cents, donation.stripe_paid_currency
    refund_cents = 0
    if decision == ACCEPT:
        pending = transitions.accept_review(donation)
    else:
        refund_cents = found.to_refund_cents
        if refund_cents:
            _refund_at_stripe(donation, refund_cents, user)
        pending = transitions.reject_review(donation)
    audit.record(
        user,
        "donation.review",
        f"donation:{donation.id}",
        decision=decision,
        paid_cents=paid,
        paid_currency=currency,
        refund_cents=refund_cents,
    )
    transitions.send(pending)
    return donation.status


def _refund_at_stripe(donation: Donation, cents: int, user: User | None) -> None:
    row = Refund(
        donation=donation,
        amount_cents=cents,
        currency=donation.stripe_paid_currency,
        status=RefundStatus.PENDING,
        reason="needs review: refused by the treasurer",
        created_by_id=user.id if user else None,
    )
    db.session.add(row)
    db.session.flush()
    try:
        row.stripe_refund_id = stripe_gateway.refund(donation, cents, key=f"legami-refund-{row.id}")
    except stripe.StripeError as exc:
        raise Invalid(
            {"decision": _l("Stripe refused the refund: %(error)s", error=str(exc))}
        ) from exc

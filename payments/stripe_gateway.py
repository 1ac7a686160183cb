"""Calls to Stripe through the official SDK's StripeClient (STRIPE_API_BASE in tests)."""

import stripe
from flask import current_app
from stripe import StripeClient

from payments.models import Donation, RecurringGift


def client() -> StripeClient:
    config = current_app.config
    base = {"api": config["STRIPE_API_BASE"]} if config["STRIPE_API_BASE"] else None
    return StripeClient(config["STRIPE_SECRET_KEY"], base_addresses=base, max_network_retries=2)


def create_payment_intent(donation: Donation) -> tuple[str, str]:
    """A PaymentIntent for a pending one-off gift; returns (id, client_secret)."""
    intent = client().v1.payment_intents.create(
        params={
            "amount": donation.amount_cents,
            "currency": donation.currency.lower(),
            "payment_method_types": ["card"],
            # No receipt_email: Legami sends its own thank-you and the tax receipt.
            "metadata": {"donation_id": str(donation.id), "campaign": donation.campaign.slug},
        },
        # The same donation never makes two charges, even if this call is retried.
        options={"idempotency_key": f"legami-donation-{donation.token}"},
    )
    return intent.id, intent.client_secret


def cancel_payment_intent(donation: Donation) -> bool:
    """Cancel a gift's PaymentIntent. False only when Stripe says it can no longer be
    cancelled (the payment went ahead); True when cancelled, already gone, or Stripe cannot
    be reached (then Stripe.js cannot charge the card either)."""
    intents = client().v1.payment_intents
    try:
        intents.cancel(donation.stripe_payment_intent_id)
    except stripe.InvalidRequestError:
        # Not cancellable in its state: already cancelled, or paid (or being paid).
        try:
            state = intents.retrieve(donation.stripe_payment_intent_id).status
        except stripe.StripeError:
            return True
        return state not in ("succeeded", "processing", "requires_capture")
    except stripe.StripeError as exc:
        current_app.logger.warning(
            "PaymentIntent of donation %s not cancelled: %s", donation.id, exc
        )
        return True
    return True


def create_subscription(gift: RecurringGift, payment_method: str | None = None) -> dict:
    """Customer, monthly plan and Subscription for a monthly gift; returns the subscription."""
    stripe = client().v1
    key = f"legami-recurring-{gift.token}"
    customer = stripe.customers.create(
        params={
            "email": gift.donor.email,
            "name": gift.donor.display_name,
            "metadata": {"donor_id": str(gift.donor_id)},
        },
        options={"idempotency_key": key + "-customer"},
    )
    if payment_method:
        stripe.payment_methods.attach(payment_method, params={"customer": customer.id})
        stripe.customers.update(
            customer.id, params={"invoice_settings": {"default_payment_method": payment_method}}
        )
    product = stripe.products.create(
        params={"name": f"Dono mensile: {gift.campaign.title}"[:200]},
        options={"idempotency_key": key + "-product"},
    )
    plan = stripe.plans.create(
        params={
            "amount": gift.amount_cents,
            "currency": gift.currency.lower(),
            "interval": "month",
            "product": product.id,
        },
        options={"idempotency_key": key + "-plan"},
    )
    subscription = stripe.subscriptions.create(
        params={
            "customer": customer.id,
            "items": [{"plan": plan.id}],
            "metadata": {"recurring_gift_id": str(gift.id)},
        },
        options={"idempotency_key": key + "-subscription"},
    )
    gift.stripe_customer_id = customer.id
    gift.stripe_subscription_id = subscription.id
    return subscription.to_dict()


def cancel_subscription(gift: RecurringGift) -> None:
    client().v1.subscriptions.cancel(gift.stripe_subscription_id)


# A new amount applies from the next monthly payment: no charge or credit for the month under
# way. (localstripe rejects this parameter; its tests drop it, see tests/payments.)
NO_PRORATION = {"proration_behavior": "none"}


def change_subscription_amount(gift: RecurringGift, amount_cents: int) -> None:
    """Move the subscription's one item to a monthly plan of the new amount (same product)."""
    stripe = client().v1
    subscription = stripe.subscriptions.retrieve(gift.stripe_subscription_id)
    item = subscription["items"].data[0]
    plan = stripe.plans.create(
        params={
            "amount": amount_cents,
            "currency": gift.currency.lower(),
            "interval": "month",
            "product": item.plan.product,
        },
        options={"idempotency_key": f"legami-recurring-{gift.token}-plan-{amount_cents}"},
    )
    stripe.subscriptions.update(
        gift.stripe_subscription_id,
        params={"items": [{"id": item.id, "plan": plan.id}], **NO_PRORATION},
    )


def refund(donation: Donation, amount_cents: int, key: str) -> str:
    params = {"amount": amount_cents}
    if donation.stripe_payment_intent_id:
        params["payment_intent"] = donation.stripe_payment_intent_id
    else:
        params["charge"] = donation.stripe_charge_id
    return client().v1.refunds.create(params=params, options={"idempotency_key": key}).id


def invoice_payment(invoice_id: str) -> dict:
    """What paid an invoice, as {"payment_intent": id or None, "charge": id or None}: its
    paid invoice payments (API 2025-03-31 and later), or, from a server that does not know
    invoice payments (earlier versions, localstripe), the invoice's own fields."""
    stripe_api = client().v1
    try:
        payments = stripe_api.invoice_payments.list(
            params={"invoice": invoice_id, "status": "paid", "limit": 10}
        ).to_dict()["data"]
    except (stripe.InvalidRequestError, stripe.APIError):  # no such endpoint there
        invoice = stripe_api.invoices.retrieve(invoice_id).to_dict()
        return {"payment_intent": invoice.get("payment_intent"), "charge": invoice.get("charge")}
    for paid in payments:
        payment = paid.get("payment") or {}
        found = {"payment_intent": payment.get("payment_intent"), "charge": payment.get("charge")}
        if any(found.values()):
            return found
    return {"payment_intent": None, "charge": None}

"""Monthly gifts under every Stripe API version: the payment behind an invoice, refunds and
disputes that reach the gift (or wait for it), currency checks, and states by event time."""

import time

import pytest
from sqlalchemy import select

from campaigns.models import Campaign
from legami.extensions import db
from payments import stripe_gateway
from payments.models import Donation, PaymentEvent, RecurringGift, Refund
from tests import factories
from tests.payments.conftest import WEBHOOK_SECRET, deliver
from tests.payments.stripe_events import TWO, VERSIONS, Shapes, new_id
from tests.payments.stripe_events.ledger import check_money, monthly_gift


@pytest.fixture
def hooks(app):
    """Webhooks signed as the tests sign them; no Stripe server (nothing to ask it)."""
    app.config["STRIPE_WEBHOOK_SECRET"] = WEBHOOK_SECRET
    return app


@pytest.fixture
def campaign():
    return factories.campaign()


def _send(client, payload: bytes) -> dict:
    answer = deliver(client, payload)
    assert answer.status_code == 200, answer.text
    return answer.json


def _gift() -> Donation:
    return db.session.scalars(select(Donation)).one()


@pytest.mark.parametrize("version", VERSIONS)
def test_refund_and_dispute_of_a_monthly_payment_reach_its_gift(hooks, client, campaign, version):
    s = Shapes(version)
    monthly = monthly_gift(campaign, 1500)
    intent, charge, invoice = new_id("pi"), new_id("ch"), new_id("in")
    paid = s.invoice(
        invoice,
        monthly.stripe_subscription_id,
        1500,
        intent_id=intent,
        charge_id=charge,
        expand_payments=True,
    )
    assert _send(client, s.event("invoice.paid", paid))["outcome"] == "monthly gift received"
    refund = s.refund(new_id("re"), charge, intent, 500)
    refunded = _send(
        client, s.event("charge.refunded", s.charge(charge, intent, 1500, refunds=[refund]))
    )
    assert refunded["outcome"] == "refunded 500 of 1500"
    _send(client, s.event("refund.created", refund))  # the same refund, named: not twice
    assert [(r.amount_cents, r.stripe_refund_id) for r in db.session.scalars(select(Refund))] == [
        (500, refund["id"])
    ]
    dispute = s.dispute(new_id("dp"), charge, intent, 1000, "needs_response")
    _send(client, s.event("charge.dispute.created", dispute))
    _send(client, s.event("charge.dispute.closed", {**dispute, "status": "lost"}))
    gift = _gift()
    assert (gift.status, gift.refunded_cents, gift.dispute_status) == ("refunded", 1500, "lost")
    assert db.session.get(Campaign, campaign.id).raised_cents == 0
    check_money()


@pytest.mark.parametrize("order", ["invoice first", "payment first"])
def test_a_current_invoice_learns_its_payment_from_invoice_payment_paid(
    hooks, client, campaign, order
):
    """2025-03-31 and later: invoice.paid names no payment unless `payments` is expanded; the
    refund waits for invoice_payment.paid to say which PaymentIntent paid the invoice."""
    s = Shapes("2025-03-31.basil")
    monthly = monthly_gift(campaign, 1500)
    intent, charge, invoice = new_id("pi"), new_id("ch"), new_id("in")
    paid = s.event("invoice.paid", s.invoice(invoice, monthly.stripe_subscription_id, 1500))
    payment = s.event(
        "invoice_payment.paid", s.invoice_payment(new_id("inpay"), invoice, intent, 1500)
    )
    refund = s.refund(new_id("re"), charge, intent, 1500)
    parked = _send(client, s.event("refund.created", refund))
    assert parked["outcome"] == f"parked: waits for the payment {intent}"
    for payload in (paid, payment) if order == "invoice first" else (payment, paid):
        _send(client, payload)
    gift = _gift()
    assert gift.stripe_payment_intent_id == intent
    assert (gift.status, gift.refunded_cents) == ("refunded", 1500)
    events = db.session.scalars(select(PaymentEvent).order_by(PaymentEvent.id)).all()
    assert [e.state for e in events] == ["applied"] * 3
    assert events[0].donation_id == gift.id and events[0].outcome == "refunded 1500 of 1500"
    check_money()


def test_a_current_invoice_without_its_payment_is_completed_from_stripe(
    stripe_app, client, campaign
):
    """The invoice as the SDK's pinned version sends it (no charge, no payment_intent, no
    payments): Legami asks Stripe (localstripe here) which payment paid it."""
    s = Shapes("2026-07-29.dahlia")
    gift = RecurringGift(donor=factories.donor(), campaign=campaign, amount_cents=1500)
    db.session.add(gift)
    db.session.commit()
    method = stripe_gateway.client().v1.payment_methods.create(
        params={
            "type": "card",
            "card": {"number": "4242424242424242", "exp_month": 12, "exp_year": 2031, "cvc": "123"},
        }
    )
    subscription = stripe_gateway.create_subscription(gift, method.id)
    db.session.commit()
    real = stripe_gateway.client().v1.invoices.retrieve(subscription["latest_invoice"]).to_dict()
    invoice = s.invoice(real["id"], subscription["id"], real["amount_paid"])
    assert "payment_intent" not in invoice and "payments" not in invoice
    _send(client, s.event("invoice.paid", invoice))
    donation = _gift()
    paid_by = stripe_gateway.client().v1.invoices.retrieve(real["id"]).to_dict()
    assert donation.stripe_payment_intent_id == paid_by["payment_intent"]
    charge = paid_by["charge"]
    refund = s.refund(new_id("re"), charge, donation.stripe_payment_intent_id, 500)
    _send(client, s.event("refund.created", refund))
    assert db.session.get(Donation, donation.id).refunded_cents == 500
    check_money()


@pytest.mark.parametrize("version", TWO)
def test_a_refund_before_the_invoice_is_applied_when_the_invoice_arrives(
    hooks, client, login, campaign, version
):
    s = Shapes(version)
    monthly = monthly_gift(campaign, 2000)
    intent, charge, invoice = new_id("pi"), new_id("ch"), new_id("in")
    early = s.refund(new_id("re"), charge, intent, 700, created=int(time.time()) - 5)
    later = s.refund(new_id("re"), charge, intent, 300)
    _send(
        client, s.event("charge.refunded", s.charge(charge, intent, 2000, refunds=[early, later]))
    )
    _send(client, s.event("refund.created", early, created=int(time.time()) - 5))
    parked = db.session.scalars(select(PaymentEvent)).all()
    assert {(e.state, e.awaits) for e in parked} == {("parked", intent)}
    login("treasurer")
    page = client.get("/staff/payments/events?state=parked&lang=en")
    assert page.status_code == 200
    assert "Waiting for its gift" in page.text and intent in page.text
    paid = s.invoice(
        invoice,
        monthly.stripe_subscription_id,
        2000,
        intent_id=intent,
        charge_id=charge,
        expand_payments=True,
    )
    _send(client, s.event("invoice.paid", paid))
    gift = _gift()
    assert (gift.status, gift.refunded_cents) == ("succeeded", 1000)
    rows = db.session.scalars(select(Refund).order_by(Refund.created_at)).all()
    assert sum(r.amount_cents for r in rows) == 1000
    assert rows[0].stripe_refund_id == early["id"] and rows[0].amount_cents == 700
    assert {e.state for e in db.session.scalars(select(PaymentEvent))} == {"applied"}
    assert db.session.get(Campaign, campaign.id).raised_cents == 1000
    check_money()


@pytest.mark.parametrize("version", TWO)
@pytest.mark.parametrize(
    ("paid", "currency"), [(1500, "usd"), (1500, "eur")], ids=["usd on a eur gift", "15 for 10"]
)
def test_an_invoice_in_another_amount_or_currency_waits_for_review(
    hooks, client, login, campaign, version, paid, currency
):
    s = Shapes(version)
    monthly = monthly_gift(campaign, 1000)
    intent, charge = new_id("pi"), new_id("ch")
    invoice = s.invoice(
        new_id("in"),
        monthly.stripe_subscription_id,
        paid,
        currency,
        intent,
        charge,
        expand_payments=True,
    )
    answer = _send(client, s.event("invoice.paid", invoice))
    assert answer["outcome"] == f"needs review: paid {paid} {currency.upper()}, asked 1000 EUR"
    gift = _gift()
    assert (gift.status, gift.stripe_paid_cents, gift.stripe_paid_currency) == (
        "review",
        paid,
        currency.upper(),
    )
    assert db.session.get(Campaign, campaign.id).raised_cents == 0
    for amount in (500, 1000):  # a partial refund, then the rest: never a wrong net
        refund = s.refund(new_id("re"), charge, intent, amount, currency)
        _send(client, s.event("refund.created", refund))
        gift = _gift()
        assert (gift.status, gift.refunded_cents, gift.net_cents) == ("review", 0, 1000)
        assert db.session.get(Campaign, campaign.id).raised_cents == 0
    rows = db.session.scalars(select(Refund)).all()
    assert sorted((r.amount_cents, r.currency) for r in rows) == [
        (500, currency.upper()),
        (1000, currency.upper()),
    ]
    login("treasurer")
    listed = client.get("/staff/donations?status=review&lang=en")
    assert listed.status_code == 200 and "Needs review" in listed.text
    detail = client.get(f"/staff/donations/{gift.id}?lang=en")
    assert "Stripe received" in detail.text
    check_money()


@pytest.mark.parametrize("version", TWO)
def test_a_late_payment_after_the_gift_was_stopped_does_not_restart_it(
    hooks, client, campaign, version
):
    s = Shapes(version)
    monthly = monthly_gift(campaign, 1500)
    now = int(time.time())
    deleted = s.subscription(monthly.stripe_subscription_id, "canceled")
    _send(client, s.event("customer.subscription.deleted", deleted, created=now))
    invoice = s.invoice(
        new_id("in"),
        monthly.stripe_subscription_id,
        1500,
        intent_id=new_id("pi"),
        charge_id=new_id("ch"),
        expand_payments=True,
        paid_at=now - 60,
    )
    _send(client, s.event("invoice.paid", invoice, created=now - 60))
    monthly = db.session.get(RecurringGift, monthly.id)
    assert monthly.status == "cancelled"
    assert _gift().status == "succeeded"  # the money did arrive: it is a gift
    _send(client, s.event("customer.subscription.updated", {**deleted, "status": "active"}))
    assert db.session.get(RecurringGift, monthly.id).status == "cancelled"
    check_money()


@pytest.mark.parametrize("version", TWO)
def test_a_failure_older_than_the_last_payment_changes_nothing(hooks, client, campaign, version):
    s = Shapes(version)
    monthly = monthly_gift(campaign, 1500)
    now = int(time.time())
    first, retry = new_id("in"), new_id("in")
    failed = s.invoice(first, monthly.stripe_subscription_id, 1500)
    paid = s.invoice(
        first, monthly.stripe_subscription_id, 1500, intent_id=new_id("pi"), expand_payments=True
    )
    _send(client, s.event("invoice.paid", paid, created=now))
    _send(client, s.event("invoice.payment_failed", {**failed, "amount_paid": 0}, created=now - 3))
    gift = db.session.get(RecurringGift, monthly.id)
    assert gift.status == "active" and gift.status_changed_at.timestamp() == now
    later = s.invoice(retry, monthly.stripe_subscription_id, 1500)
    _send(client, s.event("invoice.payment_failed", {**later, "amount_paid": 0}, created=now + 9))
    assert db.session.get(RecurringGift, monthly.id).status == "past_due"


def test_an_invoice_of_a_subscription_not_stored_yet_waits_for_it(hooks, client, campaign):
    """Stripe may report the first payment before Legami has stored the subscription's id."""
    s = Shapes("2025-03-31.basil")
    subscription = new_id("sub")
    invoice = s.invoice(
        new_id("in"), subscription, 1500, intent_id=new_id("pi"), expand_payments=True
    )
    assert _send(client, s.event("invoice.paid", invoice))["outcome"].startswith("parked")
    monthly_gift(campaign, 1500, subscription_id=subscription)
    _send(client, s.event("customer.subscription.updated", s.subscription(subscription, "active")))
    assert _gift().status == "succeeded"
    assert {e.state for e in db.session.scalars(select(PaymentEvent))} == {"applied"}
    check_money()

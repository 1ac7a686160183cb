"""Card and monthly gifts through the real stripe SDK and localstripe; signed webhooks."""

import contextlib
import json
import re
import threading
import time

import pytest
from sqlalchemy import func, select
from stripe import StripeError

from campaigns.models import Campaign
from legami.extensions import db
from legami.models import AuditEntry
from payments import stripe_gateway
from payments.models import Donation, PaymentEvent, RecurringGift, Refund
from receipts import issuing, pdf
from tests import factories
from tests.conftest import deliver_queued
from tests.payments.conftest import deliver, event, sign


def _mails(app, smtp) -> list[str]:
    """Run the receipt jobs and the mail queue (a thank-you waits for its receipt to attach
    it), then read what the SMTP server received: headers and text."""
    with app.app_context():
        issuing.issue_due()
        pdf.render_due()
    deliver_queued(app)
    return [
        f"To: {m['To']}\nSubject: {m['Subject']}\n\n" + m.get_body(("plain",)).get_content()
        for m in smtp.messages
    ]


def _give(client, campaign, **overrides):
    data = {
        "amount": "5000",
        "frequency": "one_off",
        "method": "card",
        "donor_kind": "person",
        "first_name": "Maria",
        "last_name": "Rossi",
        "email": "Maria.Rossi@Example.org",
        "tax_code": "RSSMRA85T10A562S",
        **overrides,
    }
    return client.post(f"/campagne/{campaign.slug}/dona", data=data)


def _pay(intent_id: str, card: str = "4242424242424242") -> dict:
    """What Stripe.js does in the browser: attach the card and confirm."""
    stripe = stripe_gateway.client().v1
    method = stripe.payment_methods.create(
        params={
            "type": "card",
            "card": {"number": card, "exp_month": 12, "exp_year": 2031, "cvc": "123"},
        }
    )
    stripe.payment_intents.update(intent_id, params={"payment_method": method.id})
    with contextlib.suppress(StripeError):  # a declined card: the intent records it
        stripe.payment_intents.confirm(intent_id)
    return stripe.payment_intents.retrieve(intent_id).to_dict()


@pytest.fixture
def campaign():
    return factories.campaign(goal_cents=1_000_000, pacts=[factories.pact(title="Un tetto")])


def test_card_gift_created_confirmed_and_succeeded_by_the_webhook(
    stripe_app, client, campaign, smtp_server
):
    response = _give(client, campaign, cover_fee="y")
    assert response.status_code == 302
    donation = db.session.scalar(select(Donation))
    assert response.headers["Location"].endswith(f"/dona/{donation.token}/carta")
    assert donation.status == "pending"
    assert (donation.amount_cents, donation.fee_cents) == (5100, 100)  # 1.5% + 25 cents
    assert donation.donor.email == "maria.rossi@example.org"
    page = client.get(f"/dona/{donation.token}/carta")
    assert "pi_" in page.text and "payment-element" in page.text

    intent = _pay(donation.stripe_payment_intent_id)
    assert intent["status"] == "succeeded"
    assert intent["metadata"]["donation_id"] == str(donation.id)
    # Only the webhook marks it succeeded.
    assert db.session.get(Donation, donation.id).status == "pending"
    assert client.get(f"/dona/{donation.token}/stato").json == {"status": "pending"}

    answer = deliver(client, event("payment_intent.succeeded", intent))
    assert answer.status_code == 200 and answer.json["outcome"] == "succeeded"
    donation = db.session.get(Donation, donation.id)
    assert donation.status == "succeeded" and donation.received_on is not None
    assert donation.stripe_charge_id.startswith("ch_")
    campaign = db.session.get(Campaign, campaign.id)
    assert (campaign.raised_cents, campaign.gift_count) == (donation.amount_cents, 1)
    assert "Thank you!" in client.get(f"/dona/{donation.token}/grazie?lang=en").text
    mails = _mails(stripe_app, smtp_server)
    assert len(mails) == 1
    assert "To: maria.rossi@example.org" in mails[0]
    assert f"Subject: Grazie per la tua donazione a {campaign.title}" in mails[0]
    assert "La tua donazione di 51\xa0€" in mails[0]
    assert 'il patto gener-attivo "Un tetto": http://localhost/patti/' in mails[0]
    assert smtp_server.envelopes[0][1] == ["maria.rossi@example.org"]
    assert smtp_server.logins == ["legami"]


def test_an_english_donor_is_thanked_in_english(stripe_app, client, campaign, smtp_server):
    client.post(
        f"/campagne/{campaign.slug}/dona?lang=en",
        data={
            "amount": "2000",
            "frequency": "one_off",
            "method": "card",
            "donor_kind": "person",
            "first_name": "Jane",
            "last_name": "Doe",
            "email": "jane@example.org",
        },
    )
    donation = db.session.scalar(select(Donation))
    assert donation.donor.language == "en"
    deliver(client, event("payment_intent.succeeded", _pay(donation.stripe_payment_intent_id)))
    [mail] = _mails(stripe_app, smtp_server)
    assert f"Subject: Thank you for your gift to {campaign.title}" in mail
    assert "Dear Jane Doe," in mail and "Your gift of €20 " in mail


def test_the_same_event_twenty_times_makes_one_gift_and_one_mail(
    stripe_app, client, campaign, smtp_server
):
    _give(client, campaign)
    donation = db.session.scalar(select(Donation))
    payload = event("payment_intent.succeeded", _pay(donation.stripe_payment_intent_id))
    answers = [deliver(client, payload) for _ in range(20)]
    assert [a.status_code for a in answers] == [200] * 20
    assert sum(a.json["duplicate"] for a in answers) == 19
    assert db.session.scalar(select(func.count()).select_from(PaymentEvent)) == 1
    assert db.session.get(Campaign, campaign.id).gift_count == 1
    assert len(_mails(stripe_app, smtp_server)) == 1


def test_a_refund_before_the_success_still_ends_refunded(stripe_app, client, campaign, smtp_server):
    _give(client, campaign)
    donation = db.session.scalar(select(Donation))
    intent = _pay(donation.stripe_payment_intent_id)
    charge = intent["latest_charge"]
    charge = {**charge, "amount_refunded": donation.amount_cents, "refunded": True}
    deliver(client, event("charge.refunded", charge))
    deliver(client, event("payment_intent.succeeded", intent))
    donation = db.session.get(Donation, donation.id)
    assert donation.status == "refunded"
    assert donation.refunded_cents == donation.amount_cents
    assert db.session.get(Campaign, campaign.id).raised_cents == 0
    assert _mails(stripe_app, smtp_server) == []  # nothing to thank for


def test_partial_then_full_refund_through_stripe(stripe_app, client, login, campaign):
    _give(client, campaign)
    donation = db.session.scalar(select(Donation))
    intent = _pay(donation.stripe_payment_intent_id)
    deliver(client, event("payment_intent.succeeded", intent))
    login("treasurer")
    answer = client.post(
        f"/staff/donations/{donation.id}/refund",
        data={"amount": "20", "reason": "Doppio", "confirmed": "1"},
    )
    assert answer.status_code == 302
    charge = stripe_gateway.client().v1.charges.retrieve(donation.stripe_charge_id).to_dict()
    assert charge["amount_refunded"] == 2000
    # Not refunded until Stripe says so.
    assert db.session.get(Donation, donation.id).refunded_cents == 0
    deliver(client, event("charge.refunded", charge))
    donation = db.session.get(Donation, donation.id)
    assert (donation.status, donation.refunded_cents) == ("succeeded", 2000)
    assert db.session.get(Campaign, campaign.id).raised_cents == 3000
    too_much = client.post(
        f"/staff/donations/{donation.id}/refund",
        data={"amount": "31", "reason": "x", "confirmed": "1"},
    )
    assert too_much.status_code == 422
    client.post(
        f"/staff/donations/{donation.id}/refund",
        data={"amount": "30", "reason": "x", "confirmed": "1"},
    )
    charge = stripe_gateway.client().v1.charges.retrieve(donation.stripe_charge_id).to_dict()
    deliver(client, event("charge.refunded", charge))
    donation = db.session.get(Donation, donation.id)
    assert (donation.status, donation.refunded_cents) == ("refunded", 5000)
    campaign = db.session.get(Campaign, campaign.id)
    assert (campaign.raised_cents, campaign.gift_count) == (0, 0)
    # The webhook lists both refunds; each was stored with its Stripe id when staff asked.
    assert [r["id"] for r in charge["refunds"]["data"]]
    refunds = db.session.scalars(select(Refund).order_by(Refund.id)).all()
    assert [(r.amount_cents, r.created_by_id is not None) for r in refunds] == [
        (2000, True),
        (3000, True),
    ]
    assert {r.stripe_refund_id for r in refunds} == {r["id"] for r in charge["refunds"]["data"]}


def test_dispute_opened_then_lost(stripe_app, client, campaign):
    _give(client, campaign)
    donation = db.session.scalar(select(Donation))
    intent = _pay(donation.stripe_payment_intent_id)
    deliver(client, event("payment_intent.succeeded", intent))
    dispute = {
        "id": "dp_1",
        "object": "dispute",
        "charge": donation.stripe_charge_id,
        "payment_intent": intent["id"],
        "amount": 5000,
        "status": "needs_response",
    }
    deliver(client, event("charge.dispute.created", dispute))
    assert db.session.get(Donation, donation.id).dispute_status == "open"
    deliver(client, event("charge.dispute.closed", {**dispute, "status": "lost"}))
    donation = db.session.get(Donation, donation.id)
    assert (donation.dispute_status, donation.status) == ("lost", "refunded")


def test_failed_payment(stripe_app, client, campaign):
    _give(client, campaign)
    donation = db.session.scalar(select(Donation))
    intent = _pay(
        donation.stripe_payment_intent_id, card="4000000000000341"
    )  # declined when charged
    assert intent["status"] != "succeeded"
    deliver(client, event("payment_intent.payment_failed", intent))
    assert db.session.get(Donation, donation.id).status == "failed"
    assert "did not go through" in client.get(f"/dona/{donation.token}/grazie?lang=en").text


def test_bad_webhooks_are_refused_and_store_nothing(stripe_app, client):
    payload = event("payment_intent.succeeded", {"id": "pi_x", "metadata": {}})
    forged = deliver(client, payload, signature=sign(payload, secret="whsec_wrong"))
    stale = deliver(client, payload, signature=sign(payload, timestamp=int(time.time()) - 3600))
    missing = client.post("/payments/stripe/webhook", data=payload)
    bad_json = b"{not json"
    malformed = deliver(client, bad_json)
    shapeless = deliver(client, json.dumps({"id": "evt_1"}).encode())
    assert [r.status_code for r in (forged, stale, missing, malformed, shapeless)] == [400] * 5
    assert db.session.scalar(select(func.count()).select_from(PaymentEvent)) == 0
    unknown = deliver(client, event("customer.created", {"id": "cus_1"}))
    assert unknown.status_code == 200
    row = db.session.scalar(select(PaymentEvent))
    assert row.type == "customer.created" and row.outcome.startswith("ignored")


def test_monthly_gift_with_two_paid_invoices_makes_two_gifts(
    stripe_app, client, campaign, smtp_server
):
    response = _give(client, campaign, frequency="monthly", amount="other", other_amount="15")
    gift = db.session.scalar(select(RecurringGift))
    assert response.headers["Location"].endswith(f"/dona/mensile/{gift.token}")
    stripe = stripe_gateway.client().v1
    method = stripe.payment_methods.create(
        params={
            "type": "card",
            "card": {"number": "4242424242424242", "exp_month": 12, "exp_year": 2031, "cvc": "123"},
        }
    )
    started = client.post(f"/dona/mensile/{gift.token}/avvia", json={"payment_method": method.id})
    assert started.status_code == 200
    gift = db.session.get(RecurringGift, gift.id)
    subscription = stripe.subscriptions.retrieve(gift.stripe_subscription_id).to_dict()
    invoice = stripe.invoices.retrieve(subscription["latest_invoice"]).to_dict()
    assert invoice["amount_paid"] == 1500
    deliver(client, event("invoice.paid", invoice))
    deliver(client, event("invoice.paid", invoice))  # a second delivery, new event id
    second = {**invoice, "id": "in_second_month", "charge": "ch_second", "payment_intent": None}
    deliver(client, event("invoice.paid", second))
    gifts = db.session.scalars(select(Donation).order_by(Donation.id)).all()
    assert [(d.amount_cents, d.status, d.frequency) for d in gifts] == [
        (1500, "succeeded", "monthly")
    ] * 2
    assert db.session.get(RecurringGift, gift.id).status == "active"
    assert db.session.get(Campaign, campaign.id).raised_cents == 3000
    mails = _mails(stripe_app, smtp_server)
    assert len(mails) == 2
    link = re.search(r"(http://localhost/dona/mensile/annulla/\S+)", mails[0]).group(1)
    deliver(client, event("invoice.payment_failed", {**invoice, "id": "in_third"}))
    assert db.session.get(RecurringGift, gift.id).status == "past_due"
    cancel_page = client.get(link.replace("http://localhost", ""))
    assert cancel_page.status_code == 200
    client.post(link.replace("http://localhost", ""))
    assert db.session.get(RecurringGift, gift.id).status == "cancelled"
    subscription = stripe.subscriptions.retrieve(gift.stripe_subscription_id).to_dict()
    assert subscription["status"] == "canceled"
    deliver(client, event("customer.subscription.updated", {**subscription, "status": "active"}))
    assert db.session.get(RecurringGift, gift.id).status == "cancelled"


def test_staff_stop_a_monthly_gift(stripe_app, client, login, campaign):
    _give(client, campaign, frequency="monthly")
    gift = db.session.scalar(select(RecurringGift))
    stripe = stripe_gateway.client().v1
    method = stripe.payment_methods.create(
        params={
            "type": "card",
            "card": {"number": "4242424242424242", "exp_month": 12, "exp_year": 2031, "cvc": "123"},
        }
    )
    client.post(f"/dona/mensile/{gift.token}/avvia", json={"payment_method": method.id})
    login("staff")
    assert client.post(f"/staff/recurring/{gift.id}/cancel").status_code == 302
    gift = db.session.get(RecurringGift, gift.id)
    assert gift.status == "cancelled" and gift.cancelled_at is not None
    assert stripe.subscriptions.retrieve(gift.stripe_subscription_id).status == "canceled"
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "recurring.cancel"))
    assert entry.detail == {"by": "staff"}


@pytest.mark.postgres
def test_concurrent_deliveries_make_one_success(stripe_app, client, campaign, smtp_server):
    _give(client, campaign)
    donation = db.session.scalar(select(Donation))
    payload = event("payment_intent.succeeded", _pay(donation.stripe_payment_intent_id))
    barrier = threading.Barrier(8)
    statuses = []

    def worker():
        with stripe_app.app_context():
            local = stripe_app.test_client()
            barrier.wait()
            statuses.append(deliver(local, payload).status_code)
            db.session.remove()

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert statuses == [200] * 8
    db.session.expire_all()
    assert db.session.get(Campaign, campaign.id).gift_count == 1
    assert db.session.scalar(select(func.count()).select_from(PaymentEvent)) == 1
    assert len(_mails(stripe_app, smtp_server)) == 1

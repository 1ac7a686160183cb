"""The treasurer resolves a gift in review: accepts what Stripe charged in the gift's
currency (totals and receipt follow), or refunds it through Stripe and cancels it, or only
cancels it when Stripe holds nothing; each after a confirmation page, audited."""

import pytest
from sqlalchemy import select

from campaigns.models import Campaign
from legami.extensions import db
from legami.models import AuditEntry
from payments import stripe_gateway
from payments.models import Donation, Refund
from receipts import issuing
from receipts.models import Receipt
from tests import factories
from tests.payments.conftest import WEBHOOK_SECRET, deliver, event
from tests.payments.stripe_events import TWO, Shapes, new_id
from tests.payments.stripe_events.ledger import check_money, pending_card_gift
from tests.payments.test_card_gifts import _give, _pay

pytestmark = pytest.mark.usefixtures("english")


@pytest.fixture
def hooks(app):
    app.config["STRIPE_WEBHOOK_SECRET"] = WEBHOOK_SECRET
    return app


def _send(client, payload: bytes) -> str:
    answer = deliver(client, payload)
    assert answer.status_code == 200, answer.text
    return answer.json["outcome"]


def _in_review(client, s: Shapes, campaign, asked: int, paid: int, currency: str = "eur"):
    gift = pending_card_gift(campaign, asked)
    charge = new_id("ch")
    intent = s.intent(gift.stripe_payment_intent_id, paid, currency, charge=charge)
    assert _send(client, s.event("payment_intent.succeeded", intent)).startswith("needs review")
    return gift, charge


def _audits() -> list[dict]:
    return [
        e.detail
        for e in db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "donation.review")
        )
    ]


@pytest.mark.parametrize("version", TWO)
def test_accepting_takes_what_stripe_charged(hooks, client, login, version):
    s = Shapes(version)
    campaign = factories.campaign()
    gift, charge = _in_review(client, s, campaign, 5000, 7500)
    refund = s.refund(new_id("re"), charge, gift.stripe_payment_intent_id, 2500)
    _send(client, s.event("refund.created", refund))
    login("treasurer")
    page = client.get(f"/staff/donations/{gift.id}")
    assert "Accept €75" in page.text and "Refund €50 and cancel" in page.text

    url = f"/staff/donations/{gift.id}/review"
    asked = client.post(url, data={"decision": "accept"})
    assert asked.status_code == 200
    assert "becomes €75, what Stripe charged, instead of €50" in asked.text
    assert db.session.get(Donation, gift.id).status == "review"  # nothing changed yet
    assert client.post(url, data={"decision": "accept", "confirmed": "1"}).status_code == 302

    gift = db.session.get(Donation, gift.id)
    assert (gift.status, gift.amount_cents, gift.refunded_cents) == ("succeeded", 7500, 2500)
    campaign = db.session.get(Campaign, campaign.id)
    assert (campaign.raised_cents, campaign.gift_count) == (5000, 1)
    [audit] = _audits()
    assert audit["decision"] == "accept" and audit["paid_cents"] == 7500
    check_money()  # totals, donor's year and a receipt of 50.00 for what remains
    issuing.issue_due()
    [receipt] = db.session.scalars(select(Receipt).where(Receipt.status == "issued")).all()
    assert (receipt.donation_id, receipt.amount_cents) == (gift.id, 5000)
    # Resolved once: a second decision finds no gift in review.
    again = client.post(url, data={"decision": "reject", "confirmed": "1"})
    assert again.status_code == 422 and "Only a gift that needs review" in again.text


def test_another_currency_cannot_be_accepted(hooks, client, login):
    s = Shapes(TWO[-1])
    campaign = factories.campaign()
    gift, _ = _in_review(client, s, campaign, 5000, 5000, "usd")
    login("treasurer")
    assert "Accept" not in client.get(f"/staff/donations/{gift.id}").text.split("Resolve")[1]
    for confirmed in ({}, {"confirmed": "1"}):
        answer = client.post(
            f"/staff/donations/{gift.id}/review", data={"decision": "accept", **confirmed}
        )
        assert answer.status_code == 422
        assert "Stripe charged USD, not the gift" in answer.text
    assert db.session.get(Donation, gift.id).status == "review"
    assert _audits() == []
    check_money()


def test_nothing_left_at_stripe_is_only_cancelled(hooks, client, login):
    s = Shapes(TWO[0])
    campaign = factories.campaign()
    gift, charge = _in_review(client, s, campaign, 5000, 3000, "usd")
    refund = s.refund(new_id("re"), charge, gift.stripe_payment_intent_id, 3000, "usd")
    _send(client, s.event("refund.created", refund))
    login("treasurer")
    url = f"/staff/donations/{gift.id}/review"
    asked = client.post(url, data={"decision": "reject"})
    assert "Stripe holds nothing of this payment any more" in asked.text
    assert client.post(url, data={"decision": "reject", "confirmed": "1"}).status_code == 302
    gift = db.session.get(Donation, gift.id)
    assert (gift.status, gift.refunded_cents) == ("cancelled", 0)
    assert [r.stripe_refund_id for r in db.session.scalars(select(Refund))] == [refund["id"]]
    [audit] = _audits()
    assert (audit["decision"], audit["refund_cents"]) == ("reject", 0)
    check_money()


def test_rejecting_refunds_what_stripe_charged_and_cancels(stripe_app, client, login):
    """Against localstripe: the gift asked 40.00, Stripe charged 50.00; the treasurer refunds
    it, Stripe's charge shows the refund, and Stripe's news of it leaves the gift cancelled."""
    campaign = factories.campaign()
    _give(client, campaign)
    gift = db.session.scalar(select(Donation))
    gift.amount_cents = 4000  # what Legami asked; the PaymentIntent says 50.00
    db.session.commit()
    intent = _pay(gift.stripe_payment_intent_id)
    assert _send(client, event("payment_intent.succeeded", intent)) == (
        "needs review: paid 5000 EUR, asked 4000 EUR"
    )
    login("treasurer")
    url = f"/staff/donations/{gift.id}/review"
    asked = client.post(url, data={"decision": "reject"})
    assert "Stripe is asked to refund €50 to the card" in asked.text
    assert client.post(url, data={"decision": "reject", "confirmed": "1"}).status_code == 302

    gift = db.session.get(Donation, gift.id)
    assert gift.status == "cancelled"
    [row] = db.session.scalars(select(Refund)).all()
    assert (row.amount_cents, row.currency, row.status) == (5000, "EUR", "pending")
    charge = stripe_gateway.client().v1.charges.retrieve(gift.stripe_charge_id).to_dict()
    assert charge["amount_refunded"] == 5000
    assert {r["id"] for r in charge["refunds"]["data"]} == {row.stripe_refund_id}
    _send(client, event("charge.refunded", charge))
    gift = db.session.get(Donation, gift.id)
    assert (gift.status, gift.refunded_cents) == ("cancelled", 0)
    assert db.session.get(Refund, row.id).status == "succeeded"
    assert db.session.get(Campaign, campaign.id).raised_cents == 0
    [audit] = _audits()
    assert (audit["decision"], audit["refund_cents"]) == ("reject", 5000)
    check_money()

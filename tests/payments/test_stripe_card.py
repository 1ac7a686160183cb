"""One-off card gifts against Stripe's news in two API versions' shapes: only Legami's own
PaymentIntent settles a gift, a wrong amount waits for review, refunds are dated rows (the
dashboard's too), and news that comes before the payment waits for it."""

import time

import pytest
from sqlalchemy import select

from campaigns.models import Campaign
from legami.extensions import db
from mailing.models import MailJob
from payments.models import Donation, PaymentEvent, Refund
from tests import factories
from tests.payments.conftest import WEBHOOK_SECRET, deliver
from tests.payments.stripe_events import TWO, Shapes, new_id
from tests.payments.stripe_events.ledger import check_money, pending_card_gift


@pytest.fixture
def hooks(app):
    app.config["STRIPE_WEBHOOK_SECRET"] = WEBHOOK_SECRET
    return app


@pytest.fixture
def campaign():
    return factories.campaign()


def _send(client, payload: bytes) -> str:
    answer = deliver(client, payload)
    assert answer.status_code == 200, answer.text
    return answer.json["outcome"]


def _paid(client, s: Shapes, gift: Donation, charge: str) -> None:
    intent = s.intent(gift.stripe_payment_intent_id, gift.amount_cents, charge=charge)
    assert _send(client, s.event("payment_intent.succeeded", intent)) == "succeeded"


@pytest.mark.parametrize("version", TWO)
def test_a_payment_intent_legami_did_not_store_settles_nothing(hooks, client, campaign, version):
    s = Shapes(version)
    transfer = factories.donation(
        campaign=campaign,
        method="bank_transfer",
        status="pending",
        received_on=None,
        payment_reference="LGM-AB12-CD34",
        amount_cents=5000,
    )
    card = pending_card_gift(campaign, 5000)
    theirs = {"donation_id": str(transfer.id)}
    forged = s.intent(new_id("pi"), 5000, charge=new_id("ch"), metadata=theirs)
    assert _send(client, s.event("payment_intent.succeeded", forged)) == (
        f"ignored: not the PaymentIntent Legami made for gift {transfer.id}"
    )
    other = s.intent(
        new_id("pi"), 5000, charge=new_id("ch"), metadata={"donation_id": str(card.id)}
    )
    _send(client, s.event("payment_intent.succeeded", other))
    connected = s.intent(card.stripe_payment_intent_id, 5000, charge=new_id("ch"))
    outcome = _send(client, s.event("payment_intent.succeeded", connected, account="acct_1Other"))
    assert outcome == "ignored: an event of connected account acct_1Other"
    assert [d.status for d in db.session.scalars(select(Donation).order_by(Donation.id))] == [
        "pending",
        "pending",
    ]
    assert [e.state for e in db.session.scalars(select(PaymentEvent))] == ["ignored"] * 3
    assert db.session.get(Campaign, campaign.id).raised_cents == 0
    _paid(client, s, card, new_id("ch"))  # its own PaymentIntent does
    assert db.session.get(Donation, card.id).status == "succeeded"
    check_money()


@pytest.mark.parametrize("version", TWO)
@pytest.mark.parametrize(("amount", "currency"), [(7500, "eur"), (5000, "usd")])
def test_a_payment_intent_of_another_amount_puts_the_gift_in_review(
    hooks, client, campaign, version, amount, currency
):
    s = Shapes(version)
    gift = pending_card_gift(campaign, 5000)
    charge = new_id("ch")
    intent = s.intent(gift.stripe_payment_intent_id, amount, currency, charge=charge)
    assert _send(client, s.event("payment_intent.succeeded", intent)) == (
        f"needs review: paid {amount} {currency.upper()}, asked 5000 EUR"
    )
    refund = s.refund(new_id("re"), charge, gift.stripe_payment_intent_id, 2500, currency)
    listed = s.charge(charge, gift.stripe_payment_intent_id, amount, currency, refunds=[refund])
    _send(client, s.event("charge.refunded", listed))
    _send(client, s.event("refund.created", refund))
    gift = db.session.get(Donation, gift.id)
    assert (gift.status, gift.refunded_cents, gift.stripe_paid_cents) == ("review", 0, amount)
    assert db.session.get(Campaign, campaign.id).raised_cents == 0
    assert [(r.amount_cents, r.currency) for r in db.session.scalars(select(Refund))] == [
        (2500, currency.upper())
    ]
    check_money()


@pytest.mark.parametrize("version", TWO)
def test_dashboard_refunds_each_get_a_dated_row_and_a_failed_one_gives_the_money_back(
    hooks, client, campaign, version
):
    """Since 2022-11-15 charge.refunded no longer lists the refunds: refund.created and
    refund.updated name them, in any order with it, delivered more than once."""
    s = Shapes(version)
    gift = pending_card_gift(campaign, 10000)
    intent, charge = gift.stripe_payment_intent_id, new_id("ch")
    _paid(client, s, gift, charge)
    day = 86400
    first = s.refund(new_id("re"), charge, intent, 3000, created=int(time.time()) - 40 * day)
    second = s.refund(new_id("re"), charge, intent, 2000, status="pending")
    both = s.charge(charge, intent, 10000, refunds=[first, second])
    _send(client, s.event("charge.refunded", s.charge(charge, intent, 10000, refunds=[first])))
    _send(client, s.event("refund.created", second))
    _send(client, s.event("charge.refunded", both))
    _send(client, s.event("refund.created", first))
    _send(client, s.event("refund.created", first))
    _send(client, s.event("charge.refund.updated", {**second, "status": "succeeded"}))
    rows = db.session.scalars(select(Refund).order_by(Refund.created_at)).all()
    assert [(r.stripe_refund_id, r.amount_cents, r.status) for r in rows] == [
        (first["id"], 3000, "succeeded"),
        (second["id"], 2000, "succeeded"),
    ]
    assert rows[0].created_at.timestamp() == first["created"]
    assert db.session.get(Donation, gift.id).refunded_cents == 5000
    assert db.session.get(Campaign, campaign.id).raised_cents == 5000
    check_money()
    failed = {**second, "status": "failed"}
    _send(client, s.event("refund.updated", failed))
    _send(client, s.event("refund.updated", {**second, "status": "succeeded"}))  # older news
    gift = db.session.get(Donation, gift.id)
    assert (gift.status, gift.refunded_cents) == ("succeeded", 3000)
    assert db.session.get(Campaign, campaign.id).raised_cents == 7000
    assert (
        db.session.scalar(select(Refund.status).where(Refund.stripe_refund_id == second["id"]))
        == "failed"
    )
    check_money()


@pytest.mark.parametrize("version", TWO)
def test_a_refund_and_a_dispute_before_the_payment_wait_for_it(hooks, client, campaign, version):
    s = Shapes(version)
    gift = pending_card_gift(campaign, 6000)
    intent, charge = gift.stripe_payment_intent_id, new_id("ch")
    refund = s.refund(new_id("re"), charge, intent, 1000)
    dispute = s.dispute(new_id("dp"), charge, intent, 5000, "needs_response")
    assert (
        _send(client, s.event("refund.created", refund))
        == f"parked: waits for the payment {intent}"
    )
    _send(client, s.event("charge.dispute.created", dispute))
    parked = db.session.scalars(select(PaymentEvent)).all()
    assert [(e.state, e.donation_id) for e in parked] == [("parked", gift.id)] * 2
    assert db.session.get(Donation, gift.id).status == "pending"
    _paid(client, s, gift, charge)
    gift = db.session.get(Donation, gift.id)
    assert (gift.status, gift.refunded_cents, gift.dispute_status) == ("succeeded", 1000, "open")
    assert {e.state for e in db.session.scalars(select(PaymentEvent))} == {"applied"}
    assert db.session.get(Campaign, campaign.id).raised_cents == 5000
    check_money()


@pytest.mark.parametrize("version", TWO)
def test_a_full_refund_before_the_payment_leaves_nothing_to_thank_for(
    hooks, client, campaign, version
):
    s = Shapes(version)
    gift = pending_card_gift(campaign, 4000)
    intent, charge = gift.stripe_payment_intent_id, new_id("ch")
    _send(client, s.event("refund.created", s.refund(new_id("re"), charge, intent, 4000)))
    _paid(client, s, gift, charge)
    gift = db.session.get(Donation, gift.id)
    assert (gift.status, gift.net_cents) == ("refunded", 0)
    assert db.session.scalars(select(MailJob)).all() == []
    check_money()

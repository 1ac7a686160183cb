"""Stripe delivers news about one payment at the same moment from several servers: a refund
racing the invoice (or the PaymentIntent) it belongs to is applied exactly once, whichever
transaction commits first. Real threads through the real endpoint, on PostgreSQL."""

import threading

import pytest
from sqlalchemy import select

from legami.extensions import db
from payments.models import Donation, PaymentEvent
from tests import factories
from tests.payments.conftest import WEBHOOK_SECRET, deliver
from tests.payments.stripe_events import TWO, Shapes, new_id
from tests.payments.stripe_events.ledger import check_money, monthly_gift, pending_card_gift

ROUNDS = 8


@pytest.fixture
def hooks(app):
    app.config["STRIPE_WEBHOOK_SECRET"] = WEBHOOK_SECRET
    return app


def _race(app, payloads: list[bytes]) -> list[int]:
    """Deliver the payloads at once, one thread each; returns their status codes."""
    barrier = threading.Barrier(len(payloads))
    statuses = []

    def worker(payload):
        with app.app_context():
            client = app.test_client()
            barrier.wait()
            statuses.append(deliver(client, payload).status_code)
            db.session.remove()

    threads = [threading.Thread(target=worker, args=(p,)) for p in payloads]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return statuses


@pytest.mark.postgres
@pytest.mark.parametrize("version", TWO)
def test_refunds_racing_their_invoice_are_all_applied(hooks, version):
    s = Shapes(version)
    gift = monthly_gift(factories.campaign(), 3000)
    for n in range(ROUNDS):
        intent, charge, invoice = new_id("pi"), new_id("ch"), new_id("in")
        refund = s.refund(new_id("re"), charge, intent, 100 * (n + 1))
        paid = s.invoice(
            invoice,
            gift.stripe_subscription_id,
            3000,
            intent_id=intent,
            charge_id=charge,
            expand_payments=True,
        )
        statuses = _race(
            hooks,
            [
                s.event("invoice.paid", paid),
                s.event("charge.refunded", s.charge(charge, intent, 3000, refunds=[refund])),
                s.event("refund.created", refund),
            ],
        )
        assert statuses == [200] * 3
    db.session.expire_all()
    gifts = db.session.scalars(select(Donation).order_by(Donation.id)).all()
    assert sorted(g.refunded_cents for g in gifts) == [100 * (n + 1) for n in range(ROUNDS)]
    assert {e.state for e in db.session.scalars(select(PaymentEvent))} == {"applied"}
    check_money()


@pytest.mark.postgres
def test_a_refund_racing_the_payment_of_a_card_gift_is_applied(hooks):
    s = Shapes("2025-03-31.basil")
    campaign = factories.campaign()
    for _ in range(ROUNDS):
        gift = pending_card_gift(campaign, 5000)
        intent, charge = gift.stripe_payment_intent_id, new_id("ch")
        refund = s.refund(new_id("re"), charge, intent, 1500)
        statuses = _race(
            hooks,
            [
                s.event("payment_intent.succeeded", s.intent(intent, 5000, charge=charge)),
                s.event("refund.created", refund),
                s.event("refund.created", refund),  # a twin delivery of the same news
            ],
        )
        assert statuses == [200] * 3
    db.session.expire_all()
    gifts = db.session.scalars(select(Donation)).all()
    assert [(g.status, g.refunded_cents) for g in gifts] == [("succeeded", 1500)] * ROUNDS
    assert {e.state for e in db.session.scalars(select(PaymentEvent))} == {"applied"}
    check_money()

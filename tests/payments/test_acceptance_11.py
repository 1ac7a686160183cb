"""Acceptance probes for issue 11 (reviewer): a dashboard refund reported only by
charge.refunded (API >= 2022-11-15, no refund events subscribed) still gets a dated row,
and its refund event later does not double it."""

import time

import pytest
from sqlalchemy import select

from campaigns.models import Campaign
from legami.extensions import db
from payments.models import Donation, Refund
from tests import factories
from tests.payments.conftest import WEBHOOK_SECRET, deliver
from tests.payments.stripe_events import TWO, Shapes, new_id
from tests.payments.stripe_events.ledger import check_money, pending_card_gift


@pytest.fixture
def hooks(app):
    app.config["STRIPE_WEBHOOK_SECRET"] = WEBHOOK_SECRET
    return app


def _send(client, payload: bytes) -> str:
    answer = deliver(client, payload)
    assert answer.status_code == 200, answer.text
    return answer.json["outcome"]


@pytest.mark.parametrize("version", TWO)
def test_charge_refunded_alone_gives_a_dated_row(hooks, client, version):
    s = Shapes(version)
    campaign = factories.campaign()
    gift = pending_card_gift(campaign, 10000)
    intent, charge = gift.stripe_payment_intent_id, new_id("ch")
    _send(client, s.event("payment_intent.succeeded", s.intent(intent, 10000, charge=charge)))
    when = int(time.time()) - 3600
    refund = s.refund(new_id("re"), charge, intent, 2500, created=when)
    total = s.charge(charge, intent, 10000, refunds=[refund])
    _send(client, s.event("charge.refunded", total, created=when + 5))
    rows = db.session.scalars(select(Refund)).all()
    assert [r.amount_cents for r in rows] == [2500]
    assert abs(rows[0].created_at.timestamp() - when) <= 5
    assert db.session.get(Donation, gift.id).refunded_cents == 2500
    assert db.session.get(Campaign, campaign.id).raised_cents == 7500
    _send(client, s.event("refund.created", refund, created=when))
    db.session.expire_all()
    rows = db.session.scalars(select(Refund)).all()
    assert [(r.amount_cents, r.stripe_refund_id) for r in rows] == [(2500, refund["id"])]
    assert db.session.get(Donation, gift.id).refunded_cents == 2500
    check_money()

"""A gift's success costs its receivers no query when they have nothing to do: whether the
campaign has a matching challenge, the gift a fundraising page or typed giver details is
read in the success's own UPDATE (payments.success_facts); when they do, they still work."""

import pytest
from sqlalchemy import event, select

from campaigns.models import Campaign
from legami.extensions import db
from payments import matching
from payments.matching_models import MatchLine
from tests import factories
from tests.payments.conftest import WEBHOOK_SECRET, deliver
from tests.payments.matching import challenge
from tests.payments.stripe_events import TWO, Shapes, new_id
from tests.payments.stripe_events.ledger import check_money, pending_card_gift

# What only the receivers with work to do read.
OPTIONAL = ("matching_challenges", "match_lines", "page_gifts", "gift_details")


@pytest.fixture
def hooks(app):
    app.config["STRIPE_WEBHOOK_SECRET"] = WEBHOOK_SECRET
    return app


def _statements_of(client, payload: bytes) -> list[str]:
    seen = []

    def listen(conn, cursor, statement, *_):
        seen.append(" ".join(statement.split()))

    event.listen(db.engine, "before_cursor_execute", listen)
    try:
        answer = deliver(client, payload)
    finally:
        event.remove(db.engine, "before_cursor_execute", listen)
    assert answer.status_code == 200 and answer.json["outcome"] == "succeeded", answer.text
    return seen


@pytest.mark.parametrize("version", TWO)
def test_a_plain_gift_s_success_takes_six_statements(hooks, client, version):
    s = Shapes(version)
    campaign = factories.campaign()
    gift = pending_card_gift(campaign, 2500)
    intent = s.intent(gift.stripe_payment_intent_id, 2500, charge=new_id("ch"))
    seen = _statements_of(client, s.event("payment_intent.succeeded", intent))
    # The success UPDATE (with the facts), the event, the thank-you, the receipt's due mark,
    # the campaign's and the donor's totals.
    assert len(seen) <= 6, seen
    assert [q for q in seen[1:] if any(t in q for t in OPTIONAL)] == []
    assert db.session.get(Campaign, campaign.id).raised_cents == 2500
    check_money()


def test_a_campaign_with_a_challenge_still_matches(hooks, client):
    s = Shapes(TWO[-1])
    campaign = factories.campaign()
    pledge = challenge(campaign)
    gift = pending_card_gift(campaign, 2000)
    intent = s.intent(gift.stripe_payment_intent_id, 2000, charge=new_id("ch"))
    seen = _statements_of(client, s.event("payment_intent.succeeded", intent))
    assert any("match_lines" in q for q in seen[1:])
    [line] = db.session.scalars(select(MatchLine)).all()
    assert (line.challenge_id, line.donation_id, line.held_cents) == (pledge.id, gift.id, 2000)
    assert matching.matched_for(gift.id) == 2000

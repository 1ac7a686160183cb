"""Property: whatever order Stripe's news arrives in, however often, money stays right.

Hypothesis draws a story as Stripe would tell it, in one of four API versions' shapes: a
one-off card gift (PaymentIntent created, maybe failed first, succeeded, perhaps for another
amount or currency; refunds, some of which fail; a dispute opened, won or lost) and a monthly
gift (invoices paid or failed then retried, refunds on them, the subscription deleted). Each
refund makes the events Stripe sends for it: refund.created, charge.refunded with the charge's
running total (and, before 2022-11-15, its list of refunds), and refund.updated /
charge.refund.updated when it fails. The events are then delivered, signed, through the
webhook endpoint in a random interleaving with random repetitions. After each run:

- campaign raised = sum of net gifts = donors' year totals, to the cent (ledger.check_money);
- refunds never exceed the gift; each PaymentIntent and invoice gives at most one gift;
- after the receipt job, valid receipts exactly for counted gifts with money left;
- and the outcome is the one the story tells, whatever the order: the gift's state and net,
  one gift per paid invoice, the monthly gift's final state.
"""

from dataclasses import dataclass, field

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from legami.extensions import db
from payments.models import Donation, RecurringGift
from tests import factories
from tests.payments.conftest import WEBHOOK_SECRET, deliver
from tests.payments.stripe_events import VERSIONS, Shapes, new_id
from tests.payments.stripe_events.ledger import check_money, monthly_gift, pending_card_gift

START = 1_780_000_000  # events' own times: ten seconds apart, in the story's order


@dataclass
class Story:
    shapes: Shapes
    events: list[tuple[int, str, dict]] = field(default_factory=list)  # (time, type, object)
    clock: int = START

    def tell(self, type_: str, obj: dict) -> int:
        self.clock += 10
        self.events.append((self.clock, type_, obj))
        return self.clock


def _refunds(draw, story: Story, charge: str, intent: str, paid: int, currency: str) -> int:
    """Refunds of a paid charge as Stripe reports them; returns what stays refunded."""
    s, made, held = story.shapes, [], 0
    amounts = draw(st.lists(st.integers(1, paid), max_size=3))
    for amount in amounts:
        if held + amount > paid:
            break
        refund = s.refund(new_id("re"), charge, intent, amount, currency)
        refund["created"] = story.clock + 10
        story.tell("refund.created", dict(refund))
        made.append(refund)
        held += amount
        total = s.charge(charge, intent, paid, currency, refunds=[dict(r) for r in made])
        story.tell("charge.refunded", total)
        if draw(st.booleans()) and draw(st.booleans()):  # one in four fails later
            refund["status"] = "failed"
            held -= amount
            story.tell("refund.updated", dict(refund))
            story.tell("charge.refund.updated", dict(refund))
    return held


@st.composite
def stories(draw):
    s = Shapes(draw(st.sampled_from(VERSIONS)))
    story = Story(s)
    card = {"amount": draw(st.integers(100, 50_000))}
    card["paid"], card["currency"] = draw(
        st.sampled_from(
            [(card["amount"], "eur")] * 4 + [(card["amount"] + 500, "eur"), (card["amount"], "usd")]
        )
    )
    card["intent"], card["charge"] = new_id("pi"), new_id("ch")
    intent = s.intent(card["intent"], card["paid"], card["currency"], charge=card["charge"])
    story.tell("payment_intent.created", {**intent, "status": "requires_payment_method"})
    if draw(st.booleans()):
        story.tell("payment_intent.payment_failed", {**intent, "status": "requires_payment_method"})
    story.tell("payment_intent.succeeded", intent)
    card["refunded"] = _refunds(
        draw, story, card["charge"], card["intent"], card["paid"], card["currency"]
    )
    card["dispute"] = draw(st.sampled_from([None, "open", "won", "lost"]))
    if card["dispute"]:
        dispute = s.dispute(
            new_id("dp"), card["charge"], card["intent"], card["paid"], "needs_response"
        )
        story.tell("charge.dispute.created", dispute)
        if card["dispute"] != "open":
            story.tell("charge.dispute.closed", {**dispute, "status": card["dispute"]})

    monthly = {"amount": draw(st.integers(100, 10_000)), "subscription": new_id("sub")}
    monthly["invoices"], state = [], "active"
    for _ in range(draw(st.integers(1, 2))):
        invoice_id, intent_id, charge_id = new_id("in"), new_id("pi"), new_id("ch")
        currency = draw(st.sampled_from(["eur"] * 5 + ["usd"]))
        if draw(st.booleans()):
            unpaid = s.invoice(invoice_id, monthly["subscription"], monthly["amount"])
            story.tell("invoice.payment_failed", {**unpaid, "amount_paid": 0})
        paid = s.invoice(
            invoice_id,
            monthly["subscription"],
            monthly["amount"],
            currency,
            intent_id,
            charge_id,
            expand_payments=True,
        )
        paid["status_transitions"]["paid_at"] = story.tell("invoice.paid", paid)
        held = _refunds(draw, story, charge_id, intent_id, monthly["amount"], currency)
        monthly["invoices"].append((invoice_id, currency, held))
    if draw(st.booleans()):
        story.tell(
            "customer.subscription.deleted", s.subscription(monthly["subscription"], "canceled")
        )
        state = "cancelled"
    monthly["state"] = state

    payloads = [s.event(type_, obj, created=time) for time, type_, obj in story.events]
    order = draw(st.permutations(range(len(payloads))))
    again = draw(st.lists(st.sampled_from(range(len(payloads))), max_size=6))
    deliveries = [payloads[i] for i in order]
    for i in again:
        deliveries.insert(draw(st.integers(0, len(deliveries))), payloads[i])
    return card, monthly, deliveries


@settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(story=stories())
def test_any_order_and_any_repetition_keep_the_money_right(app, client, story):
    card, monthly, deliveries = story  # each story has its own campaign, donors and ids
    app.config["STRIPE_WEBHOOK_SECRET"] = WEBHOOK_SECRET
    campaign = factories.campaign()
    gift = pending_card_gift(campaign, card["amount"], intent_id=card["intent"])
    recurring = monthly_gift(campaign, monthly["amount"], subscription_id=monthly["subscription"])
    for payload in deliveries:
        answer = deliver(client, payload)
        assert answer.status_code == 200, answer.text

    donations = check_money()
    gift = db.session.get(Donation, gift.id)
    if (card["paid"], card["currency"]) != (card["amount"], "eur"):
        assert (gift.status, gift.net_cents, gift.stripe_paid_cents) == (
            "review",
            gift.amount_cents,
            card["paid"],
        )
    elif card["dispute"] == "lost":
        assert (gift.status, gift.net_cents) == ("refunded", 0)
    else:
        assert gift.refunded_cents == card["refunded"]
        assert gift.status == ("refunded" if card["refunded"] == card["amount"] else "succeeded")
    assert gift.dispute_status == card["dispute"]

    by_invoice = {d.stripe_invoice_id: d for d in donations if d.recurring_gift_id == recurring.id}
    assert set(by_invoice) == {invoice_id for invoice_id, _, _ in monthly["invoices"]}
    for invoice_id, currency, held in monthly["invoices"]:
        paid = by_invoice[invoice_id]
        if currency != "eur":
            assert (paid.status, paid.refunded_cents) == ("review", 0)
        else:
            assert paid.refunded_cents == held
    assert db.session.get(RecurringGift, recurring.id).status == monthly["state"]
    assert "pending" not in {d.status for d in donations if d.campaign_id == campaign.id}

"""Gifts as Legami has them before Stripe's news, and the money invariants checked after it."""

from collections import Counter, defaultdict

from sqlalchemy import func, select

from campaigns.models import Campaign
from donors.models import DonorYearTotal
from legami.extensions import db
from payments.models import Donation, RecurringGift, Refund, RefundStatus, Status
from receipts import issuing
from receipts.models import Kind, Receipt, ReceiptStatus
from tests import factories
from tests.payments.stripe_events import new_id

HOLDING = (RefundStatus.PENDING, RefundStatus.REQUIRES_ACTION, RefundStatus.SUCCEEDED)


def pending_card_gift(campaign, amount_cents: int = 5000, **overrides) -> Donation:
    """A one-off card gift whose PaymentIntent Legami created and stored."""
    return factories.donation(
        campaign=campaign,
        amount_cents=amount_cents,
        status=Status.PENDING,
        received_on=None,
        stripe_payment_intent_id=overrides.pop("intent_id", new_id("pi")),
        **overrides,
    )


def monthly_gift(campaign, amount_cents: int = 1500, **overrides) -> RecurringGift:
    """A monthly gift whose Stripe subscription has started."""
    gift = RecurringGift(
        donor=overrides.pop("donor", None) or factories.donor(),
        campaign=campaign,
        amount_cents=amount_cents,
        status="active",
        stripe_customer_id=new_id("cus"),
        stripe_subscription_id=overrides.pop("subscription_id", new_id("sub")),
        **overrides,
    )
    db.session.add(gift)
    db.session.commit()
    return gift


def check_money() -> list[Donation]:
    """Every money invariant, on what the database holds now; returns the donations.

    Campaign raised = sum of the gifts' net = the donors' year totals, to the cent; refunds
    never exceed a gift (nor, for a gift in review, what Stripe says was paid); each
    PaymentIntent and invoice gives at most one gift; after the receipt job, a valid receipt
    exactly for each counted gift with money left, for that amount.
    """
    db.session.commit()
    issuing.issue_due()
    db.session.expire_all()
    donations = db.session.scalars(select(Donation).order_by(Donation.id)).all()
    counted = [d for d in donations if d.status in (Status.SUCCEEDED, Status.REFUNDED)]
    for campaign in db.session.scalars(select(Campaign)):
        mine = [d for d in counted if d.campaign_id == campaign.id]
        assert campaign.raised_cents == sum(d.net_cents for d in mine), campaign.id
        assert campaign.gift_count == sum(d.status == Status.SUCCEEDED for d in mine)
    years = defaultdict(lambda: [0, 0])
    for d in counted:
        years[(d.donor_id, d.received_on.year)][0] += d.net_cents
        years[(d.donor_id, d.received_on.year)][1] += d.status == Status.SUCCEEDED
    stored = {
        (row.donor_id, row.year): [row.net_cents, row.gifts]
        for row in db.session.scalars(select(DonorYearTotal))
        if row.net_cents or row.gifts
    }
    assert stored == {key: value for key, value in years.items() if any(value)}
    for d in donations:
        assert 0 <= d.refunded_cents <= d.amount_cents
        held = db.session.scalar(
            select(func.coalesce(func.sum(Refund.amount_cents), 0)).where(
                Refund.donation_id == d.id, Refund.status.in_([s.value for s in HOLDING])
            )
        )
        if d.status == Status.REVIEW or (d.status == Status.CANCELLED and d.stripe_paid_cents):
            # In review, or refused by the treasurer (payments.review): refunds in Stripe's
            # currency, never more than Stripe was paid.
            assert d.refunded_cents == 0 and held <= d.stripe_paid_cents
        elif d.status in (Status.SUCCEEDED, Status.REFUNDED):
            if d.dispute_status != "lost":
                assert d.refunded_cents == min(held, d.amount_cents), d.id
        else:
            assert held == 0 or d.status == Status.PENDING, d.id
    for key in ("stripe_payment_intent_id", "stripe_invoice_id"):
        ids = Counter(getattr(d, key) for d in donations if getattr(d, key))
        assert all(n == 1 for n in ids.values()), key
    receipts = defaultdict(list)
    for receipt in db.session.scalars(
        select(Receipt).where(Receipt.kind == Kind.SINGLE, Receipt.status == ReceiptStatus.ISSUED)
    ):
        receipts[receipt.donation_id].append(receipt.amount_cents)
    expected = {d.id: [d.net_cents] for d in counted if d.net_cents > 0}
    assert dict(receipts) == expected, (dict(receipts), expected)
    return donations

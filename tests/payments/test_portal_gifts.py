"""The donor portal's payment pages: gifts, pending transfers with bank details, and monthly
gifts stopped or changed at localstripe."""

import pytest
from sqlalchemy import select

from legami.extensions import db
from legami.models import AuditEntry
from legami.money import format_money
from payments import stripe_gateway
from payments.models import Method, RecurringGift, RecurringStatus, Status
from tests import factories
from tests.donors.test_portal import portal_login


@pytest.fixture
def no_proration(monkeypatch):
    """localstripe 1.15 answers 500 to `proration_behavior` on a subscription update (it
    knows only the `prorate` Stripe removed in 2020); the rest of the call is the same."""
    monkeypatch.setattr(stripe_gateway, "NO_PRORATION", {})


def _monthly_gift(donor, campaign, amount_cents=1500) -> RecurringGift:
    """An active monthly gift with its Subscription at localstripe, as the form makes it."""
    gift = RecurringGift(donor=donor, campaign=campaign, amount_cents=amount_cents)
    db.session.add(gift)
    db.session.commit()
    method = stripe_gateway.client().v1.payment_methods.create(
        params={
            "type": "card",
            "card": {"number": "4242424242424242", "exp_month": 12, "exp_year": 2031, "cvc": "123"},
        }
    )
    subscription = stripe_gateway.create_subscription(gift, method.id)
    assert subscription["status"] == "active"
    gift.status = RecurringStatus.ACTIVE  # what the first invoice.paid webhook sets
    db.session.commit()
    return gift


def _subscription(gift: RecurringGift) -> dict:
    return stripe_gateway.client().v1.subscriptions.retrieve(gift.stripe_subscription_id)


def test_gifts_and_pending_transfers(app, client):
    donor = factories.donor()
    campaign = factories.campaign(title="Orti condivisi")
    factories.donation(donor=donor, campaign=campaign, amount_cents=4000)
    factories.donation(donor=donor, campaign=campaign, amount_cents=3000, refunded_cents=1000)
    factories.donation(
        donor=donor,
        campaign=campaign,
        amount_cents=25_000,
        method=Method.BANK_TRANSFER,
        status=Status.PENDING,
        received_on=None,
        payment_reference="LG-AB12-CD",
    )
    factories.donation(  # an unfinished card payment: never a gift
        donor=donor, campaign=campaign, amount_cents=7700, status=Status.PENDING, received_on=None
    )
    factories.donation(amount_cents=9900)  # somebody else's
    portal_login(app, client, donor)
    page = client.get("/portal/doni")
    assert page.status_code == 200
    assert page.text.count('class="card pending-transfer"') == 1
    assert "IT53 X050 3411 4000 0000 0012 345" in page.text
    assert "LG-AB12-CD" in page.text
    rows = page.text.split('class="table received-gifts"')[1]
    assert rows.count("<tr>") == 3  # the head and two gifts
    assert format_money(4000) in rows and format_money(2000) in rows  # net of the refund
    assert format_money(7700) not in page.text and format_money(9900) not in page.text


def test_cancel_a_monthly_gift(stripe_app, client):
    donor = factories.donor()
    gift = _monthly_gift(donor, factories.campaign())
    portal_login(stripe_app, client, donor)
    page = client.get("/portal/mensili")
    assert f'action="/portal/mensili/{gift.token}/annulla"' in page.text

    assert client.post(f"/portal/mensili/{gift.token}/annulla").status_code == 302
    gift = db.session.get(RecurringGift, gift.id)
    assert gift.status == "cancelled" and gift.cancelled_at is not None
    assert _subscription(gift).status == "canceled"
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "recurring.cancel"))
    assert entry.detail == {"by": "portal"}
    assert f"/portal/mensili/{gift.token}/annulla" not in client.get("/portal/mensili").text


def test_change_the_amount_of_a_monthly_gift(stripe_app, client, no_proration):
    donor = factories.donor()
    campaign = factories.campaign()
    gift = _monthly_gift(donor, campaign)
    portal_login(stripe_app, client, donor)
    field = f"gift-{gift.token}-amount"
    url = f"/portal/mensili/{gift.token}/importo"
    assert f'name="{field}"' in client.get("/portal/mensili").text

    for bad in ("", "abc", "0,50", "15", "60.000,00"):
        refused = client.post(url, data={field: bad})
        assert refused.status_code == 422, bad
        assert 'class="error"' in refused.text, bad
    assert db.session.get(RecurringGift, gift.id).amount_cents == 1500
    assert _subscription(gift)["items"].data[0].plan.amount == 1500

    assert client.post(url, data={field: "25,50"}).status_code == 302
    gift = db.session.get(RecurringGift, gift.id)
    assert gift.amount_cents == 2550
    item = _subscription(gift)["items"].data[0]
    assert (item.plan.amount, item.plan.interval, item.plan.currency) == (2550, "month", "eur")
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "recurring.amount"))
    assert entry.detail == {"by": "portal", "old": 1500, "new": 2550}

    # A stopped gift cannot change.
    client.post(f"/portal/mensili/{gift.token}/annulla")
    assert client.post(url, data={field: "30"}).status_code == 422
    assert db.session.get(RecurringGift, gift.id).amount_cents == 2550


def test_another_donors_gift_is_not_found(stripe_app, client, no_proration):
    owner = factories.donor()
    gift = _monthly_gift(owner, factories.campaign())
    portal_login(stripe_app, client, factories.donor())
    assert client.post(f"/portal/mensili/{gift.token}/annulla").status_code == 404
    field = f"gift-{gift.token}-amount"
    assert client.post(f"/portal/mensili/{gift.token}/importo", data={field: "30"}).status_code == (
        404
    )
    gift = db.session.get(RecurringGift, gift.id)
    assert (gift.status, gift.amount_cents) == ("active", 1500)
    assert _subscription(gift).status == "active"
    assert f"/portal/mensili/{gift.token}" not in client.get("/portal/mensili").text

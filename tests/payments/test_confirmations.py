"""Irreversible actions say what will happen before they happen: a refund and a transfer's
confirmation answer with a page listing the consequences (amount, who is mailed) and act only
when it is sent back; publishing, closing, archiving and stopping a monthly gift ask in the
page itself. A card refund shows "refund requested, waiting for Stripe" until Stripe's event
counts it."""

import lxml.html
from sqlalchemy import func, select

from legami.extensions import db
from payments import stripe_gateway
from payments.models import Donation, Method, RecurringGift, RecurringStatus, Refund, Status
from tests import factories
from tests.payments.conftest import deliver, event
from tests.payments.test_card_gifts import _give, _pay


def _confirmation(html: str) -> tuple[str, list[str], dict[str, str]]:
    """The confirmation page: its form's address, the consequences listed, its fields."""
    tree = lxml.html.fromstring(html)
    (form,) = tree.xpath("//form[.//input[@name='confirmed']]")
    fields = {i.get("name"): i.get("value") for i in form.xpath(".//input[@type='hidden']")}
    lines = [
        " ".join(li.text_content().split()) for li in tree.xpath("//ul[@class='consequences']/li")
    ]
    return form.get("action"), lines, fields


def _texts(html: str, xpath: str) -> list[str]:
    return [" ".join(e.text_content().split()) for e in lxml.html.fromstring(html).xpath(xpath)]


def test_a_card_refund_is_confirmed_then_waits_for_stripe(stripe_app, client, login, english):
    campaign = factories.campaign(title="Orti in città")
    _give(client, campaign)
    donation = db.session.scalar(select(Donation))
    deliver(client, event("payment_intent.succeeded", _pay(donation.stripe_payment_intent_id)))
    login("treasurer")
    url = f"/staff/donations/{donation.id}/refund"

    asked = client.post(url, data={"amount": "20", "reason": "Doppio"})
    assert asked.status_code == 200
    action, lines, fields = _confirmation(asked.text)
    assert action == url and fields["amount"] == "20" and fields["reason"] == "Doppio"
    assert lines[0] == "€20 of the gift of €50 from Maria Rossi is refunded."
    assert "Stripe sends the money back to the card" in lines[1]
    assert "mailed to maria.rossi@example.org" in lines[2].lower()
    # Nothing happened yet: no refund row, nothing asked of Stripe.
    assert db.session.scalar(select(func.count()).select_from(Refund)) == 0
    charge = stripe_gateway.client().v1.charges.retrieve(donation.stripe_charge_id).to_dict()
    assert charge["amount_refunded"] == 0

    done = client.post(action, data={**fields, "confirmed": "1"})
    assert done.status_code == 302
    page = client.get(done.location).text
    assert _texts(
        page, "//li[contains(@class, 'refund')]//span[contains(@class, 'refund-waiting')]"
    ) == ["refund requested, waiting for Stripe"]
    assert "€20 are on their way back to the card" in page
    assert "Kept:" not in page  # nothing is refunded until Stripe says so
    refund = db.session.scalar(select(Refund))
    assert (refund.status, refund.amount_cents) == ("pending", 2000)
    assert db.session.get(Donation, donation.id).refunded_cents == 0

    charge = stripe_gateway.client().v1.charges.retrieve(donation.stripe_charge_id).to_dict()
    deliver(client, event("charge.refunded", charge))
    page = client.get(done.location).text
    assert "waiting for Stripe" not in page and "on their way back" not in page
    assert "Kept: €30" in page
    assert db.session.get(Donation, donation.id).refunded_cents == 2000


def test_a_cash_refund_says_the_treasurer_gives_the_money_back(client, login, english):
    gift = factories.donation(method=Method.CASH, amount_cents=4000)
    login("treasurer")
    asked = client.post(f"/staff/donations/{gift.id}/refund", data={"amount": "40", "reason": "x"})
    _action, lines, fields = _confirmation(asked.text)
    assert "give the money back to the donor yourself" in lines[1]
    assert db.session.get(Donation, gift.id).refunded_cents == 0
    client.post(f"/staff/donations/{gift.id}/refund", data={**fields, "confirmed": "1"})
    db.session.expire_all()
    assert db.session.get(Donation, gift.id).status == Status.REFUNDED


def test_a_bad_refund_is_refused_before_any_question(client, login, english):
    gift = factories.donation(amount_cents=1000)
    login("treasurer")
    answer = client.post(f"/staff/donations/{gift.id}/refund", data={"amount": "11", "reason": "x"})
    assert answer.status_code == 422 and "consequences" not in answer.text


def test_confirming_a_transfer_says_what_happens_and_who_is_mailed(client, login, english):
    campaign = factories.campaign(title="Doposcuola")
    donor = factories.donor(first_name="Bea", last_name="Neri", email="bea@example.org")
    gift = factories.donation(
        campaign=campaign,
        donor=donor,
        method=Method.BANK_TRANSFER,
        status=Status.PENDING,
        received_on=None,
        amount_cents=7500,
    )
    login("treasurer")
    url = f"/staff/donations/{gift.id}/confirm"
    asked = client.post(url, data={"received_on": "2026-11-20"})
    action, lines, fields = _confirmation(asked.text)
    assert lines[0] == (
        "The gift of €75 from Bea Neri is marked as received on November 20, 2026 and counts"
        " towards “Doposcuola”."
    )
    assert "Bea Neri is thanked by e-mail at bea@example.org" in lines[1]
    assert "Yes, confirm the transfer of €75" in asked.text
    cancel = lxml.html.fromstring(asked.text).xpath("//form[.//input[@name='confirmed']]//a")
    assert cancel[0].get("href") == f"/staff/donations/{gift.id}"
    assert db.session.get(Donation, gift.id).status == Status.PENDING
    client.post(action, data={**fields, "confirmed": "1"})
    db.session.expire_all()
    confirmed = db.session.get(Donation, gift.id)
    assert (confirmed.status, confirmed.received_on.isoformat()) == ("succeeded", "2026-11-20")


def test_publish_close_and_archive_ask_in_the_page(client, login, english):
    draft = factories.campaign(status="draft", title="Casa aperta")
    live = factories.campaign(title="Orto", raised_cents=12_300, gift_count=3)
    ended = factories.campaign(status="ended", title="Inverno")
    login("staff")
    for campaign, action, words in (
        (draft, "publish", "“Casa aperta” becomes public at http://localhost/campagne/"),
        (live, "close", "“Orto” stops taking gifts now; its page stays up with €123 raised."),
        (ended, "archive", "“Inverno” leaves the public lists"),
    ):
        page = client.get(f"/staff/campaigns/{campaign.id}").text
        (details,) = lxml.html.fromstring(page).xpath(
            f"//details[.//form[contains(@action, '/{action}')]]"
        )
        assert words in " ".join(details.text_content().split())
        # The action's button is inside the question, not on the page.
        assert details.xpath(".//summary") and details.xpath(".//form//button[@type='submit']")


def test_stopping_a_monthly_gift_asks_first_for_staff_and_donors(client, login, english):
    donor = factories.donor(first_name="Pia", last_name="Galli")
    campaign = factories.campaign()
    monthly = RecurringGift(
        donor=donor, campaign=campaign, amount_cents=1500, status=RecurringStatus.ACTIVE
    )
    db.session.add(monthly)
    db.session.flush()
    gift = factories.donation(
        donor=donor, campaign=campaign, recurring_gift_id=monthly.id, amount_cents=1500
    )
    login("staff")
    page = client.get(f"/staff/donations/{gift.id}").text
    (details,) = lxml.html.fromstring(page).xpath(
        "//details[.//form[contains(@action, '/cancel')]]"
    )
    text = " ".join(details.text_content().split())
    assert "No further payment of €15 a month is taken from Pia Galli" in text
    assert "The donor is not mailed" in text

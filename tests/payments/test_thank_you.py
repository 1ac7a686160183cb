"""After a gift: the thank-you page (donor area, share links, the invitation to give monthly),
the thank-you mail with its HTML part, and the card page's way out to a bank transfer when
Stripe cannot take the card. Stripe is a real localstripe server; mail a real SMTP server."""

import re
from urllib.parse import quote

import pytest
from sqlalchemy import select

from legami.extensions import db
from mailing.models import MailJob
from payments import stripe_gateway
from payments.models import Donation, RecurringGift
from receipts import issuing, pdf
from tests import factories
from tests.conftest import deliver_queued, free_port
from tests.payments.conftest import deliver, event
from tests.payments.test_card_gifts import _give, _pay


@pytest.fixture
def campaign():
    return factories.campaign(
        title="Orti condivisi",
        title_en="Shared gardens",
        goal_cents=1_000_000,
        cover="cover.png",
        pacts=[factories.pact(title="Un tetto")],
    )


def test_thank_you_page_links_the_donor_area_shares_and_invites_monthly(client, english, campaign):
    gift = factories.donation(campaign=campaign, amount_cents=3_500)
    page = client.get(f"/dona/{gift.token}/grazie").text
    assert 'href="/portal" id="donor-area-link"' in page
    url = f"http://localhost/campagne/{campaign.slug}"
    assert "https://wa.me/?text=I%20gave%20to%20%22Shared%20gardens%22." in page
    assert quote(url) in page
    assert f"https://www.facebook.com/sharer/sharer.php?u={quote(url, safe='/')}" in page
    assert "mailto:?subject=Shared%20gardens&amp;body=" in page
    assert "<script" not in page.split("<main", 1)[1]  # no third-party script, no script at all
    invite = f'href="/campagne/{campaign.slug}/dona?frequency=monthly&amp;amount=3500"'
    assert invite in page

    form = client.get(f"/campagne/{campaign.slug}/dona?frequency=monthly&amount=3500").text
    assert re.search(r'<input checked[^>]*name="frequency"[^>]*value="monthly"', form)
    assert 'value="other" checked' in form and 'value="35,00"' in form
    preset = client.get(f"/campagne/{campaign.slug}/dona?amount=10000").text
    assert 'value="10000" checked' in preset
    odd = client.get(f"/campagne/{campaign.slug}/dona?amount=-5&frequency=x")
    assert odd.status_code == 200
    assert re.search(r'<input checked[^>]*name="frequency"[^>]*value="one_off"', odd.text)


def test_a_monthly_gift_is_not_invited_to_give_monthly(client, english, campaign):
    donor = factories.donor()
    monthly = RecurringGift(donor=donor, campaign=campaign, amount_cents=2_000)
    db.session.add(monthly)
    db.session.commit()
    gift = factories.donation(campaign=campaign, donor=donor, recurring_gift=monthly)
    page = client.get(f"/dona/{gift.token}/grazie").text
    assert "Thank you!" in page and "donor-area-link" in page
    assert "give-monthly" not in page
    thanks = client.get(f"/dona/mensile/{monthly.token}/grazie").text
    assert "donor-area-link" in thanks and "give-monthly" not in thanks


def test_thank_you_mail_has_an_html_part_in_the_newsletter_layout(
    stripe_app, client, campaign, smtp_server
):
    _give(client, campaign)
    donation = db.session.scalar(select(Donation))
    deliver(client, event("payment_intent.succeeded", _pay(donation.stripe_payment_intent_id)))
    with stripe_app.app_context():
        issuing.issue_due()
        pdf.render_due()
    deliver_queued(stripe_app)
    [mail] = smtp_server.messages
    text = mail.get_body(("plain",)).get_content()
    html = mail.get_body(("html",)).get_content()
    assert "La tua donazione di 50\xa0€" in text and "http://localhost/portal" in text
    assert "http://localhost/portal" in html
    assert 'lang="it"' in html and 'role="presentation"' in html  # the layout
    assert campaign.organisation.name in html
    assert "Orti condivisi" in html and "Shared gardens" not in html  # the donor's language
    assert f"http://localhost/uploads/{campaign.cover}" in html  # the campaign card's cover
    assert f"http://localhost/campagne/{campaign.slug}" in html
    assert "Un tetto" in html and "<script" not in html
    assert "Unsubscribe" not in html and "disiscriv" not in html.lower()
    parts = [part.get_content_type() for part in mail.walk()]
    assert "multipart/alternative" in parts and parts.count("text/html") == 1


def test_card_gift_switches_to_a_bank_transfer_in_one_click(stripe_app, client, campaign):
    assert _give(client, campaign, cover_fee="y", dedication="Per la nonna").status_code == 302
    card = db.session.scalar(select(Donation))
    intent_id = card.stripe_payment_intent_id
    page = client.get(f"/dona/{card.token}/carta").text
    assert 'id="card-fallback"' in page and "passa-al-bonifico" in page
    assert "hidden" in page.split('id="card-fallback"', 1)[1].split(">", 1)[0]

    response = client.post(f"/dona/{card.token}/passa-al-bonifico")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/dona/{card.token}/bonifico")
    db.session.expire_all()
    gift = db.session.get(Donation, card.id)
    assert (gift.method, gift.status, gift.amount_cents, gift.fee_cents) == (
        "bank_transfer",
        "pending",
        5_000,  # the amount chosen, without the card fee
        0,
    )
    assert gift.payment_reference.startswith("LG-")
    assert gift.stripe_payment_intent_id is None and gift.dedication == "Per la nonna"
    assert gift.donor.email == "maria.rossi@example.org"
    assert db.session.scalar(select(MailJob.kind).where(MailJob.donation_id == gift.id)) == (
        "transfer_details"
    )
    assert stripe_gateway.client().v1.payment_intents.retrieve(intent_id).status == "canceled"
    transfer = client.get(f"/dona/{card.token}/bonifico").text
    assert gift.payment_reference in transfer and "50\xa0€" in transfer

    # Again (a double click): nothing more happens; the card page now sends to the transfer.
    client.post(f"/dona/{card.token}/passa-al-bonifico")
    assert db.session.scalar(select(Donation.amount_cents).where(Donation.id == card.id)) == 5_000
    assert client.get(f"/dona/{card.token}/carta").status_code == 302


def test_a_card_already_paid_is_not_switched(stripe_app, client, campaign):
    _give(client, campaign)
    card = db.session.scalar(select(Donation))
    _pay(card.stripe_payment_intent_id)  # paid in another tab; the webhook is on its way
    response = client.post(f"/dona/{card.token}/passa-al-bonifico")
    assert response.headers["Location"].endswith(f"/dona/{card.token}/grazie")
    db.session.expire_all()
    gift = db.session.get(Donation, card.id)
    assert (gift.method, gift.payment_reference) == ("card", None)


def test_when_stripe_cannot_be_reached_the_form_offers_the_transfer(app, client, campaign):
    app.config.update(
        STRIPE_SECRET_KEY="sk_test_legami",
        STRIPE_API_BASE=f"http://127.0.0.1:{free_port()}",  # nothing listens there
    )
    response = _give(client, campaign, amount="other", other_amount="42")
    assert response.status_code == 422
    assert 'name="use_transfer"' in response.text
    response = _give(client, campaign, amount="other", other_amount="42", use_transfer="1")
    assert response.status_code == 302 and response.headers["Location"].endswith("/bonifico")
    gift = db.session.scalar(select(Donation).where(Donation.method == "bank_transfer"))
    assert (gift.amount_cents, gift.donor.email) == (4_200, "maria.rossi@example.org")


def test_card_page_when_stripe_cannot_be_reached(stripe_app, client, campaign):
    _give(client, campaign)
    card = db.session.scalar(select(Donation))
    stripe_app.config["STRIPE_API_BASE"] = f"http://127.0.0.1:{free_port()}"
    page = client.get(f"/dona/{card.token}/carta")
    assert page.status_code == 200
    assert 'id="card-form"' not in page.text
    assert "hidden" not in page.text.split('id="card-fallback"', 1)[1].split(">", 1)[0]
    # Switching still works: the PaymentIntent cannot be cancelled, nor can it be paid.
    assert client.post(f"/dona/{card.token}/passa-al-bonifico").status_code == 302
    db.session.expire_all()
    assert db.session.get(Donation, card.id).method == "bank_transfer"

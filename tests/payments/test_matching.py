"""Matching challenges, the books: a match line per gift, the campaign's matched figure beside
its raised one, the rules of which gifts count, releases on refund, dispute and reversal."""

from datetime import timedelta

from flask_babel import force_locale
from sqlalchemy import select

from donors import dashboard
from legami.extensions import db
from legami.timeutil import today_rome
from mailing import compose
from payments import transitions, treasury
from payments.matching_models import MatchLine
from payments.models import Frequency, RecurringGift
from receipts import issuing
from receipts.models import Delivery
from tests import factories
from tests.conftest import deliver_queued
from tests.payments.matching import challenge, check_books, held, transfer


def test_a_gift_is_matched_and_the_campaign_shows_raised_plus_matched(client, english):
    campaign = factories.campaign()
    found = challenge(campaign, cap_cents=325_000, public_text="Raddoppio di Natale")
    gift = transfer(campaign, 5_000)
    assert held(gift) == 5_000
    check_books(campaign.id)
    db.session.refresh(campaign)
    assert (campaign.raised_cents, campaign.matched_cents) == (5_000, 5_000)
    page = client.get(f"/campagne/{campaign.slug}?lang=en").text
    assert "+ €50 matched" in page
    assert "Every euro you give is doubled by Fondazione Comunitaria" in page
    assert "€3,200 of matching left" in page
    assert "Raddoppio di Natale" in page
    api = client.get(f"/api/v1/campaigns/{campaign.slug}").get_json()
    assert (api["raised_cents"], api["matched_cents"]) == (5_000, 5_000)
    assert found.remaining_cents == 320_000
    form = client.get(f"/campagne/{campaign.slug}/dona").text
    assert "of matching left" in form


def test_the_staff_campaign_list_shows_raised_and_matched(client, login, english):
    campaign = factories.campaign()
    challenge(campaign)
    transfer(campaign, 1_234)
    login("staff")
    listing = client.get("/staff/campaigns").text
    assert "€12.34" in listing and "+ €12.34 matched" in listing


def test_the_thank_you_page_says_how_much_the_gift_was_matched(client, english):
    campaign = factories.campaign()
    challenge(campaign, ratio_percent=50)
    gift = transfer(campaign, 3_001)
    assert held(gift) == 1_500  # floored to the cent
    page = client.get(f"/dona/{gift.token}/grazie", follow_redirects=True).text
    assert "Your gift was matched with €15 more." in page


def test_ratio_ceiling_and_the_fee_the_donor_added(app):
    campaign = factories.campaign()
    challenge(campaign, ratio_percent=200, per_gift_ceiling_cents=15_000)
    assert held(transfer(campaign, 5_000)) == 10_000
    assert held(transfer(campaign, 10_000)) == 15_000
    # The fee a donor chose to add is not the gift: it is not matched.
    assert held(transfer(campaign, 2_000 + 55, fee_cents=55)) == 4_000
    check_books(campaign.id)


def test_which_gifts_count(app):
    campaign = factories.campaign()
    today = today_rome()
    found = challenge(campaign, monthly=False, first_time_only=True)
    returning = factories.donor()
    transfer(campaign, 1_000, donor=returning)  # first gift: matched
    assert held(transfer(campaign, 1_000, donor=returning)) == 0  # not a first-time donor
    monthly = RecurringGift(
        donor=factories.donor(), campaign=campaign, amount_cents=1_000, status="active"
    )
    db.session.add(monthly)
    db.session.commit()
    instalment = transfer(campaign, 1_000, recurring_gift=monthly, frequency=Frequency.MONTHLY)
    assert held(instalment) == 0  # monthly instalments do not count here
    assert held(transfer(campaign, 1_000, donor=found.matcher)) == 0  # the matcher's own
    other = factories.campaign()
    assert held(transfer(other, 1_000)) == 0  # another campaign
    later = challenge(campaign, starts_on=today + timedelta(days=1))
    assert held(transfer(campaign, 1_000)) == 1_000  # only the running one matched it
    assert later.committed_cents == 0
    check_books(campaign.id)


def test_the_pool_matches_what_is_left_then_nothing(app):
    campaign = factories.campaign()
    found = challenge(campaign, cap_cents=7_000)
    assert held(transfer(campaign, 5_000)) == 5_000
    assert held(transfer(campaign, 5_000)) == 2_000
    last = transfer(campaign, 5_000)
    assert held(last) == 0
    assert db.session.scalar(select(MatchLine).where(MatchLine.donation_id == last.id)) is None
    db.session.refresh(found)
    assert found.committed_cents == found.cap_cents == 7_000
    check_books(campaign.id)


def test_two_challenges_at_once_each_match_in_their_order(app):
    campaign = factories.campaign()
    first = challenge(campaign, position=1, cap_cents=3_000)
    second = challenge(campaign, position=2, ratio_percent=50)
    gift = transfer(campaign, 4_000)
    lines = db.session.scalars(
        select(MatchLine).where(MatchLine.donation_id == gift.id).order_by(MatchLine.id)
    ).all()
    assert [(line.challenge_id, line.held_cents) for line in lines] == [
        (first.id, 3_000),
        (second.id, 2_000),
    ]
    check_books(campaign.id)


def test_a_partial_refund_releases_the_match_in_proportion(app):
    campaign = factories.campaign()
    found = challenge(campaign, cap_cents=10_000, ratio_percent=100)
    gift = transfer(campaign, 3_000)
    treasury.refund(gift.id, 1_000, "in parte", None)
    assert held(gift) == 2_000  # 3000 * 2000 / 3000
    treasury.refund(gift.id, 1_001, "ancora", None)
    assert held(gift) == 999  # floor(3000 * 999 / 3000)
    check_books(campaign.id)
    # The released money is back in the pool for the next gifts.
    db.session.refresh(found)
    assert found.committed_cents == 999
    treasury.refund(gift.id, 999, "tutto", None)
    assert held(gift) == 0
    line = db.session.scalar(select(MatchLine).where(MatchLine.donation_id == gift.id))
    assert (line.matched_cents, line.held_cents, line.released_reason) == (3_000, 0, "refund")
    check_books(campaign.id)


def test_a_refund_that_failed_takes_the_match_back_while_the_pool_has_room(app):
    campaign = factories.campaign()
    challenge(campaign, cap_cents=3_000)
    gift = transfer(campaign, 2_000)
    donation = transitions.lock(gift.id)
    transitions.send(transitions.set_refunded_total(donation, 2_000))
    db.session.commit()
    assert held(gift) == 0
    other = transfer(campaign, 2_500)  # takes what was released and more
    assert held(other) == 2_500
    donation = transitions.lock(gift.id)
    transitions.send(transitions.set_refunded_total(donation, 0))  # the refund failed
    db.session.commit()
    assert held(gift) == 500  # only what the pool still had
    check_books(campaign.id)


def test_a_lost_dispute_releases_the_match(app):
    campaign = factories.campaign()
    challenge(campaign)
    gift = transfer(campaign, 2_000)
    donation = transitions.lock(gift.id)
    transitions.send(transitions.record_dispute(donation, "open"))
    db.session.commit()
    assert held(gift) == 2_000
    donation = transitions.lock(gift.id)
    transitions.send(transitions.record_dispute(donation, "lost"))
    db.session.commit()
    assert held(gift) == 0
    check_books(campaign.id)


def test_a_bank_reversal_releases_the_match_and_a_new_payment_matches_again(app):
    campaign = factories.campaign()
    challenge(campaign)
    gift = transfer(campaign, 2_000)
    outcome = treasury.reverse_transfer(gift.id, today_rome(), None, "manual")
    db.session.commit()
    assert held(gift) == 0
    check_books(campaign.id)
    if outcome == "pending":  # nothing was issued for it: it can be confirmed again
        treasury.confirm_transfer(gift.id, today_rome(), None)
        db.session.commit()
        assert held(gift) == 2_000
        check_books(campaign.id)


def test_the_thank_you_mail_says_how_much_the_gift_was_matched(app, smtp_server):
    campaign = factories.campaign()
    challenge(campaign)
    donor = factories.donor(language="en", email="anna@example.org")
    # The receipt goes in a mail of its own: the thank-you does not wait for its PDF.
    issuing.settings_for(campaign.organisation_id).delivery = Delivery.AFTER
    db.session.commit()
    transfer(campaign, 2_500, donor=donor)
    deliver_queued(app)
    thanks = [m for m in smtp_server.messages if m["To"] == "anna@example.org"]
    body = thanks[-1].get_body(("plain",)).get_content()
    assert "Your gift was matched with €25 more." in body
    assert "Your gift was matched with €25 more." in thanks[-1].get_body(("html",)).get_content()


def test_newsletter_campaign_cards_show_raised_and_matched(app):
    campaign = factories.campaign()
    challenge(campaign)
    transfer(campaign, 1_500)
    with app.test_request_context("/?lang=en"), force_locale("en"):
        html, text = compose.render_block("campaign", campaign, "en")
    assert "+ €15 matched" in html and "+ €15 matched" in text


def test_the_fundraising_dashboard_shows_matched_beside_income(client, login, english):
    campaign = factories.campaign()
    challenge(campaign, ratio_percent=50)
    transfer(campaign, 4_000)
    year = today_rome().year
    shares = dashboard.shares(today_rome().replace(month=1, day=1), today_rome() + timedelta(1))
    found = next(s for s in shares["campaigns"] if s.id == campaign.id)
    assert (found.income_cents, found.matched_cents) == (4_000, 2_000)
    login("staff")
    page = client.get(f"/staff/donors/dashboard?year_from={year}&year_to={year}&fresh=1").text
    assert "+ €20 matched" in page

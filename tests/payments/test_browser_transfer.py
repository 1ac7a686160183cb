"""A donor pledges a bank transfer in a real browser; the treasurer confirms it; the bar rises.

Elements are found by form field names, ids and classes, not by visible text, so the test
does not depend on which UI strings are translated.
"""

import re

import pytest
from sqlalchemy import select

from campaigns.models import Campaign
from legami.extensions import db
from legami.timeutil import today_rome
from payments.models import Donation
from tests import factories
from tests.conftest import browser_log_in

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery"
REFERENCE = re.compile(r"^LG-[0-9A-Z]{4}-[0-9A-Z]{2}$")


def _setup(app):
    """An organisation, its live campaign and a treasurer; returns plain values."""
    with app.app_context():
        org = factories.organisation()
        campaign = factories.campaign(organisation=org, goal_cents=100_000)
        treasurer = factories.user(roles=("treasurer",), password=PASSWORD)
        return campaign.slug, treasurer.email


def _donation(app) -> Donation:
    with app.app_context():
        donation = db.session.scalar(select(Donation))
        assert donation is not None
        db.session.expunge(donation)
        return donation


def test_transfer_pledge_confirmed_by_treasurer(live_server, browser, page, tmp_path):
    base = live_server.url
    slug, treasurer_email = _setup(live_server.app)

    # The donor: campaign page -> give form -> bank details.
    page.goto(f"{base}/campagne/{slug}")
    assert page.locator("progress.bar").get_attribute("value") == "0"
    with page.expect_navigation():
        page.click("a.give")
    assert page.url == f"{base}/campagne/{slug}/dona"

    page.check('input[name=amount][value="other"]')
    page.fill("#other_amount", "250")
    page.check('input[name=frequency][value="one_off"]')
    page.check('input[name=method][value="bank_transfer"]')
    page.check('input[name=donor_kind][value="person"]')
    page.fill("#first_name", "Luca")
    page.fill("#last_name", "Bassi")
    page.fill("#email", "luca@example.org")
    with page.expect_navigation() as navigation:
        page.click("form.give-form button[type=submit]")
    assert navigation.value.status == 200, page.content()
    assert re.fullmatch(rf"{re.escape(base)}/dona/[^/]+/bonifico", page.url), page.url

    iban = page.locator("dd.iban").inner_text().strip()
    assert iban == "IT53 X050 3411 4000 0000 0012 345"
    # The causale starts with the reference, then a short text about the gift.
    reference = page.locator("dd.reference").inner_text().split()[0]
    assert REFERENCE.match(reference), reference

    transfer_shot = tmp_path / "transfer.png"
    page.screenshot(path=str(transfer_shot), full_page=True)
    assert transfer_shot.stat().st_size > 0

    donation = _donation(live_server.app)
    assert donation.status == "pending"
    assert donation.method == "bank_transfer"
    assert donation.payment_reference == reference
    assert donation.amount_cents == 25_000
    assert page.url.split("/")[-2] == donation.token

    # The treasurer, in a browser context of their own.
    context = browser.new_context(locale="it-IT", viewport={"width": 1280, "height": 900})
    try:
        staff = context.new_page()
        browser_log_in(staff, base, treasurer_email, PASSWORD)

        staff.goto(f"{base}/staff/donations")
        link = staff.locator(f'a[href="/staff/donations/{donation.id}"]')
        assert link.count() == 1
        with staff.expect_navigation():
            link.click()
        assert staff.url == f"{base}/staff/donations/{donation.id}"

        confirm = staff.locator(f'form[action="/staff/donations/{donation.id}/confirm"]')
        confirm.locator("#received_on").fill(today_rome().isoformat())
        with staff.expect_navigation():
            confirm.locator("button[type=submit]").click()
        # The confirmation step says what happens, then posts again.
        assert staff.locator(".consequences li").count() == 3
        with staff.expect_navigation() as navigation:
            staff.locator("form input[name=confirmed]").locator("..").locator(
                "button[type=submit]"
            ).click()
        assert navigation.value.status == 200, staff.content()
        assert staff.url == f"{base}/staff/donations/{donation.id}"
        assert staff.locator(f'form[action="/staff/donations/{donation.id}/confirm"]').count() == 0
    finally:
        context.close()

    with live_server.app.app_context():
        confirmed = db.session.get(Donation, donation.id)
        assert confirmed.status == "succeeded"
        assert confirmed.received_on == today_rome()
        campaign = db.session.scalar(select(Campaign).where(Campaign.slug == slug))
        assert campaign.raised_cents == 25_000

    # The public page, seen by the donor again.
    page.goto(f"{base}/campagne/{slug}")
    assert page.locator("progress.bar").get_attribute("value") == "25"
    assert "250" in page.locator(".progress-figures .raised").inner_text()

    campaign_shot = tmp_path / "campaign.png"
    page.screenshot(path=str(campaign_shot), full_page=True)
    assert campaign_shot.stat().st_size > 0

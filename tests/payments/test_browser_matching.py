"""In a real browser: staff set up a matching challenge and the campaign page shows the
matched amount; a supporter opens a page, a donor gives through it on a 390px phone (bank
transfer), and the owner thanks their donors.

Elements are found by form field names, ids and classes, not by visible text.
"""

import re

import pytest
from sqlalchemy import select

from legami.extensions import db
from legami.timeutil import today_rome
from payments import fundraising_pages, treasury
from payments.models import Donation
from payments.page_models import FundraisingPage
from tests import factories
from tests.conftest import SmtpServer, browser_log_in, deliver_queued

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery"


def _confirm_all_transfers(app) -> None:
    with app.app_context():
        for gift in db.session.scalars(select(Donation).where(Donation.status == "pending")):
            treasury.confirm_transfer(gift.id, today_rome(), None)
        db.session.commit()


def test_staff_set_up_a_challenge_and_the_page_shows_the_matched_amount(live_server, page):
    base = live_server.url
    with live_server.app.app_context():
        campaign = factories.campaign(goal_cents=100_000)
        slug, campaign_id = campaign.slug, campaign.id
        staff_email = factories.user(roles=("staff",), password=PASSWORD).email
        starts, ends = campaign.starts_on.isoformat(), campaign.ends_on.isoformat()
        gift = factories.donation(
            campaign=campaign,
            method="bank_transfer",
            status="pending",
            received_on=None,
            amount_cents=4_000,
            succeeded_at=None,
        )
        gift_id = gift.id
    browser_log_in(page, base, staff_email, PASSWORD)
    page.goto(f"{base}/staff/raddoppi/nuovo")
    page.select_option("#campaign_id", str(campaign_id))
    page.check('input[name=matcher_kind][value="organisation"]')
    page.fill("#matcher_name", "Fondazione Comunitaria")
    page.fill("#matcher_email", "fondazione@example.org")
    page.fill("#ratio_percent", "100")
    page.fill("#cap", "3250")
    page.fill("#starts_on", starts)
    page.fill("#ends_on", ends)
    page.fill("#public_text", "Ogni euro raddoppiato")
    with page.expect_navigation() as navigation:
        page.click("main form.form button[type=submit]")
    assert navigation.value.status == 200, page.content()
    assert re.search(r"/staff/raddoppi/\d+$", page.url), page.url

    with live_server.app.app_context():
        treasury.confirm_transfer(gift_id, today_rome(), None)
        db.session.commit()
    page.goto(f"{base}/campagne/{slug}?lang=en")
    assert page.locator(".progress .matched").inner_text().strip() == "+ €40 matched"
    banner = page.locator("section.matching")
    assert "Fondazione Comunitaria" in banner.inner_text()
    assert banner.locator("progress").get_attribute("value") == "4000"
    page.goto(f"{base}/staff/raddoppi/")
    assert page.locator("td.pledged").first.inner_text().strip() == "€40"


def test_a_page_opened_given_through_on_a_phone_and_thanked(live_server, browser):
    base = live_server.url
    app = live_server.app
    smtp = SmtpServer()
    app.config["SMTP_URL"] = smtp.url
    try:
        with app.app_context():
            campaign = factories.campaign(goal_cents=100_000)
            fundraising_pages.set_settings(campaign, True, False, None)
            db.session.commit()
            slug, ends = campaign.slug, campaign.ends_on.isoformat()

        # The supporter opens a page and confirms it by the mailed link.
        owner = browser.new_context(locale="it-IT", viewport={"width": 1280, "height": 900})
        tab = owner.new_page()
        tab.goto(f"{base}/campagne/{slug}")
        with tab.expect_navigation():
            tab.click(f'a[href="/campagne/{slug}/pagine/nuova"]')
        tab.fill("#first_name", "Luca")
        tab.fill("#last_name", "Ferrari")
        tab.fill("#email", "luca@example.org")
        tab.fill("#display_name", "Luca")
        tab.fill("#title", "I miei 40 anni")
        tab.fill("#story", "Regalate al quartiere.")
        tab.fill("#goal", "100")
        tab.fill("#ends_on", ends)
        with tab.expect_navigation() as navigation:
            tab.click("main form.form button[type=submit]")
        assert navigation.value.status == 200, tab.content()
        deliver_queued(app)
        body = smtp.messages[-1].get_body(("plain",)).get_content()
        link = re.search(rf"{re.escape(base)}/pagine/conferma/[\w-]+", body).group(0)
        tab.goto(link)
        with tab.expect_navigation():
            tab.click("main form button[type=submit]")
        with app.app_context():
            page_slug = db.session.scalar(select(FundraisingPage.slug))

        # A donor on a phone gives through the page, by bank transfer.
        phone = browser.new_context(
            locale="it-IT", viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
        )
        mobile = phone.new_page()
        mobile.goto(f"{base}/pagine/{page_slug}")
        assert mobile.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        with mobile.expect_navigation():
            mobile.click("a.give")
        assert mobile.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        mobile.check('input[name=amount][value="other"]')
        mobile.fill("#other_amount", "30")
        mobile.check('input[name=method][value="bank_transfer"]')
        mobile.check('input[name=donor_kind][value="person"]')
        mobile.fill("#first_name", "Anna")
        mobile.fill("#last_name", "Verdi")
        mobile.fill("#email", "anna@example.org")
        mobile.check("#show_name")
        with mobile.expect_navigation() as navigation:
            mobile.click("form.give-form button[type=submit]")
        assert navigation.value.status == 200, mobile.content()
        assert "/bonifico" in mobile.url
        _confirm_all_transfers(app)
        mobile.goto(f"{base}/pagine/{page_slug}")
        raised = mobile.locator(".progress .raised").inner_text()
        assert raised.replace("\xa0", " ").strip() == "30 €"
        assert "Anna Verdi" in mobile.locator("ul.wall").inner_text()
        phone.close()

        # The owner, signed in by the link, thanks their donors from the donor area.
        tab.goto(f"{base}/portal/pagine/{page_slug}")
        assert "anna@example.org" not in tab.content()
        tab.fill("#message", "Grazie Anna e a tutti!")
        with tab.expect_navigation():
            tab.click('form[action$="/grazie"] button[type=submit]')
        owner.close()
        smtp.messages.clear()
        deliver_queued(app)
        thanked = [
            m
            for m in smtp.messages
            if "Grazie Anna e a tutti!" in m.get_body(("plain",)).get_content()
        ]
        assert [m["To"] for m in thanked] == ["anna@example.org"]
    finally:
        smtp.stop()

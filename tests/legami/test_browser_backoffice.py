"""The back office in Chromium, on a desktop and on a 390 px phone: the menu grouped by job,
the treasurer's home leading to its lists, the reconciliation's missing receipts issued with
a progress page, irreversible actions confirmed, and the gift form's fields for autofill.
Screenshots are saved under the test's tmp folder.

Elements are found by structure, URLs and field names, not by their wording, so the tests
hold whatever the translation of the new strings.
"""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from campaigns.models import Campaign
from legami.extensions import db
from legami.timeutil import today_rome
from payments.models import Donation, Method, Status
from receipts.models import Receipt
from tests import factories
from tests.conftest import browser_log_in

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery"
SIZES = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}


def _world(app) -> dict:
    """A campaign with gifts a treasurer has work on; returns plain values."""
    with app.app_context():
        org = factories.organisation()
        campaign = factories.campaign(organisation=org, title="Orti in città")
        for cents in (3000, 2000):
            factories.donation(
                campaign=campaign,
                method=Method.BANK_TRANSFER,
                status=Status.PENDING,
                received_on=None,
                amount_cents=cents,
            )
        day = today_rome() - timedelta(days=1) if today_rome().day > 1 else today_rome()
        missing = [
            factories.donation(campaign=campaign, amount_cents=cents, received_on=day).id
            for cents in (2500, 1000, 4000)
        ]
        cash = factories.donation(
            campaign=campaign, method=Method.CASH, amount_cents=1200, received_on=day
        )
        treasurer = factories.user(roles=("treasurer",), password=PASSWORD)
        staff = factories.user(roles=("staff",), password=PASSWORD)
        return {
            "slug": campaign.slug,
            "campaign_id": campaign.id,
            "missing": missing,
            "cash": cash.id,
            "treasurer": treasurer.email,
            "staff": staff.email,
        }


def _no_sideways_scroll(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], width


@pytest.mark.parametrize("size", SIZES)
def test_the_treasurer_goes_from_the_home_to_the_work(live_server, browser, tmp_path, size):
    base, world = live_server.url, _world(live_server.app)
    context = browser.new_context(locale="it-IT", viewport=SIZES[size])
    page = context.new_page()
    try:
        browser_log_in(page, base, world["treasurer"], PASSWORD)
        page.goto(f"{base}/staff/")
        _no_sideways_scroll(page)
        page.screenshot(path=str(tmp_path / f"home-{size}.png"), full_page=True)

        # The menu: groups closed, one opened by a click (no script), its links inside.
        assert page.locator("nav.staff-nav li.menu-group > details").count() >= 4
        assert page.locator('nav.staff-nav a[href="/staff/newsletters"]').count() == 0
        treasury = page.locator("nav.staff-nav details").filter(
            has=page.locator('a[href="/staff/statements"]')
        )
        assert not treasury.locator('a[href="/staff/statements"]').is_visible()
        treasury.locator("summary").click()
        assert treasury.locator('a[href="/staff/statements"]').is_visible()
        page.screenshot(path=str(tmp_path / f"menu-{size}.png"), full_page=True)
        _no_sideways_scroll(page)

        # The home's to-do: 2 transfers waiting, 50 €, a link to exactly those.
        todo = page.locator(
            '.home-panel li.todo a[href="/staff/donations?method=bank_transfer&status=pending"]'
        )
        assert todo.locator(".todo-count").inner_text() == "2"
        with page.expect_navigation():
            todo.click()
        assert page.locator("table tbody tr").count() == 2
        assert "50" in page.locator(".list-total").inner_text()
        page.screenshot(path=str(tmp_path / f"transfers-{size}.png"), full_page=True)
    finally:
        context.close()


def test_the_missing_receipts_are_issued_with_a_progress_page(live_server, browser, tmp_path):
    base, world = live_server.url, _world(live_server.app)
    year = today_rome().year
    context = browser.new_context(locale="it-IT", viewport=SIZES["desktop"])
    page = context.new_page()
    try:
        browser_log_in(page, base, world["treasurer"], PASSWORD)
        page.goto(f"{base}/staff/receipts/exports/reconciliation?year={year}")
        # Methods in words (no raw keys), each line a link to its gifts.
        method_cells = page.locator("table").first.locator("tbody tr td:first-child")
        assert "card" not in [t.strip() for t in method_cells.all_inner_texts()]
        missing = page.locator("tr.reason-missing")
        assert missing.locator("td.num").first.inner_text() == "3"
        cash = page.locator("tr.reason-not_deductible")
        assert cash.locator("td.num").first.inner_text() == "1"
        page.screenshot(path=str(tmp_path / "reconciliation.png"), full_page=True)

        with page.expect_navigation():
            missing.locator("form button[type=submit]").click()
        assert "/staff/receipts/annual/" in page.url
        # The page follows the run and shows the result when it ends.
        page.wait_for_selector("p.done", timeout=60_000)
        page.screenshot(path=str(tmp_path / "issued.png"), full_page=True)
        with page.expect_navigation():
            page.locator(".actions a.button").first.click()
        assert page.locator("tr.reason-missing").count() == 0
        assert page.locator("tr.reason-not_deductible").count() == 1
    finally:
        context.close()
    with live_server.app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Receipt)) == 3


@pytest.mark.parametrize("size", SIZES)
def test_irreversible_actions_say_what_happens_first(live_server, browser, tmp_path, size):
    base, world = live_server.url, _world(live_server.app)
    context = browser.new_context(locale="it-IT", viewport=SIZES[size])
    page = context.new_page()
    try:
        # A cash refund: the form, then the page that says what will happen, then done.
        browser_log_in(page, base, world["treasurer"], PASSWORD)
        page.goto(f"{base}/staff/donations/{world['cash']}")
        refund = page.locator(f'form[action="/staff/donations/{world["cash"]}/refund"]')
        refund.locator("#amount").fill("12")
        refund.locator("#reason").fill("Chiesto dal donatore")
        with page.expect_navigation():
            refund.locator("button[type=submit]").click()
        assert page.locator("ul.consequences li").count() == 4
        assert "12" in page.locator("ul.consequences li").first.inner_text()
        _no_sideways_scroll(page)
        page.screenshot(path=str(tmp_path / f"refund-question-{size}.png"), full_page=True)
        with live_server.app.app_context():
            assert db.session.get(Donation, world["cash"]).status == Status.SUCCEEDED
        with page.expect_navigation():
            page.locator("form:has(input[name=confirmed]) button[type=submit]").click()
        assert page.url == f"{base}/staff/donations/{world['cash']}"
        with live_server.app.app_context():
            assert db.session.get(Donation, world["cash"]).status == Status.REFUNDED

        # Closing a campaign: the button opens the question; only its own button closes.
        context.close()
        context = browser.new_context(locale="it-IT", viewport=SIZES[size])
        page = context.new_page()
        browser_log_in(page, base, world["staff"], PASSWORD)
        page.goto(f"{base}/staff/campaigns/{world['campaign_id']}")
        question = page.locator("details.confirm-inline").filter(
            has=page.locator("form[action$='/close']")
        )
        confirm = question.locator("form button[type=submit]")
        assert not confirm.is_visible()
        question.locator("summary").click()
        assert confirm.is_visible()
        assert "Orti in città" in question.inner_text()
        page.screenshot(path=str(tmp_path / f"close-question-{size}.png"), full_page=True)
        with page.expect_navigation():
            confirm.click()
        with live_server.app.app_context():
            assert db.session.get(Campaign, world["campaign_id"]).status == "ended"
    finally:
        context.close()


@pytest.mark.parametrize("size", SIZES)
def test_the_gift_form_asks_the_organisation_name_only_of_organisations(
    live_server, browser, tmp_path, size
):
    base, world = live_server.url, _world(live_server.app)
    context = browser.new_context(locale="it-IT", viewport=SIZES[size])
    page = context.new_page()
    try:
        page.goto(f"{base}/campagne/{world['slug']}/dona")
        for name, token in (
            ("first_name", "given-name"),
            ("last_name", "family-name"),
            ("email", "email"),
            ("organisation_name", "organization"),
            ("street", "street-address"),
            ("postal_code", "postal-code"),
            ("town", "address-level2"),
            ("province", "address-level1"),
        ):
            assert page.locator(f"input[name={name}]").get_attribute("autocomplete") == token
        page.check('input[name=donor_kind][value="person"]')
        assert not page.locator("#organisation_name").is_visible()
        page.check('input[name=donor_kind][value="organisation"]')
        assert page.locator("#organisation_name").is_visible()
        # The fee box says how much it adds.
        assert "0,55" in page.locator("label:has(#cover_fee)").inner_text()
        page.screenshot(path=str(tmp_path / f"gift-form-{size}.png"), full_page=True)
    finally:
        context.close()

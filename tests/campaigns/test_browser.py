"""Staff build and publish a campaign in a real browser; the public sees it, in either language.

Elements are found by form field names and ids, not by visible text, so these tests do not
depend on which UI strings are translated.
"""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from campaigns.models import Campaign
from legami.extensions import db
from legami.timeutil import today_rome
from tests import factories
from tests.conftest import browser_log_in

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery"
TITLE = "Orti condivisi al Cambonino"


def _staff_and_programmes(app):
    """A staff user, an organisation and a pact; returns plain values, not detached rows."""
    with app.app_context():
        user = factories.user(roles=("staff",), password=PASSWORD)
        org = factories.organisation()
        pact = factories.pact()
        return user.email, org.id, pact.id, pact.slug, pact.title


def _fill_campaign(page, org_id: int, starts_on, ends_on) -> None:
    page.fill("#title", TITLE)
    page.select_option("#organisation_id", str(org_id))
    page.fill("#summary", "Un orto per il quartiere.")
    page.fill("#story", "La **storia** dell'orto.")
    page.fill("#goal", "5000")
    page.fill("#starts_on", starts_on.isoformat())
    page.fill("#ends_on", ends_on.isoformat())


def _save_campaign_form(page) -> None:
    with page.expect_navigation():
        page.click("main form.form[enctype='multipart/form-data'] button[type=submit]")


def test_staff_create_publish_and_public_page(live_server, page, tmp_path):
    base = live_server.url
    email, org_id, pact_id, pact_slug, pact_title = _staff_and_programmes(live_server.app)
    cover = tmp_path / "cover.png"
    cover.write_bytes(factories.image_bytes("PNG"))
    today = today_rome()

    browser_log_in(page, base, email, PASSWORD)
    page.goto(f"{base}/staff/campaigns/new")
    _fill_campaign(page, org_id, today, today + timedelta(days=30))
    page.set_input_files("input[name=cover]", str(cover))
    page.check(f'input[name=pact_ids][value="{pact_id}"]')
    _save_campaign_form(page)
    assert "/staff/campaigns/new" not in page.url, page.content()
    assert page.url.rstrip("/").split("/")[-1].isdigit(), page.url

    # Publish from the edit page: the button opens a confirmation stating the consequence.
    confirm = page.locator("form[action$='/publish'] button[type=submit]")
    assert not confirm.is_visible()
    page.locator("details.confirm-inline:has(form[action$='/publish']) > summary").click()
    assert "/campagne/" in page.locator("form[action$='/publish'] p").inner_text()
    with page.expect_navigation():
        confirm.click()

    with live_server.app.app_context():
        campaign = db.session.scalar(select(Campaign))
        assert campaign is not None
        assert campaign.status == "live"
        assert campaign.goal_cents == 500_000
        assert [p.id for p in campaign.pacts] == [pact_id]
        assert campaign.cover
        slug = campaign.slug

    response = page.goto(f"{base}/campagne/{slug}")
    assert response is not None and response.status == 200
    assert page.locator("h1").first.inner_text() == TITLE
    bar = page.locator("progress.bar")
    assert bar.is_visible()
    assert bar.get_attribute("value") == "0"
    assert "5.000" in page.locator(".progress-figures").inner_text()
    pact_link = page.locator(f'a[href="/patti/{pact_slug}"]')
    assert pact_link.count() == 1
    assert pact_link.inner_text() == pact_title

    cover_img = page.locator("img.cover")
    assert cover_img.count() == 1
    cover_img.scroll_into_view_if_needed()
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=cover_img.element_handle()
    )
    assert cover_img.evaluate("img => img.naturalWidth") == 64

    screenshot = tmp_path / "campaign.png"
    page.screenshot(path=str(screenshot), full_page=True)
    assert screenshot.exists() and screenshot.stat().st_size > 0

    with page.expect_navigation():
        pact_link.click()
    assert page.url == f"{base}/patti/{pact_slug}"
    funded_by = page.locator("section[aria-labelledby=funded-by]")
    assert funded_by.locator(f'a[href="/campagne/{slug}"]').inner_text() == TITLE


def test_form_error_rerenders_and_stores_nothing(live_server, page):
    base = live_server.url
    email, org_id, _pact_id, _slug, _title = _staff_and_programmes(live_server.app)
    today = today_rome()

    browser_log_in(page, base, email, PASSWORD)
    page.goto(f"{base}/staff/campaigns/new")
    _fill_campaign(page, org_id, today, today - timedelta(days=1))
    with page.expect_navigation() as navigation:
        page.click("main form.form[enctype='multipart/form-data'] button[type=submit]")
    assert navigation.value.status == 422

    assert page.url == f"{base}/staff/campaigns/new"
    error = page.locator("#ends_on-error")
    assert error.is_visible()
    assert error.get_attribute("class") == "error"
    assert error.inner_text().strip()
    # The error sits in the same field as the end date input, which points to it.
    field = page.locator(".field.has-error", has=page.locator("#ends_on"))
    assert field.locator("p.error").count() == 1
    assert page.locator("#ends_on").get_attribute("aria-describedby") == "ends_on-error"
    assert page.locator("#ends_on").input_value() == (today - timedelta(days=1)).isoformat()
    assert page.locator("#title").input_value() == TITLE

    with live_server.app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Campaign)) == 0


def test_language_switch(live_server, page):
    base = live_server.url
    page.goto(f"{base}/")
    assert page.locator("html").get_attribute("lang") == "it"
    with page.expect_navigation():
        page.click("a[hreflang=en]")
    assert page.locator("html[lang=en]").count() == 1
    assert page.url == f"{base}/?lang=en"
    # The choice is remembered for the next page.
    page.goto(f"{base}/staff/login")
    assert page.locator("html[lang=en]").count() == 1

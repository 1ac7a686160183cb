"""The public side and the main staff pages in real Chromium, on a desktop and a 390 px
phone: the campaign page's first screen and sticky give button, tables that fit a phone,
the card page when Stripe.js cannot load or Stripe answers an error (one click to a bank
transfer), the thank-you page, the composer's block picker and live preview, axe-core's
accessibility check (no serious or critical violation) and giving with the keyboard only.

Screenshots go to the test's tmp dir. Elements are found by ids, names and classes, not by
visible text. Stripe.js is never fetched: js.stripe.com is blocked, or answered by a small
stand-in that behaves as Stripe.js does when Stripe answers an error.
"""

import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from sqlalchemy import select

from legami.extensions import db
from payments.models import Donation
from receipts import issuing, pdf
from tests import factories
from tests.conftest import browser_log_in
from tests.payments.conftest import WEBHOOK_SECRET, localstripe  # noqa: F401 - the fixture

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
STORY = "\n\n".join(
    f"Paragrafo {n} della storia dell'orto, con parole sulla comunità." for n in range(30)
)
STAFF_PAGES = (
    "staff.dashboard",
    "campaigns_staff.campaigns",
    "campaigns_staff.pacts",
    "donors_staff.donors",
    "payments_staff.donations",
    "receipts_staff.receipts",
    "newsletters.index",
    "newsletters.new",
)
# What Stripe.js does when Stripe refuses: the field loads; confirming answers an api_error.
STRIPE_ERROR_JS = """
window.Stripe = function () {
  return {
    elements: function () {
      return {
        create: function () {
          var handlers = {};
          return {
            on: function (name, handler) { handlers[name] = handler; },
            mount: function (selector) {
              document.querySelector(selector).insertAdjacentHTML(
                "beforeend", '<p id="stand-in-field">card field</p>');
              setTimeout(function () { if (handlers.ready) handlers.ready({}); }, 50);
            },
          };
        },
      };
    },
    confirmPayment: function () {
      return Promise.resolve({ error: { type: "api_error",
        message: "An error occurred with our connection to Stripe." } });
    },
  };
};
"""


def _context(browser, viewport):
    return browser.new_context(
        locale="it-IT", viewport=viewport, is_mobile=viewport is PHONE, has_touch=viewport is PHONE
    )


def _world(app, stripe_url: str | None = None) -> dict:
    """An organisation with IBAN, a live campaign (long story, pact, lab, update), a donor
    with a gift and its receipt, and a user with every role; plain values back."""
    if stripe_url:
        app.config.update(
            STRIPE_SECRET_KEY="sk_test_legami",
            STRIPE_PUBLISHABLE_KEY="pk_test_legami",
            STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET,
            STRIPE_API_BASE=stripe_url,
        )
    with app.app_context():
        pact, lab = factories.pact(), factories.lab()
        campaign = factories.campaign(
            title="Orti condivisi al Cambonino",
            summary="Un orto per il quartiere, coltivato insieme da chi ci abita.",
            story=STORY,
            pacts=[pact],
            labs=[lab],
        )
        donor = factories.donor(email="anna.bassi@example.org", first_name="Anna")
        gift = factories.donation(campaign=campaign, donor=donor, amount_cents=3_500)
        issuing.issue_for_gift(gift.id)
        db.session.commit()
        pdf.render_due()
        user = factories.user(roles=("admin", "staff", "treasurer"), password=PASSWORD)
        with app.test_request_context("/"):
            from flask import url_for

            from donors import portal

            portal_link = portal.issue_link(donor)
            db.session.commit()
            staff_urls = [url_for(endpoint) for endpoint in STAFF_PAGES]
        return {
            "slug": campaign.slug,
            "pact": pact.slug,
            "lab": lab.slug,
            "gift_token": gift.token,
            "email": user.email,
            "portal_link": portal_link,
            "staff_urls": staff_urls,
        }


def _enter_portal(page, link: str) -> None:
    page.goto(link)
    with page.expect_navigation():
        page.click("form.portal-enter button[type=submit]")


def _fill_gift(page, method: str, amount: str = "40") -> None:
    page.check('input[name=amount][value="other"]')
    page.fill("#other_amount", amount)
    page.check(f'input[name=method][value="{method}"]')
    page.fill("#first_name", "Luca")
    page.fill("#last_name", "Bassi")
    page.fill("#email", "luca@example.org")
    with page.expect_navigation():
        page.click("form.give-form button[type=submit]:not([name])")


def _box(page, selector: str) -> dict:
    box = page.locator(selector).first.bounding_box()
    assert box is not None, selector
    return box


def test_phone_campaign_page_puts_giving_first_and_keeps_it_in_reach(
    live_server, browser, tmp_path
):
    world = _world(live_server.app)
    url = f"{live_server.url}/campagne/{world['slug']}"

    phone = _context(browser, PHONE)
    page = phone.new_page()
    page.goto(url)
    for selector in ("h1", "progress.bar", "a.give"):
        box = _box(page, selector)
        assert box["y"] + box["height"] <= PHONE["height"], (selector, box)
    page.screenshot(path=str(tmp_path / "campaign-phone-first-screen.png"))
    sticky = page.locator("#give-sticky")
    page.wait_for_function("() => document.getElementById('give-sticky').hidden === true")
    # Down in the story the page's own button is gone: the sticky one is on screen.
    page.locator(".campaign-body .story p").nth(20).scroll_into_view_if_needed()
    page.wait_for_function("() => document.getElementById('give-sticky').hidden === false")
    box = _box(page, "#give-sticky a")
    assert box["y"] >= 0 and box["y"] + box["height"] <= PHONE["height"]
    page.screenshot(path=str(tmp_path / "campaign-phone-scrolled.png"))
    with page.expect_navigation():
        sticky.locator("a").click()
    assert page.url.endswith(f"/campagne/{world['slug']}/dona")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    phone.close()

    desktop = _context(browser, DESKTOP)
    page = desktop.new_page()
    page.goto(url)
    assert not page.locator("#give-sticky").is_visible()
    side, story = _box(page, "aside.side"), _box(page, ".campaign-body")
    assert side["x"] > story["x"]  # the progress beside the story
    page.screenshot(path=str(tmp_path / "campaign-desktop.png"), full_page=True)
    desktop.close()


def test_tables_fit_a_phone_as_cards(live_server, browser, tmp_path):
    world = _world(live_server.app)
    base = live_server.url
    context = _context(browser, PHONE)
    page = context.new_page()
    _enter_portal(page, world["portal_link"])
    pages = [f"{base}/portal/doni", f"{base}/portal/ricevute"]
    for url in pages:
        page.goto(url)
        assert page.locator("table.table tbody tr").count() >= 1, url
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], url
        label = page.locator("table.table tbody td[data-label]").first.get_attribute("data-label")
        assert label, url
    page.screenshot(path=str(tmp_path / "portal-receipts-phone.png"), full_page=True)
    browser_log_in(page, base, world["email"], PASSWORD)
    for path in world["staff_urls"]:
        page.goto(base + path)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], (path, width)
        page.screenshot(path=str(tmp_path / f"staff{path.replace('/', '-')}-phone.png"))
    context.close()


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_card_page_without_stripe_js_switches_to_a_transfer(
    live_server,
    browser,
    localstripe,  # noqa: F811
    tmp_path,
    viewport,
):
    world = _world(live_server.app, localstripe)
    base = live_server.url
    context = _context(browser, viewport)
    page = context.new_page()
    page.route("https://js.stripe.com/**", lambda route: route.abort())
    page.goto(f"{base}/campagne/{world['slug']}/dona")
    _fill_gift(page, "card", "40")
    assert re.fullmatch(rf"{re.escape(base)}/dona/[\w-]+/carta", page.url), page.url

    fallback = page.locator("#card-fallback")
    fallback.wait_for(state="visible")
    assert page.locator("#card-form button[type=submit]").is_disabled()
    assert page.evaluate("document.activeElement.id") == "switch-to-transfer"
    page.screenshot(path=str(tmp_path / "card-blocked.png"), full_page=True)
    with page.expect_navigation():
        page.click("#switch-to-transfer")
    assert page.url.endswith("/bonifico")
    reference = page.locator("dd.reference").inner_text().split()[0]
    page.screenshot(path=str(tmp_path / "card-switched-to-transfer.png"), full_page=True)
    context.close()

    with live_server.app.app_context():
        gift = db.session.scalar(select(Donation).where(Donation.payment_reference == reference))
        assert (gift.method, gift.status, gift.amount_cents) == ("bank_transfer", "pending", 4_000)
        assert (gift.donor.first_name, gift.donor.email) == ("Luca", "luca@example.org")


def test_card_page_when_stripe_answers_an_error(
    live_server,
    browser,
    localstripe,  # noqa: F811
    tmp_path,
):
    world = _world(live_server.app, localstripe)
    base = live_server.url
    context = _context(browser, PHONE)
    page = context.new_page()
    page.route(
        "https://js.stripe.com/**",
        lambda route: route.fulfill(content_type="application/javascript", body=STRIPE_ERROR_JS),
    )
    page.goto(f"{base}/campagne/{world['slug']}/dona")
    _fill_gift(page, "card", "25")
    submit = page.locator("#card-form button[type=submit]")
    page.wait_for_function("() => !document.querySelector('#card-form button').disabled")
    assert not page.locator("#card-fallback").is_visible()
    submit.click()
    page.locator("#card-fallback").wait_for(state="visible")
    assert "connection to Stripe" in page.locator("#card-error").inner_text()
    page.screenshot(path=str(tmp_path / "card-stripe-error.png"), full_page=True)
    with page.expect_navigation():
        page.click("#switch-to-transfer")
    assert page.url.endswith("/bonifico")
    assert "25" in page.locator("dl.bank").inner_text()
    context.close()


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_thank_you_page(live_server, browser, tmp_path, viewport):
    world = _world(live_server.app)
    base = live_server.url
    context = _context(browser, viewport)
    page = context.new_page()
    page.goto(f"{base}/dona/{world['gift_token']}/grazie")
    assert page.locator("#donor-area-link").get_attribute("href") == "/portal"
    hrefs = [a.get_attribute("href") for a in page.locator(".share-links a").all()]
    assert [h.split("?")[0].split(":")[0] for h in hrefs] == ["https", "mailto", "https"]
    assert hrefs[0].startswith("https://wa.me/?text=")
    assert hrefs[2].startswith("https://www.facebook.com/sharer/sharer.php?u=")
    assert all(world["slug"] in h for h in hrefs)
    assert (
        page.evaluate(
            "[...document.scripts].filter(s => s.src && !s.src.startsWith(location.origin)).length"
        )
        == 0
    )
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    page.screenshot(path=str(tmp_path / "thank-you.png"), full_page=True)
    with page.expect_navigation():
        page.click("#give-monthly")
    assert page.locator('input[name=frequency][value="monthly"]').is_checked()
    assert page.locator("#other_amount").input_value() == "35,00"
    context.close()


def test_composer_block_picker_and_live_preview(live_server, browser, tmp_path):
    world = _world(live_server.app)
    base = live_server.url
    context = _context(browser, {"width": 1400, "height": 1000})
    page = context.new_page()
    browser_log_in(page, base, world["email"], PASSWORD)
    page.goto(f"{base}/staff/newsletters/new")
    page.fill("#title", "Notizie dagli orti")
    page.fill("#it_subject", "Notizie dagli orti")
    page.fill("#it_body", "Ecco come vanno gli orti.")
    page.locator('.block-picker[data-target="it_body"] button[data-block="campaign"]').click()
    dialog = page.locator("#pick-campaign")
    dialog.wait_for(state="visible")
    dialog.locator(f'button.pick[data-code="[[campaign:{world["slug"]}]]"]').click()
    body = page.locator("#it_body").input_value()
    assert body == f"Ecco come vanno gli orti.\n\n[[campaign:{world['slug']}]]\n\n"
    page.locator('.block-picker[data-target="it_body"] button[data-block="button"]').click()
    page.fill("#button-label", "Vieni alla festa")
    page.fill("#button-url", "https://example.org/festa")
    page.click('button[data-insert="button"]')
    assert (
        "[[button:https://example.org/festa|Vieni alla festa]]"
        in page.locator("#it_body").input_value()
    )

    frame = page.frame_locator("#live-preview")
    frame.locator("a", has_text="Vieni alla festa").wait_for(timeout=10_000)
    assert "Orti condivisi al Cambonino" in frame.locator("body").inner_text()
    page.screenshot(path=str(tmp_path / "composer.png"), full_page=True)
    with page.expect_navigation():
        page.click("#newsletter-form button[type=submit]:not(#preview-button)")
    assert re.search(r"/staff/newsletters/\d+$", page.url), page.url
    context.close()


def _serious(page) -> list[str]:
    results = Axe().run(page)
    return [
        f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:3]}"
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_axe_finds_no_serious_or_critical_violation(
    live_server,
    browser,
    localstripe,  # noqa: F811
    viewport,
):
    world = _world(live_server.app, localstripe)
    base = live_server.url
    context = _context(browser, viewport)
    page = context.new_page()
    page.route("https://js.stripe.com/**", lambda route: route.abort())
    found = {}

    def check(name: str) -> None:
        problems = _serious(page)
        if problems:
            found[name] = problems

    for path in (
        "/",
        "/?lang=en",
        f"/campagne/{world['slug']}",
        f"/patti/{world['pact']}",
        f"/laboratori/{world['lab']}",
        f"/campagne/{world['slug']}/dona",
        f"/dona/{world['gift_token']}/grazie",
        "/portal",
        "/newsletter",
    ):
        page.goto(base + path)
        check(path)
    page.goto(f"{base}/campagne/{world['slug']}/dona")
    page.click("form.give-form button[type=submit]:not([name])")  # nothing filled in: errors
    page.wait_for_load_state()
    check("give form with errors")
    _fill_gift(page, "card")
    page.locator("#card-fallback").wait_for(state="visible")
    check("card page, Stripe.js blocked")
    page.goto(f"{base}/campagne/{world['slug']}/dona")
    _fill_gift(page, "bank_transfer")
    check("bank transfer page")
    _enter_portal(page, world["portal_link"])
    for path in ("/portal/inizio", "/portal/doni", "/portal/ricevute", "/portal/dati"):
        page.goto(base + path)
        check(path)
    browser_log_in(page, base, world["email"], PASSWORD)
    for path in world["staff_urls"]:
        page.goto(base + path)
        check(path)
    context.close()
    assert found == {}, "\n".join(f"{k}: {v}" for k, v in found.items())


FOCUSED = "((e) => [e.name, e.type, e.value])(document.activeElement)"


def test_keyboard_only_giving_by_bank_transfer(live_server, browser, tmp_path):
    world = _world(live_server.app)
    base = live_server.url
    context = _context(browser, DESKTOP)
    page = context.new_page()
    page.goto(f"{base}/campagne/{world['slug']}")
    # From the top of the page: Tab to the give button, Enter.
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.classList.contains('give')"):
            break
    else:
        pytest.fail("the give button is not reachable by Tab")
    with page.expect_navigation():
        page.keyboard.press("Enter")

    typed = {"first_name": "Luca", "last_name": "Bassi", "email": "luca@example.org"}
    visited = []
    for _ in range(80):
        page.keyboard.press("Tab")
        name, kind, value = page.evaluate(FOCUSED)
        visited.append(name)
        outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
        assert outline != "none", f"{name} shows no focus"
        if name == "amount":
            page.keyboard.press("ArrowRight")  # from 50 € to 100 €
        elif name == "method" and value == "card":
            page.keyboard.press("ArrowRight")  # to bank transfer
        elif name in typed and not page.evaluate("document.activeElement.value"):
            page.keyboard.type(typed[name])
        elif kind == "submit" and not name:
            with page.expect_navigation():
                page.keyboard.press("Enter")
            break
    else:
        pytest.fail(f"the form was not sent by keyboard: {visited}")
    assert page.url.endswith("/bonifico"), page.url
    page.screenshot(path=str(tmp_path / "keyboard-transfer.png"), full_page=True)
    context.close()
    with live_server.app.app_context():
        gift = db.session.scalar(select(Donation).where(Donation.method == "bank_transfer"))
        assert (gift.amount_cents, gift.donor.email) == (10_000, "luca@example.org")

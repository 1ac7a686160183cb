"""In Chromium: the treasurer records an expense with its invoice, an admin (another person,
in another browser) approves it, and a visitor reads "Dove vanno i fondi" on a 390 px phone:
figures, chart, data table, the expense and what came back, without sideways scrolling.

Elements are found by field names, ids and classes, not by visible text, so the test does
not depend on which strings are translated."""

from datetime import date

import pytest
from sqlalchemy import select

from legami.extensions import db
from payments.ledger_models import Expense
from tests import factories
from tests.conftest import browser_log_in
from tests.payments.ledger_helpers import funded_pact, outcome

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery"
PHONE = {"width": 390, "height": 844}


def _setup(app):
    with app.app_context(), app.test_request_context():
        pact, campaign = funded_pact(50_000)
        outcome(pact=pact, kind="hours", quantity=5, description="Cinque ore in biblioteca")
        treasurer = factories.user(roles=("treasurer",), password=PASSWORD)
        admin = factories.user(roles=("admin",), password=PASSWORD)
        return pact.id, pact.slug, campaign.id, treasurer.email, admin.email


def test_record_approve_and_read_on_a_phone(live_server, browser, tmp_path):
    base = live_server.url
    pact_id, pact_slug, campaign_id, treasurer, admin = _setup(live_server.app)
    invoice = tmp_path / "fattura.pdf"
    invoice.write_bytes(b"%PDF-1.4\n%%EOF\n")

    desk = browser.new_context(locale="it-IT", viewport={"width": 1280, "height": 900})
    page = desk.new_page()
    browser_log_in(page, base, treasurer, PASSWORD)
    page.goto(f"{base}/staff/fondi/spese/nuova")
    page.select_option("#campaign_id", str(campaign_id))
    page.select_option("#programme", f"pact:{pact_id}")
    page.fill("#spent_on", date.today().isoformat())
    page.fill("#payee", "Libreria Centrale")
    page.select_option("#category", "materials")
    page.fill("#description", "Libri per il gruppo di lettura")
    page.fill("#amount", "120,40")
    page.set_input_files("#document", str(invoice))
    with page.expect_navigation():
        page.click("main form.form button[type=submit]")
    assert "/staff/fondi/spese/" in page.url, page.content()
    with live_server.app.app_context():
        expense = db.session.scalar(select(Expense))
        assert (expense.amount_cents, expense.approved) == (12_040, False)
        expense_id = expense.id
    desk.close()

    other = browser.new_context(locale="it-IT", viewport={"width": 1280, "height": 900})
    page = other.new_page()
    browser_log_in(page, base, admin, PASSWORD)
    page.goto(f"{base}/staff/fondi/spese/{expense_id}")
    with page.expect_navigation():
        page.click(f"form[action$='/spese/{expense_id}/approva'] button")
    other.close()
    with live_server.app.app_context():
        assert db.session.get(Expense, expense_id).approved

    phone = browser.new_context(locale="it-IT", viewport=PHONE, is_mobile=True, has_touch=True)
    page = phone.new_page()
    page.goto(f"{base}/fondi/patti/{pact_slug}")
    assert page.locator("dd.raised").inner_text().replace("\xa0", " ") == "500 €"
    assert page.locator("dd.spent").inner_text().replace("\xa0", " ") == "120,40 €"
    assert page.locator("dd.available").inner_text().replace("\xa0", " ") == "379,60 €"
    assert page.locator("figure.ledger-chart svg").is_visible()
    assert page.locator("table.figures-table tbody tr").count() >= 3
    assert "Libri per il gruppo di lettura" in page.locator("table.expenses").inner_text()
    assert "Libreria Centrale" not in page.content()
    assert "Cinque ore in biblioteca" in page.locator("ol.timeline").inner_text()
    width = page.evaluate("document.documentElement.scrollWidth")
    wide = page.evaluate(
        "[...document.querySelectorAll('*')]"
        ".filter(e => e.getBoundingClientRect().right > innerWidth)"
        ".map(e => e.tagName + '.' + e.className)"
    )
    assert width <= PHONE["width"], wide
    phone.close()

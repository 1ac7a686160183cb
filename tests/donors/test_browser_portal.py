"""A donor with a monthly gift asks for the portal link in a real browser, follows the link
from the mail (received by a real SMTP server) and stops the gift, at localstripe too.

Elements are found by form actions, field names and classes, not by visible text, so the test
does not depend on which UI strings are translated.
"""

import re

import pytest

from legami.extensions import db
from payments import stripe_gateway
from payments.models import RecurringGift, RecurringStatus
from tests import factories
from tests.conftest import SmtpServer, deliver_queued
from tests.payments.conftest import WEBHOOK_SECRET, localstripe  # noqa: F401 - the fixture

pytestmark = pytest.mark.browser

EMAIL = "giovanna.riva@example.org"


def _donor_with_monthly_gift(app) -> tuple[int, str]:
    """An active monthly gift with its Subscription at localstripe; returns id and token."""
    with app.app_context():
        donor = factories.donor(first_name="Giovanna", last_name="Riva", email=EMAIL)
        gift = RecurringGift(donor=donor, campaign=factories.campaign(), amount_cents=2000)
        db.session.add(gift)
        db.session.commit()
        method = stripe_gateway.client().v1.payment_methods.create(
            params={
                "type": "card",
                "card": {
                    "number": "4242424242424242",
                    "exp_month": 12,
                    "exp_year": 2031,
                    "cvc": "123",
                },
            }
        )
        assert stripe_gateway.create_subscription(gift, method.id)["status"] == "active"
        gift.status = RecurringStatus.ACTIVE  # what the first invoice.paid webhook sets
        db.session.commit()
        return gift.id, gift.token


def test_donor_enters_by_mailed_link_and_stops_the_monthly_gift(live_server, page, localstripe):  # noqa: F811
    base = live_server.url
    app = live_server.app
    app.config.update(
        STRIPE_SECRET_KEY="sk_test_legami",
        STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET,
        STRIPE_API_BASE=localstripe,
    )
    smtp = SmtpServer()
    app.config["SMTP_URL"] = smtp.url
    try:
        gift_id, token = _donor_with_monthly_gift(app)

        page.goto(f"{base}/portal")
        page.fill("#email", EMAIL.upper())
        with page.expect_navigation() as navigation:
            page.click("form.portal-request button[type=submit]")
        assert navigation.value.status == 200
        assert page.locator("p.sent").count() == 1

        deliver_queued(app)
        assert [m["To"] for m in smtp.messages] == [EMAIL]
        text = smtp.messages[0].get_body(("plain",)).get_content()
        link = re.search(rf"{re.escape(base)}/portal/accedi/\S+", text).group(0)
    finally:
        smtp.stop()

    page.goto(link)
    with page.expect_navigation():
        page.click("form.portal-enter button[type=submit]")
    assert page.url == f"{base}/portal/inizio"
    assert "Giovanna" in page.locator("h1").inner_text()

    with page.expect_navigation():
        page.click('nav.portal-nav a[href="/portal/mensili"]')
    cancel = page.locator(f'form[action="/portal/mensili/{token}/annulla"]')
    assert cancel.count() == 1
    # Stopping is irreversible: the button is behind a confirmation that says so.
    assert not cancel.locator("button[type=submit]").is_visible()
    page.click("details.confirm-inline summary")
    with page.expect_navigation() as navigation:
        cancel.locator("button[type=submit]").click()
    assert navigation.value.status == 200
    assert page.url == f"{base}/portal/mensili"
    assert page.locator(f'form[action="/portal/mensili/{token}/annulla"]').count() == 0
    assert page.locator("section.monthly-gift.status-cancelled").count() == 1

    with app.app_context():
        gift = db.session.get(RecurringGift, gift_id)
        assert gift.status == "cancelled" and gift.cancelled_at is not None
        subscription = stripe_gateway.client().v1.subscriptions.retrieve(
            gift.stripe_subscription_id
        )
        assert subscription.status == "canceled"

    # The link worked once.
    page.goto(link)
    assert page.locator(".link-invalid").count() == 1

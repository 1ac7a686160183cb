"""Staff compose a newsletter with a campaign block, preview it and schedule it a minute
ahead in a real browser; the scheduler embedded as `legami run` embeds it sends it at that
time to a real SMTP server.

Elements are found by field names, ids and addresses, not by visible text.
"""

import time
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select, text

from legami import scheduler
from legami.extensions import db
from legami.timeutil import ROME
from mailing.models import Newsletter
from tests import factories
from tests.conftest import SmtpServer, browser_log_in

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery"


@pytest.fixture
def embedded(live_server):
    """The live server's app with its SMTP server and its embedded scheduler running."""
    smtp = SmtpServer()
    live_server.app.config["SMTP_URL"] = smtp.url
    sched = scheduler.build(live_server.app, blocking=False)
    sched.start()
    yield smtp
    sched.remove_all_jobs(jobstore=scheduler.DATABASE_JOBSTORE)
    sched.shutdown(wait=True)
    smtp.stop()
    with live_server.app.app_context():
        db.session.execute(text(f"DELETE FROM {scheduler.JOBS_TABLE}"))
        db.session.commit()


def _setup(app):
    with app.app_context():
        campaign = factories.campaign(title="Orti condivisi a Cremona")
        factories.donor(email="anna@example.org", first_name="Anna", newsletter_consent=True)
        staff = factories.user(roles=("staff",), password=PASSWORD)
        return campaign.slug, campaign.title, staff.email


def test_compose_preview_schedule_and_the_embedded_scheduler_sends(live_server, embedded, page):
    base = live_server.url
    slug, campaign_title, staff_email = _setup(live_server.app)
    browser_log_in(page, base, staff_email, PASSWORD)

    # Compose, with a campaign block.
    page.goto(f"{base}/staff/newsletters/new")
    page.fill("#title", "Notizie dagli orti")
    page.fill("#it_subject", "Ciao {{ first_name }}, notizie dagli orti")
    page.fill("#it_body", f"Ecco come vanno gli orti.\n\n[[campaign:{slug}]]\n\nGrazie!")
    with page.expect_navigation():
        page.click("#newsletter-form button[type=submit]")
    newsletter_id = int(page.url.rstrip("/").rsplit("/", 1)[1])

    # Preview: the campaign card is in the mail.
    with page.expect_navigation():
        page.click(f'a[href^="/staff/newsletters/{newsletter_id}/preview"]')
    card = page.frame_locator("iframe").first.locator("body")
    assert campaign_title in card.inner_text()

    # Schedule it a minute ahead, in Italian time as the page asks.
    page.goto(f"{base}/staff/newsletters/{newsletter_id}")
    with page.expect_navigation():
        page.click(f'a[href="/staff/newsletters/{newsletter_id}/schedule"]')
    # The input takes minutes: the next whole minute at least 15 s away (15-75 s ahead).
    at = (datetime.now(ROME) + timedelta(seconds=75)).replace(second=0, microsecond=0)
    page.check('input[name=when][value="at"]')
    page.fill("#at", at.strftime("%Y-%m-%dT%H:%M"))
    with page.expect_navigation():
        page.click("main form.form button[type=submit]")
    assert page.url.endswith(f"/staff/newsletters/{newsletter_id}/progress"), page.content()
    assert page.locator("#newsletter-status").get_attribute("data-status") == "scheduled"

    # The embedded scheduler sends it at that time.
    deadline = time.monotonic() + 120
    while not embedded.messages and time.monotonic() < deadline:
        time.sleep(0.5)
    assert len(embedded.messages) == 1, "not sent"
    message = embedded.messages[0]
    assert message["To"] == "anna@example.org"
    assert message["Subject"] == "Ciao Anna, notizie dagli orti"
    assert campaign_title in message.get_body(("html",)).get_content()
    with live_server.app.app_context():
        started = db.session.scalar(
            select(Newsletter.started_at).where(Newsletter.id == newsletter_id)
        )
    assert started >= at  # at its time, not before

    # The sending page follows it to the end without a reload by hand.
    page.locator('#newsletter-status[data-status="sent"]').wait_for(timeout=15000)
    assert page.locator('[data-figure="sent"]').inner_text() == "1"

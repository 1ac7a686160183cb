"""The sending page (progress, actions, schedule form) and the report after a send."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from donors import consent
from donors.models import ConsentEvent
from legami.extensions import db
from legami.timeutil import now_utc
from mailing import audience, report
from mailing.models import Delivery, Newsletter, NewsletterVersion
from tests import factories

pytestmark = pytest.mark.usefixtures("english")


def sent_newsletter(track=False, started_minutes_ago=10, **overrides) -> Newsletter:
    started = now_utc() - timedelta(minutes=started_minutes_ago)
    row = Newsletter(
        organisation=factories.organisation(),
        title="Notizie di novembre",
        status="sending",
        claim_token="t",
        started_at=started,
        track_engagement=track,
        recipients_total=6,
        **overrides,
    )
    row.versions = [NewsletterVersion(language="it", subject="Ciao", body="Testo")]
    db.session.add(row)
    db.session.flush()
    sent_at = started + timedelta(minutes=1)
    for n, (status, error) in enumerate(
        [
            ("sent", ""),
            ("sent", ""),
            ("failed", "550 mailbox unavailable"),
            ("failed", "550 mailbox unavailable"),
            ("bounced", "5.1.1 user unknown"),
            ("pending", ""),
        ]
    ):
        donor = factories.donor(email=f"d{n}.n{row.id}@example.org", newsletter_consent=True)
        db.session.add(
            Delivery(
                newsletter_id=row.id,
                donor_id=donor.id,
                email=donor.email,
                status=status,
                last_error=error,
                sent_at=sent_at if status in ("sent", "bounced") else None,
                opened_at=sent_at if n == 0 else None,
                clicked_at=sent_at if n == 0 else None,
            )
        )
    db.session.commit()
    return row


def test_progress_counts_rate_and_eta(app):
    row = sent_newsletter(started_minutes_ago=10)
    progress = report.progress(row, now=row.started_at + timedelta(minutes=5))
    assert (progress.sent, progress.failed, progress.bounced, progress.pending) == (2, 2, 1, 1)
    assert (progress.total, progress.done) == (6, 5)
    assert progress.rate_per_minute == 1.0  # 5 done in 5 minutes
    assert progress.eta_seconds == 60


def test_unsubscribed_counts_withdrawals_between_this_send_and_the_next(app):
    row = sent_newsletter(started_minutes_ago=60)
    first, second, third = db.session.scalars(
        select(Delivery).where(Delivery.status.in_(["sent", "bounced"])).order_by(Delivery.id)
    ).all()
    # After the mail: counted. Before it: not. After the next newsletter started: not.
    for delivery, at in (
        (first, first.sent_at + timedelta(minutes=2)),
        (second, second.sent_at - timedelta(minutes=2)),
        (third, row.started_at + timedelta(minutes=40)),
    ):
        donor = db.session.get(consent.Donor, delivery.donor_id)
        consent.withdraw(donor, "unsubscribe").occurred_at = at
    later = Newsletter(
        organisation=row.organisation,
        title="Dicembre",
        status="sent",
        started_at=row.started_at + timedelta(minutes=30),
    )
    db.session.add(later)
    db.session.commit()
    assert db.session.scalar(select(db.func.count()).select_from(ConsentEvent)) == 3
    assert report.unsubscribed(row) == 1


def test_report_page_groups_failures_and_hides_engagement_unless_tracked(client, login):
    login("staff")
    quiet = sent_newsletter(track=False)
    lapsed = factories.donor(email="lapsed@example.org")
    db.session.add(
        Delivery(
            newsletter_id=quiet.id,
            donor_id=lapsed.id,
            email=lapsed.email,
            status="failed",
            last_error=audience.UNSUBSCRIBED,
        )
    )
    db.session.commit()
    page = client.get(f"/staff/newsletters/{quiet.id}/report")
    assert page.status_code == 200
    html = page.text
    assert 'data-figure="sent">2<' in html and 'data-figure="bounced">1<' in html
    assert "550 mailbox unavailable</td><td>2<" in html
    assert "5.1.1 user unknown</td><td>1<" in html
    # Legami's own reasons are labels in the staff member's language, not the stored code.
    assert "Unsubscribed after the audience was frozen</td><td>1<" in html
    assert 'data-figure="opened"' not in html
    tracked = sent_newsletter(track=True)
    html = client.get(f"/staff/newsletters/{tracked.id}/report").text
    assert 'data-figure="opened">1<' in html and 'data-figure="clicked">1<' in html


def test_progress_page_and_json_status(client, login):
    login("staff")
    row = sent_newsletter()
    html = client.get(f"/staff/newsletters/{row.id}/progress").text
    assert 'data-figure="pending">1<' in html
    assert '<meta http-equiv="refresh"' in html  # works without JS while sending
    assert f"/staff/newsletters/{row.id}/pause" in html
    status = client.get(f"/staff/newsletters/{row.id}/status").get_json()
    assert status["status"] == "sending"
    assert (status["sent"], status["failed"], status["pending"], status["done"]) == (2, 2, 1, 5)


def test_pause_resume_cancel_buttons(client, login):
    login("staff")
    row = sent_newsletter()
    client.post(f"/staff/newsletters/{row.id}/pause")
    assert db.session.get(Newsletter, row.id).status == "paused"
    client.post(f"/staff/newsletters/{row.id}/resume")
    assert db.session.get(Newsletter, row.id).status == "scheduled"
    response = client.post(f"/staff/newsletters/{row.id}/resume", follow_redirects=True)
    assert "This newsletter is scheduled now: it cannot be resumed." in response.text
    client.post(f"/staff/newsletters/{row.id}/cancel")
    assert db.session.get(Newsletter, row.id).status == "cancelled"


def test_schedule_form_in_rome_time_and_its_errors(client, login):
    login("staff")
    factories.donor(email="anna@example.org", newsletter_consent=True)
    row = Newsletter(organisation=factories.organisation(), title="Notizie")
    row.versions = [NewsletterVersion(language="it", subject="Ciao", body="Testo")]
    db.session.add(row)
    db.session.commit()
    url = f"/staff/newsletters/{row.id}/schedule"
    page = client.get(url).text
    assert "1</strong> recipient" in page
    bad = client.post(url, data={"when": "at", "at": "2001-01-01T10:00"})
    assert bad.status_code == 200
    assert "Choose a time in the future" in bad.text
    assert db.session.get(Newsletter, row.id).status == "draft"
    response = client.post(url, data={"when": "at", "at": "2099-01-15T10:00"})
    assert response.status_code == 302
    stored = db.session.get(Newsletter, row.id)
    assert stored.status == "scheduled"
    assert stored.scheduled_at.isoformat() == "2099-01-15T09:00:00+00:00"  # CET is UTC+1
    # Scheduled: the same form moves it; "now" sends it at once.
    client.post(url, data={"when": "now"})
    stored = db.session.get(Newsletter, row.id)
    assert stored.status == "scheduled" and stored.scheduled_at <= now_utc()

"""Scheduling: staff's transitions as compare-and-set updates, and the scheduler's date jobs
kept in step with the rows (created, moved, removed; late past the grace period)."""

import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text, update

from legami import scheduler
from legami.extensions import db
from legami.models import AuditEntry
from legami.timeutil import now_utc
from legami.validation import Invalid
from mailing import scheduling
from mailing.models import Newsletter, NewsletterVersion
from tests import factories


@pytest.fixture(autouse=True)
def english_messages(app):
    """Services' messages are lazy: read them as an English request would."""
    with app.test_request_context("/?lang=en"):
        yield


def newsletter(versions=("it",), **overrides) -> Newsletter:
    row = Newsletter(organisation=factories.organisation(), title="Notizie", **overrides)
    row.versions = [
        NewsletterVersion(language=code, subject="Ciao", body="Testo") for code in versions
    ]
    db.session.add(row)
    db.session.commit()
    return row


@pytest.fixture
def subscriber(app):
    return factories.donor(email="anna@example.org", newsletter_consent=True)


@pytest.fixture
def paused_scheduler(app):
    """The scheduler as `legami run` builds it, started paused: jobs are stored, none runs."""
    sched = scheduler.build(app, blocking=False)
    sched.start(paused=True)
    yield sched
    if sched.running:
        # Stopping runs one last pass over the due jobs: empty the store first.
        sched.remove_all_jobs(jobstore=scheduler.DATABASE_JOBSTORE)
        sched.shutdown(wait=False)
    # The job table is the scheduler's own, not the app's: the app fixture does not empty it.
    db.session.execute(text(f"DELETE FROM {scheduler.JOBS_TABLE}"))
    db.session.commit()


def _status(row: Newsletter) -> str:
    return db.session.scalar(select(Newsletter.status).where(Newsletter.id == row.id))


def test_schedule_at_a_rome_time_stores_utc_counts_and_audits(app, subscriber):
    row = newsletter()
    staff = factories.user()
    when = scheduling.parse_rome("2099-07-01T09:30")
    assert when == datetime(2099, 7, 1, 7, 30, tzinfo=UTC)  # summer time: UTC+2
    assert scheduling.schedule(row, when, staff) == 1
    db.session.commit()
    db.session.expire_all()
    assert (row.status, row.scheduled_at) == ("scheduled", when)
    entry = db.session.scalars(select(AuditEntry)).one()
    assert (entry.action, entry.target) == ("newsletter.schedule", f"newsletter:{row.id}")
    assert entry.detail["scheduled_at"] == when.isoformat()


def test_send_now_schedules_at_now(app, subscriber):
    row = newsletter()
    before = now_utc()
    scheduling.schedule(row, None, None)
    db.session.commit()
    assert row.status == "scheduled" and before <= row.scheduled_at <= now_utc()


@pytest.mark.parametrize(
    ("make", "when", "field"),
    [
        (lambda: newsletter(versions=("en",)), None, "versions"),
        (lambda: newsletter(), now_utc() - timedelta(minutes=1), "at"),
    ],
)
def test_schedule_refuses_bad_input_and_stores_nothing(app, subscriber, make, when, field):
    row = make()
    with pytest.raises(Invalid) as caught:
        scheduling.schedule(row, when, None)
    assert set(caught.value.errors) == {field}
    db.session.rollback()
    assert _status(row) == "draft"


def test_schedule_needs_recipients(app):
    factories.donor(email="nobody@example.org", newsletter_consent=False)
    with pytest.raises(Invalid) as caught:
        scheduling.schedule(newsletter(), None, None)
    assert "No one would receive it" in str(caught.value.errors["audience"])


def test_a_bad_date_is_a_clear_error():
    with pytest.raises(Invalid) as caught:
        scheduling.parse_rome("domani")
    assert set(caught.value.errors) == {"at"}


def test_pause_resume_cancel_and_refused_transitions(app, subscriber):
    row = newsletter()
    staff = factories.user()
    scheduling.schedule(row, now_utc() + timedelta(hours=1), staff)
    scheduling.pause(row, staff)
    assert row.status == "paused"
    with pytest.raises(Invalid) as caught:
        scheduling.pause(row, staff)
    assert caught.value.errors["status"] == "This newsletter is paused now: it cannot be paused."
    before = now_utc()
    scheduling.resume(row, staff)
    assert row.status == "scheduled" and row.scheduled_at >= before
    with pytest.raises(Invalid):
        scheduling.resume(row, staff)
    later = now_utc() + timedelta(days=2)
    scheduling.reschedule(row, later, staff)
    assert row.scheduled_at == later
    scheduling.cancel(row, staff)
    assert row.status == "cancelled"
    for action in (scheduling.cancel, scheduling.pause, scheduling.resume):
        with pytest.raises(Invalid):
            action(row, staff)
    with pytest.raises(Invalid):
        scheduling.schedule(row, None, staff)
    db.session.commit()
    actions = db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert actions == [
        "newsletter.schedule",
        "newsletter.pause",
        "newsletter.resume",
        "newsletter.reschedule",
        "newsletter.cancel",
    ]


def test_a_sender_claim_meanwhile_wins_over_a_stale_reschedule(app, subscriber):
    row = newsletter()
    scheduling.schedule(row, now_utc() + timedelta(minutes=5), None)
    db.session.commit()
    assert row.status == "scheduled"  # what the staff's page shows
    # A sender claims it on its own connection, as the scheduler process would.
    with db.engine.begin() as conn:
        conn.execute(
            update(Newsletter)
            .where(Newsletter.id == row.id, Newsletter.status == "scheduled")
            .values(status="sending", claim_token="sender-1")
        )
    with pytest.raises(Invalid) as caught:
        scheduling.reschedule(row, now_utc() + timedelta(hours=1), None)
    assert "sending now" in caught.value.errors["status"]
    db.session.commit()
    assert _status(row) == "sending"
    # Pausing a sending newsletter makes the sender's next heartbeat find no row: it stops.
    scheduling.pause(row, None)
    db.session.commit()
    with db.engine.begin() as conn:
        heartbeat = conn.execute(
            update(Newsletter)
            .where(
                Newsletter.id == row.id,
                Newsletter.claim_token == "sender-1",
                Newsletter.status == "sending",
            )
            .values(heartbeat_at=now_utc())
        )
    assert heartbeat.rowcount == 0
    assert _status(row) == "paused"


def _jobs(sched) -> dict:
    return {
        job.id: job.next_run_time for job in sched.get_jobs(jobstore=scheduler.DATABASE_JOBSTORE)
    }


def test_sync_creates_moves_and_removes_the_date_jobs(app, subscriber, paused_scheduler):
    first, second = newsletter(), newsletter()
    at = (now_utc() + timedelta(hours=1)).replace(microsecond=0)
    scheduling.schedule(first, at, None)
    scheduling.schedule(second, at + timedelta(hours=1), None)
    db.session.commit()
    scheduling.sync(paused_scheduler)
    assert _jobs(paused_scheduler) == {
        f"newsletter-{first.id}": at,
        f"newsletter-{second.id}": at + timedelta(hours=1),
    }
    job = paused_scheduler.get_job(f"newsletter-{first.id}")
    assert (job.func_ref, job.args) == (scheduling.FIRE, (first.id,))
    assert job.misfire_grace_time == app.config["NEWSLETTER_GRACE_SECONDS"] and job.coalesce

    later = at + timedelta(days=1)
    scheduling.reschedule(first, later, None)
    scheduling.cancel(second, None)
    db.session.commit()
    scheduling.sync(paused_scheduler)
    assert _jobs(paused_scheduler) == {f"newsletter-{first.id}": later}

    scheduling.pause(first, None)
    db.session.commit()
    scheduling.sync(paused_scheduler)
    assert _jobs(paused_scheduler) == {}


def test_past_the_grace_period_a_newsletter_waits_for_staff(app, subscriber, paused_scheduler):
    """A scheduler starting after a downtime: within the grace it still sends (its job is due
    now), beyond it the newsletter becomes late and gets no job."""
    long_ago, recently = newsletter(), newsletter()
    now = now_utc()
    for row, at in ((long_ago, now - timedelta(hours=2)), (recently, now - timedelta(minutes=5))):
        row.status, row.scheduled_at = "scheduled", at
    db.session.commit()
    scheduling.sync(paused_scheduler, now)
    db.session.expire_all()
    assert (long_ago.status, recently.status) == ("late", "scheduled")
    assert set(_jobs(paused_scheduler)) == {f"newsletter-{recently.id}"}
    assert db.session.scalars(select(AuditEntry.action)).all() == ["newsletter.late"]
    # Staff send it now: scheduled again, at now, and it gets its job.
    scheduling.reschedule(long_ago, None, None)
    db.session.commit()
    scheduling.sync(paused_scheduler)
    assert set(_jobs(paused_scheduler)) == {
        f"newsletter-{recently.id}",
        f"newsletter-{long_ago.id}",
    }


def test_the_jobs_outlive_the_scheduler(app, subscriber, paused_scheduler):
    row = newsletter()
    at = (now_utc() + timedelta(hours=3)).replace(microsecond=0)
    scheduling.schedule(row, at, None)
    db.session.commit()
    scheduling.sync(paused_scheduler)
    paused_scheduler.shutdown(wait=False)
    again = scheduler.build(app, blocking=False)
    again.start(paused=True)
    try:
        assert _jobs(again) == {f"newsletter-{row.id}": at}
    finally:
        again.shutdown(wait=False)
    assert scheduler.running_scheduler() is None


def _wait_for(check, seconds=20.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        db.session.rollback()  # end the read: see what the scheduler's thread committed
        if check():
            return
        time.sleep(0.2)
    raise AssertionError("timed out")


@pytest.fixture
def running_scheduler(app):
    app.config["NEWSLETTER_SYNC_SECONDS"] = 1
    made = []

    def start():
        sched = scheduler.build(app, blocking=False)
        sched.start()
        made.append(sched)
        return sched

    yield start
    for sched in made:
        if sched.running:
            sched.remove_all_jobs(jobstore=scheduler.DATABASE_JOBSTORE)
            sched.shutdown(wait=True)
    db.session.execute(text(f"DELETE FROM {scheduler.JOBS_TABLE}"))
    db.session.commit()


def test_a_scheduler_starting_late_sends_within_the_grace_and_holds_the_rest(
    app, smtp_server, running_scheduler
):
    factories.donor(email="anna@example.org", newsletter_consent=True, first_name="Anna")
    recently, long_ago = newsletter(), newsletter()
    now = now_utc()
    recently.status, recently.scheduled_at = "scheduled", now - timedelta(minutes=5)
    long_ago.status, long_ago.scheduled_at = "scheduled", now - timedelta(hours=2)
    db.session.commit()
    running_scheduler()
    _wait_for(lambda: _status(recently) == "sent")
    assert _status(long_ago) == "late"
    assert [m["To"] for m in smtp_server.messages] == ["anna@example.org"]


def test_the_date_job_fires_at_the_scheduled_time(app, smtp_server, running_scheduler):
    factories.donor(email="anna@example.org", newsletter_consent=True, first_name="Anna")
    row = newsletter()
    running_scheduler()
    at = now_utc() + timedelta(seconds=3)
    scheduling.schedule(row, at, None)
    db.session.commit()
    _wait_for(lambda: _status(row) == "sent")
    started = db.session.scalar(select(Newsletter.started_at).where(Newsletter.id == row.id))
    assert started >= at  # not before its time
    assert len(smtp_server.messages) == 1


def test_legami_scheduler_runs_as_its_own_process(app, database_url, smtp_server, tmp_path):
    """The command a production install runs: it marks the late one, syncs the jobs and sends
    the due one; stopping it leaves the stored job of the future one for the next start."""
    factories.donor(email="anna@example.org", newsletter_consent=True, first_name="Anna")
    due, late, future = newsletter(), newsletter(), newsletter()
    now = now_utc()
    for row, at in (
        (due, now - timedelta(seconds=30)),
        (late, now - timedelta(hours=3)),
        (future, now + timedelta(days=1)),
    ):
        row.status, row.scheduled_at = "scheduled", at
    db.session.commit()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "LEGAMI_INSTANCE": str(tmp_path / "instance"),
        "SECRET_KEY": "test-secret",
        "BASE_URL": "http://localhost",
        "SMTP_URL": smtp_server.url,
    }
    legami = Path(sys.executable).parent / "legami"
    process = subprocess.Popen(
        [str(legami), "scheduler"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        _wait_for(lambda: _status(due) == "sent", seconds=30)
        assert _status(late) == "late"
        assert [m["To"] for m in smtp_server.messages] == ["anna@example.org"]
    finally:
        process.terminate()
        output = process.communicate(timeout=10)[0].decode()
    assert "newsletters.sync" in output
    try:
        stored = db.session.execute(text(f"SELECT id FROM {scheduler.JOBS_TABLE}")).scalars().all()
        assert stored == [f"newsletter-{future.id}"]
    finally:
        db.session.rollback()
        db.session.execute(text(f"DELETE FROM {scheduler.JOBS_TABLE}"))
        db.session.commit()

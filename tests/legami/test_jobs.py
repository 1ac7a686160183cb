"""Durable jobs: claiming, progress, leases and takeover, retries, the worker, the staff page."""

import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from legami import jobs
from legami.extensions import db
from legami.jobs import Job, LeaseLost
from legami.timeutil import now_utc
from tests import factories


def _count_to(running: jobs.RunningJob) -> dict:
    """A job kind of the tests: counts to `n`, reporting each step."""
    n = running.parameters["n"]
    for step in range(1, n + 1):
        running.progress(step, n, f"step {step}")
    return {"counted": n}


def _broken(running: jobs.RunningJob) -> dict:
    raise ValueError(f"no good: {running.parameters['why']}")


@pytest.fixture
def kinds(app):
    jobs.add_job_kind(app, "test.count", _count_to, "Count", roles=("staff",))
    jobs.add_job_kind(app, "test.broken", _broken, "Broken", roles=("treasurer",), attempts=2)
    return app


def _row(job_id: int) -> Job:
    return db.session.get(Job, job_id, populate_existing=True)


def _make_due(job_id: int) -> None:
    db.session.execute(update(Job).where(Job.id == job_id).values(run_after=now_utc()))
    db.session.commit()


def test_a_job_runs_once_with_its_progress_and_result(kinds):
    user = factories.user()
    job = jobs.enqueue("test.count", {"n": 3}, started_by_id=user.id)
    db.session.commit()
    assert (job.status, job.attempts, job.max_attempts) == ("queued", 0, 3)
    assert jobs.run_due_jobs() == 1
    row = _row(job.id)
    assert (row.status, row.done, row.total, row.message) == ("done", 3, 3, "step 3")
    assert row.result == {"counted": 3} and row.attempts == 1
    assert row.holder is None and row.lease_until is None and row.finished_at is not None
    assert jobs.run_due_jobs() == 0  # done jobs are never run again


def test_unknown_kinds_are_refused_at_enqueue(kinds):
    with pytest.raises(KeyError):
        jobs.enqueue("test.nothing")


def test_a_failing_job_is_retried_then_failed_with_its_error_and_staff_may_retry(kinds):
    job = jobs.enqueue("test.broken", {"why": "disk full"})
    db.session.commit()
    assert jobs.run_due_jobs() == 1
    row = _row(job.id)
    # Attempts left: queued again, later.
    assert (row.status, row.attempts) == ("queued", 1)
    assert "ValueError: no good: disk full" in row.error
    assert row.run_after > now_utc() + timedelta(seconds=20)
    assert jobs.run_due_jobs() == 0
    _make_due(job.id)
    assert jobs.run_due_jobs() == 1
    row = _row(job.id)
    assert (row.status, row.attempts) == ("failed", 2) and row.finished_at is not None
    assert "disk full" in row.error
    _make_due(job.id)
    assert jobs.run_due_jobs() == 0  # failed stays failed
    assert jobs.retry(job.id) is True
    db.session.commit()
    assert jobs.retry(job.id) is False  # queued, not failed
    assert jobs.run_due_jobs() == 1
    assert (_row(job.id).status, _row(job.id).attempts) == ("failed", 3)


def test_an_expired_lease_is_taken_over_and_the_old_holder_stops(kinds):
    job = jobs.enqueue("test.count", {"n": 2})
    db.session.commit()
    first = jobs.claim("worker-a")
    assert first.id == job.id and first.holder == "worker-a" and first.attempts == 1
    assert jobs.claim("worker-b") is None  # leased: nobody else takes it
    old = jobs.RunningJob(first, "worker-a")
    old.progress(1, 2)
    # worker-a dies: its lease runs out.
    db.session.execute(
        update(Job).where(Job.id == job.id).values(lease_until=now_utc() - timedelta(seconds=1))
    )
    db.session.commit()
    taken = jobs.claim("worker-b")
    assert taken.id == job.id and taken.holder == "worker-b" and taken.attempts == 2
    with pytest.raises(LeaseLost):
        old.progress(2, 2)
    assert jobs.run_claimed(taken, "worker-b") == "done"
    row = _row(job.id)
    assert (row.status, row.done, row.attempts, row.result) == ("done", 2, 2, {"counted": 2})


def test_progress_renews_the_lease(kinds):
    jobs.enqueue("test.count", {"n": 1})
    db.session.commit()
    job = jobs.claim("worker-a")
    db.session.execute(
        update(Job).where(Job.id == job.id).values(lease_until=now_utc() + timedelta(seconds=1))
    )
    db.session.commit()
    jobs.RunningJob(job, "worker-a").progress(0, 1, "started")
    assert _row(job.id).lease_until > now_utc() + timedelta(seconds=50)


def test_a_job_whose_worker_died_on_its_last_attempt_fails(kinds):
    job = jobs.enqueue("test.broken", {"why": "x"})
    db.session.commit()
    db.session.execute(
        update(Job)
        .where(Job.id == job.id)
        .values(
            status="running",
            holder="gone",
            attempts=2,
            lease_until=now_utc() - timedelta(seconds=1),
        )
    )
    db.session.commit()
    assert jobs.claim("worker-b") is None
    row = _row(job.id)
    assert row.status == "failed" and "no attempts are left" in row.error


def test_the_worker_command_runs_due_jobs_once(kinds):
    job = jobs.enqueue("test.count", {"n": 2})
    db.session.commit()
    result = kinds.test_cli_runner().invoke(args=["worker", "--once"])
    assert result.exit_code == 0, result.output
    assert "1 jobs run." in result.output
    assert _row(job.id).status == "done"


def test_a_worker_may_run_only_some_kinds(kinds):
    counted = jobs.enqueue("test.count", {"n": 1})
    broken = jobs.enqueue("test.broken", {"why": "x"})
    db.session.commit()
    runner = kinds.test_cli_runner()
    result = runner.invoke(args=["worker", "--once", "--kind", "test.count"])
    assert result.exit_code == 0 and "1 jobs run." in result.output, result.output
    assert (_row(counted.id).status, _row(broken.id).status) == ("done", "queued")
    refused = runner.invoke(args=["worker", "--once", "--kind", "test.nothing"])
    assert refused.exit_code != 0 and "no job kind test.nothing" in refused.output


def test_a_worker_thread_runs_jobs_and_stops_when_told(kinds):
    thread, stop = jobs.start_thread(kinds, poll=0.2)
    try:
        job = jobs.enqueue("test.count", {"n": 2})
        db.session.commit()
        deadline = time.monotonic() + 20
        while _row(job.id).status != "done" and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _row(job.id).status == "done"
    finally:
        stop.set()
        thread.join(10)
    assert not thread.is_alive()


def test_the_staff_page_lists_jobs_by_role_with_retry_and_download(kinds, client, login):
    user = login("staff")
    counted = jobs.enqueue("test.count", {"n": 1}, started_by_id=user.id)
    broken = jobs.enqueue("test.broken", {"why": "bad file"})
    db.session.commit()
    jobs.run_due_jobs(only=["test.count"])
    page = client.get("/staff/jobs?lang=en")
    assert page.status_code == 200
    assert f"Count #{counted.id}" in page.text and user.email in page.text
    assert "Broken" not in page.text  # a treasurer's kind
    assert client.post(f"/staff/jobs/{broken.id}/retry").status_code == 404
    assert client.get(f"/staff/jobs/{counted.id}/result").status_code == 404  # no file


def test_a_failed_job_shows_why_and_is_retried_from_the_page(kinds, client, login):
    login("treasurer")
    broken = jobs.enqueue("test.broken", {"why": "bad file"})
    db.session.commit()
    jobs.run_due_jobs()
    _make_due(broken.id)
    jobs.run_due_jobs()
    page = client.get("/staff/jobs?lang=en")
    assert "no good: bad file" in page.text and "Retry" in page.text
    assert client.post(f"/staff/jobs/{broken.id}/retry").status_code == 302
    assert _row(broken.id).status == "queued"


def test_a_stored_result_is_downloaded_only_from_inside_the_instance(kinds, client, login):
    login("staff")
    exports = Path(kinds.instance_path) / "exports"
    exports.mkdir(parents=True, exist_ok=True)
    (exports / "out.csv").write_text("a;b\n")
    made = jobs.enqueue("test.count", {"n": 1})
    outside = jobs.enqueue("test.count", {"n": 1})
    db.session.commit()
    jobs.run_due_jobs()
    db.session.execute(update(Job).where(Job.id == made.id).values(result_path="exports/out.csv"))
    db.session.execute(update(Job).where(Job.id == outside.id).values(result_path="../secret"))
    db.session.commit()
    download = client.get(f"/staff/jobs/{made.id}/result")
    assert download.status_code == 200 and download.data == b"a;b\n"
    assert client.get(f"/staff/jobs/{outside.id}/result").status_code == 404


@pytest.mark.postgres
def test_concurrent_workers_each_claim_a_job_exactly_once(kinds):
    created = [jobs.enqueue("test.count", {"n": 1}).id for _ in range(40)]
    db.session.commit()
    claimed: dict[str, list[int]] = {}
    barrier = threading.Barrier(4)

    def worker(name: str) -> None:
        mine = claimed.setdefault(name, [])
        with kinds.app_context():
            barrier.wait()
            while (job := jobs.claim(name)) is not None:
                mine.append(job.id)
            db.session.remove()

    threads = [threading.Thread(target=worker, args=(f"w{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    every = [job_id for ids in claimed.values() for job_id in ids]
    assert sorted(every) == sorted(created)  # each once, none twice
    rows = db.session.scalars(select(Job).execution_options(populate_existing=True)).all()
    assert {(r.status, r.attempts) for r in rows} == {("running", 1)}


@pytest.mark.postgres
def test_notify_wakes_an_idle_worker_within_a_second(kinds):
    thread, stop = jobs.start_thread(kinds, poll=30)
    try:
        time.sleep(1.0)  # the worker found nothing and listens
        job = jobs.enqueue("test.count", {"n": 1})
        db.session.commit()
        queued_at = time.monotonic()
        while _row(job.id).status != "done" and time.monotonic() - queued_at < 10:
            time.sleep(0.05)
        assert _row(job.id).status == "done"
        assert time.monotonic() - queued_at < 1.5
    finally:
        stop.set()
        with kinds.app_context():
            jobs.enqueue("test.count", {"n": 0})  # wakes it to see the stop
            db.session.commit()
        thread.join(10)
    assert not thread.is_alive()

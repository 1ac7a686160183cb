"""Annual receipts as durable jobs: any web worker serves a run's progress from its row; on
PostgreSQL, of two `legami worker` processes the one running the job is killed half-way and
the other takes it over after its lease and finishes: every donor gets one receipt, numbers
without gap or duplicate."""

import os
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from legami import jobs
from legami.extensions import db
from legami.jobs import Job
from legami.timeutil import today_rome
from receipts import annual, annual_views, pdf
from receipts.issuing import settings_for
from receipts.models import Kind, Policy, Receipt
from tests import factories

YEAR = today_rome().year - 1
DONORS = 150
LEASE_SECONDS = 4
LEGAMI = str(Path(sys.executable).parent / "legami")


def _start_worker(database_url: str, folder: Path) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "LEGAMI_INSTANCE": str(folder),
        "SECRET_KEY": "test-secret",
        "BASE_URL": "http://localhost",
        "SMTP_URL": "",
        "JOB_LEASE_SECONDS": str(LEASE_SECONDS),
    }
    # A session of its own: killing its group kills its PDF processes too, as a machine
    # that dies would.
    return subprocess.Popen(
        [LEGAMI, "worker", "--poll", "0.5"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def _row(job_id: int) -> Job:
    return db.session.get(Job, job_id, populate_existing=True)


def _wait(condition, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


@pytest.mark.postgres
def test_a_killed_worker_s_run_is_finished_by_the_other_without_gap_or_duplicate(
    app, database_url, tmp_path
):
    org = factories.organisation(art83_eligible=True)
    settings_for(org.id).policy = Policy.ANNUAL
    db.session.commit()
    campaign = factories.campaign(organisation=org)
    for n in range(DONORS):
        factories.donation(
            campaign=campaign, amount_cents=1000 + n, received_on=date(YEAR, 1 + n % 12, 1)
        )
    db.session.commit()
    job = jobs.enqueue(
        annual_views.KIND,
        {"year": YEAR, "organisation_id": org.id, "reason": "annual", "numbered_in": YEAR + 1},
    )
    db.session.commit()

    workers = [_start_worker(database_url, tmp_path / f"worker-{i}") for i in range(2)]
    try:
        # Half-way: the first batch is committed and reported.
        _wait(lambda: _row(job.id).done >= annual.BATCH, 120, "the first batch")
        holder_pid = int(_row(job.id).holder.split(":")[1])
        killed = next(w for w in workers if w.pid == holder_pid)
        other = next(w for w in workers if w is not killed)
        os.killpg(killed.pid, signal.SIGKILL)
        killed.wait(10)

        _wait(lambda: _row(job.id).status == "done", 180, "the other worker to finish")
        row = _row(job.id)
        # Taken over (a second attempt), which issued only what the first had not committed.
        assert row.attempts == 2 and row.error == ""
        assert row.result["issued"] <= DONORS - annual.BATCH

        # SIGTERM: the idle worker stops cleanly.
        other.send_signal(signal.SIGTERM)
        assert other.wait(30) == 0
    finally:
        for worker in workers:
            if worker.poll() is None:
                os.killpg(worker.pid, signal.SIGKILL)
                worker.wait(10)

    receipts = db.session.scalars(
        select(Receipt).where(Receipt.organisation_id == org.id, Receipt.kind == Kind.ANNUAL)
    ).all()
    assert len(receipts) == DONORS
    assert len({r.donor_id for r in receipts}) == DONORS  # one per donor
    assert sorted(r.number for r in receipts) == list(range(1, DONORS + 1))  # no gap, no twin
    # PDFs the killed worker rendered but never recorded are stored by render_due.
    while pdf.render_due():
        pass
    db.session.expire_all()
    assert all(r.pdf_path for r in db.session.scalars(select(Receipt)))


def test_any_web_worker_serves_the_progress_of_a_run_another_started(client, login, app_with):
    """Two apps on one database stand for two web workers: the run started through one is
    followed through the other, from its job row."""
    login("treasurer")
    org = factories.organisation(art83_eligible=True)
    settings_for(org.id).policy = Policy.ANNUAL
    db.session.commit()
    campaign = factories.campaign(organisation=org)
    for n in range(3):
        factories.donation(campaign=campaign, received_on=date(YEAR, 5, 1 + n))
    db.session.commit()
    started = client.post("/staff/receipts/annual", data={"year": YEAR, "organisation": org.id})
    assert started.status_code == 302
    url = f"{started.location}/status"
    db.session.commit()  # this app's read of `org` ends: nothing of it stays open

    other = app_with().test_client()
    other.set_cookie("session", client.get_cookie("session").value)
    waiting = other.get(url)
    assert waiting.status_code == 200
    assert (waiting.json["status"], waiting.json["done"]) == ("running", 0)
    assert jobs.run_due_jobs() == 1
    finished = other.get(url).json
    assert (finished["status"], finished["issued"], finished["rendered"]) == ("done", 3, 3)
    assert finished == client.get(url).json

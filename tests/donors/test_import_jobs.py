"""Donor imports as durable jobs: a run whose worker died is taken over by another worker
and writes nothing twice."""

from datetime import timedelta

from sqlalchemy import func, select, text, update

from donors import importing
from donors.models import Donor, ImportJob, ImportStatus
from legami import jobs
from legami.extensions import db
from legami.jobs import Job
from legami.timeutil import now_utc
from tests.donors.test_import import MAILCHIMP, _job


def _donor_tables() -> dict:
    tables = ["donors", "donor_emails", "donor_tags", "consent_events"]
    return {t: db.session.execute(text(f"SELECT * FROM {t} ORDER BY 1")).all() for t in tables}


def _worker_dies(job_id: int) -> None:
    """The worker holding the job stops answering: its lease runs out."""
    db.session.execute(
        update(Job).where(Job.id == job_id).values(lease_until=now_utc() - timedelta(seconds=1))
    )
    db.session.commit()


def _queued_import() -> tuple[ImportJob, Job]:
    upload = _job(MAILCHIMP)
    assert importing.start_run(upload.id, None)
    assert not importing.start_run(upload.id, None)  # a second click queues nothing
    return upload, db.session.scalar(select(Job).where(Job.kind == importing.JOB_KIND))


def test_a_run_whose_worker_died_before_writing_is_done_by_another(app):
    upload, job = _queued_import()
    assert jobs.claim("dead-worker").id == job.id
    _worker_dies(job.id)
    assert jobs.run_due_jobs() == 1
    db.session.expire_all()
    assert db.session.get(ImportJob, upload.id).status == ImportStatus.DONE
    row = db.session.get(Job, job.id)
    assert (row.status, row.attempts, row.done, row.total) == ("done", 2, 16, 16)
    assert row.result["created"] == db.session.scalar(select(func.count()).select_from(Donor)) > 0


def test_a_run_taken_over_after_its_rows_were_written_writes_nothing_twice(app):
    upload, job = _queued_import()
    assert jobs.claim("dead-worker").id == job.id
    # The dead worker had written every batch but not yet marked the import done.
    importing.run(upload.id)
    db.session.execute(
        update(ImportJob).where(ImportJob.id == upload.id).values(status=ImportStatus.RUNNING)
    )
    db.session.commit()
    written = _donor_tables()
    _worker_dies(job.id)
    assert jobs.run_due_jobs() == 1
    db.session.expire_all()
    assert _donor_tables() == written  # no donor, address, tag or consent twice
    assert db.session.get(ImportJob, upload.id).status == ImportStatus.DONE
    row = db.session.get(Job, job.id)
    assert (row.status, row.attempts, row.result["created"]) == ("done", 2, 0)


def test_a_run_taken_over_after_the_import_was_done_only_records_it(app):
    upload, job = _queued_import()
    assert jobs.claim("dead-worker").id == job.id
    done = importing.run(upload.id)
    counts = (done.created, done.updated, done.skipped, done.rejected)
    written = _donor_tables()
    _worker_dies(job.id)
    assert jobs.run_due_jobs() == 1
    db.session.expire_all()
    assert _donor_tables() == written
    row = db.session.get(Job, job.id)
    assert row.status == "done"
    assert tuple(row.result[k] for k in ("created", "updated", "skipped", "rejected")) == counts

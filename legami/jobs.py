"""Durable jobs: every long, user-started piece of work is a row of `jobs`, run by workers.

A web request only creates a job (`enqueue`) and reads its row; any `legami worker`
process, on any machine, claims due jobs, runs them, and writes their progress and result
back to the row, so any web worker serves the progress page.

Guarantees:
- A job is run by one worker at a time. Claiming is one compare-and-set UPDATE (status and
  lease checked in its WHERE), preceded on PostgreSQL by `SELECT ... FOR UPDATE SKIP
  LOCKED` so that concurrent workers pass over each other's candidates instead of queueing.
- A running job holds a lease (`lease_until`, `holder`). Its progress reports renew it;
  when its worker dies, the lease runs out and another worker takes the job over (counted
  as an attempt). A worker whose lease was taken over learns it at its next report
  (`LeaseLost`) and stops; its result is not recorded. Job functions must therefore be
  idempotent per committed step (annual receipts and imports skip what is committed).
- A job that raises is queued again after a delay until it has used its kind's attempts,
  then marked failed with the error; staff may retry a failed job (`retry`).
- On PostgreSQL, `enqueue` sends NOTIFY on the `legami_jobs` channel in the job's
  transaction (delivered on commit): idle workers LISTEN and wake at once; polling every
  few seconds is the fallback (and the only way on SQLite).

Why a table of our own rather than a library: procrastinate and dramatiq/Celery need
PostgreSQL or a broker (Redis, RabbitMQ), while Legami's default is SQLite in one process.
A table in the app's own database works on both engines with the same code, lives in the
same transactions and migrations as the work it tracks, and is what the progress and staff
pages read; SKIP LOCKED and LISTEN/NOTIFY give the PostgreSQL deployment the behaviour of
those libraries (the pattern of Oban, GoodJob and river). APScheduler (legami.scheduler)
still only decides *when*.

Progress is written on a connection of its own, so a job reports progress between its own
transactions (after a commit), never in the middle of one (SQLite allows one writer).
"""

import enum
import logging
import os
import signal
import socket
import threading
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    and_,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.orm import Mapped, mapped_column

from legami.extensions import db
from legami.models import one_of
from legami.timeutil import UTCDateTime, now_utc

log = logging.getLogger(__name__)

CHANNEL = "legami_jobs"
POLL_SECONDS = 5
RETRY_DELAY_SECONDS = 30


class JobStatus(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class Job(db.Model):
    """One piece of long work: what to do, who asked, how far it is, what came out."""

    __tablename__ = "jobs"
    __table_args__ = (
        one_of("status", JobStatus),
        CheckConstraint("kind <> ''", name="kind_not_empty"),
        CheckConstraint("done >= 0 AND total >= 0", name="progress_ok"),
        CheckConstraint("attempts >= 0 AND max_attempts >= 1", name="attempts_ok"),
        CheckConstraint(
            "status <> 'running' OR (holder IS NOT NULL AND lease_until IS NOT NULL)",
            name="running_leased",
        ),
        Index("ix_jobs_status_run_after", "status", "run_after"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(60))
    parameters: Mapped[dict] = mapped_column(JSON, default=dict)
    started_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    status: Mapped[str] = mapped_column(String(10), default=JobStatus.QUEUED)
    done: Mapped[int] = mapped_column(default=0)
    total: Mapped[int] = mapped_column(default=0)
    message: Mapped[str] = mapped_column(String(300), default="")
    # What came out: a summary, and/or a stored file (its legami.storage key).
    result: Mapped[dict | None] = mapped_column(JSON)
    result_path: Mapped[str | None] = mapped_column(String(300))
    error: Mapped[str] = mapped_column(Text, default="")
    attempts: Mapped[int] = mapped_column(default=0)
    max_attempts: Mapped[int] = mapped_column(default=3)
    run_after: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    holder: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def active(self) -> bool:
        return self.status in (JobStatus.QUEUED, JobStatus.RUNNING)


class LeaseLost(Exception):
    """Another worker took the job over: this one must stop without recording anything."""


@dataclass(frozen=True)
class Kind:
    function: Callable
    label: object
    roles: tuple[str, ...]
    attempts: int


def add_job_kind(
    app, kind: str, function: Callable, label, roles: tuple = ("staff",), attempts: int = 3
) -> None:
    """Register what runs a job of `kind`: `function(running: RunningJob)` returns a summary
    dict (or None); it may set `running.result_path`. Up to `attempts` runs per job; users
    with one of `roles` (and admins) see such jobs on the staff page and may retry them."""
    app.extensions.setdefault("legami.job_kinds", {})[kind] = Kind(
        function, label, tuple(str(role) for role in roles), attempts
    )


def kinds(app) -> dict[str, Kind]:
    """The registered job kinds: kind -> Kind."""
    return app.extensions.get("legami.job_kinds", {})


def enqueue(kind: str, parameters: dict | None = None, started_by_id: int | None = None) -> Job:
    """Add a job to the session (the caller commits); workers are woken on commit."""
    registered = kinds(current_app).get(kind)
    if registered is None:
        raise KeyError(f"no job kind {kind!r}")
    job = Job(
        kind=kind,
        parameters=parameters or {},
        started_by_id=started_by_id,
        status=JobStatus.QUEUED,
        max_attempts=registered.attempts,
        run_after=now_utc(),
    )
    db.session.add(job)
    db.session.flush()
    if _postgres():
        _notify(kind)
    return job


def _lease_seconds() -> int:
    return current_app.config["JOB_LEASE_SECONDS"]


def _claimable(now: datetime):
    """Queued and due, or running with a lease run out and attempts left (a dead worker's)."""
    return or_(
        and_(Job.status == JobStatus.QUEUED, Job.run_after <= now),
        and_(
            Job.status == JobStatus.RUNNING,
            Job.lease_until < now,
            Job.attempts < Job.max_attempts,
        ),
    )


def _fail_abandoned(now: datetime) -> None:
    """Jobs whose worker died on their last attempt: failed, not run again."""
    db.session.execute(
        update(Job)
        .where(
            Job.status == JobStatus.RUNNING,
            Job.lease_until < now,
            Job.attempts >= Job.max_attempts,
        )
        .values(
            status=JobStatus.FAILED,
            error="The worker running this job stopped and no attempts are left.",
            holder=None,
            lease_until=None,
            finished_at=now,
        )
    )


def claim(holder: str, only: list[str] | None = None) -> Job | None:
    """Take one due job for `holder` (committed), or None when nothing is due; `only`: of
    these kinds (by default every kind registered)."""
    wanted = list(only if only is not None else kinds(current_app))
    if not wanted:
        return None
    for _ in range(5):
        now = now_utc()
        _fail_abandoned(now)
        candidate = db.session.scalar(
            select(Job.id)
            .where(Job.kind.in_(wanted), _claimable(now))
            .order_by(Job.run_after, Job.id)
            .limit(1)
            .with_for_update(skip_locked=True)
        )
        if candidate is None:
            db.session.commit()
            return None
        claimed = db.session.execute(
            update(Job)
            .where(Job.id == candidate, _claimable(now))
            .values(
                status=JobStatus.RUNNING,
                holder=holder,
                lease_until=now + timedelta(seconds=_lease_seconds()),
                attempts=Job.attempts + 1,
                started_at=now,
                error="",
            )
            .execution_options(synchronize_session=False)
        )
        db.session.commit()
        if claimed.rowcount == 1:
            return db.session.get(Job, candidate, populate_existing=True)
    return None


def _write_own(job_id: int, owner: str, **values) -> bool:
    """Update the job row if `owner` still holds it, on a connection of its own."""
    with db.engine.begin() as connection:
        result = connection.execute(
            update(Job)
            .where(Job.id == job_id, Job.holder == owner, Job.status == JobStatus.RUNNING)
            .values(**values)
        )
    return result.rowcount == 1


class RunningJob:
    """What a job function sees: its parameters, and a way to report progress."""

    def __init__(self, job: Job, holder: str):
        self.id = job.id
        self.kind = job.kind
        self.parameters = dict(job.parameters or {})
        self.started_by_id = job.started_by_id
        self.attempt = job.attempts
        self.holder = holder
        self.result_path: str | None = None

    def progress(self, done: int, total: int, message: str | None = None) -> None:
        """Record how far the job is and renew its lease; raises LeaseLost if it was
        taken over. Call it between transactions."""
        values = {
            "done": max(0, done),
            "total": max(0, total),
            "lease_until": now_utc() + timedelta(seconds=_lease_seconds()),
        }
        if message is not None:
            values["message"] = message[:300]
        if not _write_own(self.id, self.holder, **values):
            raise LeaseLost(f"job {self.id} is no longer held by {self.holder}")


def run_claimed(job: Job, holder: str) -> str:
    """Run a claimed job to its end; returns its new status."""
    kind = kinds(current_app).get(job.kind)
    running = RunningJob(job, holder)
    try:
        if kind is None:
            raise LookupError(f"no job kind {job.kind!r} in this worker")
        summary = kind.function(running)
    except LeaseLost:
        db.session.rollback()
        log.warning("job %s was taken over; %s stops", job.id, holder)
        return JobStatus.RUNNING
    except Exception as exc:
        db.session.rollback()
        log.exception("job %s (%s) failed", job.id, job.kind)
        error = "".join(traceback.format_exception_only(exc)).strip()[:2000]
        again = kind is not None and running.attempt < job.max_attempts
        status = JobStatus.QUEUED if again else JobStatus.FAILED
        now = now_utc()
        _write_own(
            job.id,
            holder,
            status=status,
            error=error,
            holder=None,
            lease_until=None,
            run_after=now + timedelta(seconds=RETRY_DELAY_SECONDS * running.attempt),
            finished_at=None if again else now,
        )
        return status
    db.session.rollback()  # whatever the function left uncommitted is not part of the job
    _write_own(
        job.id,
        holder,
        status=JobStatus.DONE,
        result=summary,
        result_path=running.result_path,
        holder=None,
        lease_until=None,
        finished_at=now_utc(),
    )
    return JobStatus.DONE


def _postgres() -> bool:
    return db.engine.dialect.name == "postgresql"


def _notify(payload: str) -> None:
    """Wake listening workers when the session's transaction commits."""
    db.session.execute(
        text("SELECT pg_notify(:channel, :payload)"), {"channel": CHANNEL, "payload": payload}
    )


def new_holder() -> str:
    """A worker's name: host, process and a random part (one per worker thread)."""
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def run_one(holder: str | None = None, only: list[str] | None = None) -> bool:
    """Claim and run one due job in the current app context; False when none was due."""
    holder = holder or new_holder()
    job = claim(holder, only)
    if job is None:
        return False
    run_claimed(job, holder)
    return True


def run_due_jobs(only: list[str] | None = None) -> int:
    """Run every due job in this process (tests, `legami worker --once`); returns how many."""
    holder = new_holder()
    count = 0
    while run_one(holder, only):
        count += 1
    return count


def retry(job_id: int) -> bool:
    """Queue a failed job again with one more attempt (staff's retry); False if not failed."""
    retried = db.session.execute(
        update(Job)
        .where(Job.id == job_id, Job.status == JobStatus.FAILED)
        .values(
            status=JobStatus.QUEUED,
            max_attempts=Job.attempts + 1,
            run_after=now_utc(),
            finished_at=None,
        )
    )
    if retried.rowcount == 1 and _postgres():
        _notify("retry")
    return retried.rowcount == 1


class _Wakeup:
    """Waits for a NOTIFY on PostgreSQL (a listening connection of its own), else sleeps."""

    def __init__(self, app, stop: threading.Event):
        self.stop = stop
        self.connection = None
        with app.app_context():
            url = db.engine.url
        if url.get_backend_name() == "postgresql":
            import psycopg

            dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
            try:
                self.connection = psycopg.connect(dsn, autocommit=True)
                self.connection.execute(f"LISTEN {CHANNEL}")
            except psycopg.Error:
                log.exception("LISTEN failed; the worker polls")
                self.connection = None

    def wait(self, seconds: float) -> None:
        if self.connection is None:
            self.stop.wait(seconds)
            return
        try:
            for _ in self.connection.notifies(timeout=seconds, stop_after=1):
                pass
        except Exception:
            log.exception("LISTEN connection lost; the worker polls")
            self.close()
            self.stop.wait(seconds)

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None


def work(app, stop: threading.Event, poll: float = POLL_SECONDS, only=None) -> None:
    """Run jobs until `stop` is set: a job in progress is finished first."""
    holder = new_holder()
    wakeup = _Wakeup(app, stop)
    try:
        while not stop.is_set():
            with app.app_context():
                try:
                    ran = run_one(holder, only)
                except Exception:
                    log.exception("claiming a job failed")
                    db.session.rollback()
                    ran = False
                finally:
                    db.session.remove()
            if not ran and not stop.is_set():
                wakeup.wait(poll)
    finally:
        wakeup.close()


def start_thread(app, poll: float = POLL_SECONDS) -> tuple[threading.Thread, threading.Event]:
    """A worker thread in this process (`legami run`, the one-machine default)."""
    stop = threading.Event()
    thread = threading.Thread(
        target=work, args=(app, stop, poll), name="legami-worker", daemon=True
    )
    thread.start()
    return thread, stop


def serve(app, poll: float = POLL_SECONDS, only: list[str] | None = None) -> None:
    """`legami worker`: run jobs (of the kinds in `only`, by default all) in the foreground
    until SIGTERM or SIGINT; the job in hand is finished first."""
    stop = threading.Event()

    def _stop(_signum, _frame):
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    work(app, stop, poll, only)

"""Background jobs with APScheduler 3.11, never started by create_app().

Packages register jobs (`add_job`); one `legami scheduler` process runs them, or `legami run`
embeds them for a one-machine install. Jobs have fixed ids, coalesce missed runs, and a grace
of minutes (APScheduler's default of one second silently skips a late run). Each job does its
own claiming in the database, so two schedulers by mistake still do each piece of work once.

Interval jobs are defined in code and live in memory. Jobs at a date that must outlive a
restart (a newsletter's send time) go to the `database` job store, a table of the app's
database; they name their function by textual reference and find the app through
`running_app()`, since a stored job cannot hold one. That table is part of the models and
created by a migration, never at start: any number of schedulers may start at once on a fresh
database (APScheduler's own check-then-create races and kills the loser).
"""

import threading

from apscheduler.events import EVENT_SCHEDULER_SHUTDOWN
from apscheduler.jobstores.base import BaseJobStore
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from sqlalchemy import Column, Float, LargeBinary, Table, Unicode

from legami.extensions import db
from legami.timeutil import now_utc

GRACE_SECONDS = 300
DATABASE_JOBSTORE = "database"
JOBS_TABLE = "apscheduler_jobs"

# The scheduler this process runs (at most one: job stores cannot be shared) and its app.
_running: dict = {}
_lock = threading.Lock()

# APScheduler's job table, as its SQLAlchemyJobStore defines it (191: MySQL's key length, 25:
# an 8-byte float), declared in the app's metadata so that migrations create it.
jobs_table = Table(
    JOBS_TABLE,
    db.metadata,
    Column("id", Unicode(191), primary_key=True),
    Column("next_run_time", Float(25), index=True),
    Column("job_state", LargeBinary, nullable=False),
)


class MigratedJobStore(SQLAlchemyJobStore):
    """APScheduler's SQLAlchemy job store on the migrated table; it creates nothing at start."""

    def __init__(self, engine):
        super().__init__(engine=engine, tablename=JOBS_TABLE)
        self.jobs_t = jobs_table

    def start(self, scheduler, alias):
        BaseJobStore.start(self, scheduler, alias)


def add_job(app, job_id: str, func, seconds: int, start_now: bool = False) -> None:
    """Run `func()` in an app context every `seconds` (first at start when `start_now`)."""
    app.extensions.setdefault("legami.jobs", []).append((job_id, func, seconds, start_now))


def build(app, blocking: bool):
    with app.app_context():
        engine = db.engine
    scheduler = (BlockingScheduler if blocking else BackgroundScheduler)(
        timezone="UTC",
        jobstores={
            "default": MemoryJobStore(),
            DATABASE_JOBSTORE: MigratedJobStore(engine),
        },
    )
    for job_id, func, seconds, start_now in app.extensions.get("legami.jobs", []):
        scheduler.add_job(
            _in_context(app, func),
            "interval",
            seconds=seconds,
            id=job_id,
            replace_existing=True,
            coalesce=True,
            max_instances=1,
            misfire_grace_time=GRACE_SECONDS,
            **({"next_run_time": now_utc()} if start_now else {}),
        )
    with _lock:
        _running.update(app=app, scheduler=scheduler)
    scheduler.add_listener(lambda _event: _forget(scheduler), EVENT_SCHEDULER_SHUTDOWN)
    return scheduler


def _forget(scheduler) -> None:
    with _lock:
        if _running.get("scheduler") is scheduler:
            _running.clear()


def running_app():
    """The app of the scheduler built in this process (for jobs from the database store)."""
    with _lock:
        if "app" not in _running:
            raise RuntimeError("no scheduler was built in this process")
        return _running["app"]


def running_scheduler():
    """The scheduler built in this process, or None (a web worker runs none)."""
    with _lock:
        return _running.get("scheduler")


def run_soon(job_id: str) -> None:
    """Run an interval job now if this process runs it (`legami run`): a change staff just
    made reaches the job store at once rather than at the next interval."""
    scheduler = running_scheduler()
    job = scheduler.get_job(job_id) if scheduler is not None and scheduler.running else None
    if job is not None:
        job.modify(next_run_time=now_utc())


def _in_context(app, func):
    def run():
        with app.app_context():
            func()

    run.__name__ = func.__name__
    return run

"""Background jobs with APScheduler 3.11, never started by create_app().

Packages register jobs (`add_job`); one `legami scheduler` process runs them, or `legami run`
embeds them for a one-machine install. Jobs have fixed ids, coalesce missed runs, and a grace
of minutes (APScheduler's default of one second silently skips a late run). Each job does its
own claiming in the database, so two schedulers by mistake still do each piece of work once.
"""

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.blocking import BlockingScheduler

GRACE_SECONDS = 300


def add_job(app, job_id: str, func, seconds: int) -> None:
    """Run `func()` in an app context every `seconds`."""
    app.extensions.setdefault("legami.jobs", []).append((job_id, func, seconds))


def build(app, blocking: bool):
    scheduler = (BlockingScheduler if blocking else BackgroundScheduler)(timezone="UTC")
    for job_id, func, seconds in app.extensions.get("legami.jobs", []):
        scheduler.add_job(
            _in_context(app, func),
            "interval",
            seconds=seconds,
            id=job_id,
            replace_existing=True,
            coalesce=True,
            max_instances=1,
            misfire_grace_time=GRACE_SECONDS,
        )
    return scheduler


def _in_context(app, func):
    def run():
        with app.app_context():
            func()

    run.__name__ = func.__name__
    return run

"""When a newsletter goes out: staff's transitions, and the scheduler process's date jobs.

The newsletter row is the truth. Each transition (schedule, reschedule, cancel, pause, resume)
is a compare-and-set UPDATE from the statuses it may start from, so it never overwrites what a
sender did meanwhile (a claim `scheduled` -> `sending`, a finish `sending` -> `sent`): the
loser gets Invalid and nothing changes. The functions add to the session; the caller commits.

Web processes only change rows. The scheduler process (`legami scheduler`, or embedded by
`legami run`) mirrors them into its database job store every NEWSLETTER_SYNC_SECONDS
(`sync`): one date job `newsletter-<id>` at `scheduled_at` per scheduled newsletter, added,
moved or removed as the rows change. A newsletter more than NEWSLETTER_GRACE_SECONDS past its
time (no scheduler ran) becomes `late` and waits for staff to send it now or reschedule it;
no sender claims it meanwhile (mailing.sending), and APScheduler's misfire grace is the same,
so a stored job that old is skipped, not run.
"""

from datetime import UTC, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update

from legami import audit, scheduler
from legami.extensions import db
from legami.models import User
from legami.timeutil import ROME, now_utc
from legami.validation import Invalid
from mailing import audience, sending
from mailing.models import Delivery, DeliveryStatus, Newsletter, NewsletterStatus

S = NewsletterStatus
SYNC_JOB = "newsletters.sync"
FIRE = "mailing.scheduling:fire"

STATUS_LABELS = {
    S.DRAFT: _l("draft"),
    S.SCHEDULED: _l("scheduled"),
    S.SENDING: _l("sending"),
    S.PAUSED: _l("paused"),
    S.LATE: _l("late"),
    S.SENT: _l("sent"),
    S.CANCELLED: _l("cancelled"),
}


def job_id(newsletter_id: int) -> str:
    return f"newsletter-{newsletter_id}"


def parse_rome(value: str) -> datetime:
    """A date and time as staff type it (`2026-12-01T09:30`, Europe/Rome) -> UTC."""
    try:
        local = datetime.fromisoformat(value.strip())
    except ValueError:
        raise Invalid({"at": _l("Enter a date and time, such as 2026-12-01 09:30.")}) from None
    if local.tzinfo is None:
        local = local.replace(tzinfo=ROME)
    return local.astimezone(UTC)


def recipients(newsletter: Newsletter) -> int:
    """Who it would go to now: the audience, or once frozen, the deliveries still pending."""
    if newsletter.recipients_total is None:
        return audience.count(newsletter)
    return db.session.scalar(
        select(func.count()).where(
            Delivery.newsletter_id == newsletter.id, Delivery.status == DeliveryStatus.PENDING
        )
    )


def schedule(
    newsletter: Newsletter, when: datetime | None, user: User | None, now: datetime | None = None
) -> int:
    """Send a draft, paused or late newsletter at `when` (UTC; None: now); returns how many
    recipients it has."""
    now = now or now_utc()
    _check_future(when, now)
    if not any(version.language == "it" for version in newsletter.versions):
        raise Invalid({"versions": _l("Write the Italian version first: every donor can get it.")})
    count = recipients(newsletter)
    if count == 0:
        raise Invalid(
            {"audience": _l("No one would receive it: its segments have no consenting donor.")}
        )
    _transition(
        newsletter,
        "schedule",
        (S.DRAFT, S.PAUSED, S.LATE),
        user,
        status=S.SCHEDULED,
        scheduled_at=when or now,
    )
    return count


def reschedule(
    newsletter: Newsletter, when: datetime | None, user: User | None, now: datetime | None = None
) -> None:
    """Move a scheduled or late newsletter to `when` (None: now)."""
    now = now or now_utc()
    _check_future(when, now)
    _transition(
        newsletter,
        "reschedule",
        (S.SCHEDULED, S.LATE),
        user,
        status=S.SCHEDULED,
        scheduled_at=when or now,
    )


def cancel(newsletter: Newsletter, user: User | None) -> None:
    """Stop it for good; a sender stops at its next batch. What went out stays in the report."""
    _transition(
        newsletter, "cancel", (S.SCHEDULED, S.SENDING, S.PAUSED, S.LATE), user, status=S.CANCELLED
    )


def pause(newsletter: Newsletter, user: User | None) -> None:
    """Hold it; a sender stops at its next batch (its heartbeat update finds no row)."""
    _transition(newsletter, "pause", (S.SCHEDULED, S.SENDING), user, status=S.PAUSED)


def resume(newsletter: Newsletter, user: User | None, now: datetime | None = None) -> None:
    """Schedule a paused newsletter at once; the send skips the deliveries already made."""
    now = now or now_utc()
    _transition(newsletter, "resume", (S.PAUSED,), user, status=S.SCHEDULED, scheduled_at=now)


def send_at(newsletter: Newsletter, when: datetime | None, user: User | None) -> int:
    """Schedule it, or move it if already scheduled or late (None: now); returns how many
    recipients it has."""
    if newsletter.status in (S.DRAFT, S.PAUSED):
        return schedule(newsletter, when, user)
    reschedule(newsletter, when, user)
    return recipients(newsletter)


def _check_future(when: datetime | None, now: datetime) -> None:
    if when is not None and when <= now:
        raise Invalid({"at": _l("Choose a time in the future, or send it now.")})


_VERBS = {
    "schedule": _l("scheduled"),
    "reschedule": _l("rescheduled"),
    "cancel": _l("cancelled"),
    "pause": _l("paused"),
    "resume": _l("resumed"),
}


def _transition(newsletter: Newsletter, action: str, sources, user: User | None, **values):
    result = db.session.execute(
        update(Newsletter)
        .where(Newsletter.id == newsletter.id, Newsletter.status.in_([s.value for s in sources]))
        .values(updated_at=now_utc(), **values)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(newsletter)
    if result.rowcount != 1:
        raise Invalid(
            {
                "status": _l(
                    "This newsletter is %(status)s now: it cannot be %(verb)s.",
                    status=STATUS_LABELS[S(newsletter.status)],
                    verb=_VERBS[action],
                )
            }
        )
    at = newsletter.scheduled_at.isoformat() if "scheduled_at" in values else None
    audit.record(user, f"newsletter.{action}", f"newsletter:{newsletter.id}", scheduled_at=at)


# --- The scheduler process ----------------------------------------------------------------


def mark_late(now: datetime | None = None) -> list[int]:
    """Scheduled newsletters more than the grace period past their time wait for staff."""
    now = now or now_utc()
    late = db.session.scalars(
        update(Newsletter)
        .where(Newsletter.status == S.SCHEDULED, Newsletter.scheduled_at < now - sending.grace())
        .values(status=S.LATE, updated_at=now)
        .returning(Newsletter.id)
        .execution_options(synchronize_session=False)
    ).all()
    for newsletter_id in late:
        audit.record(None, "newsletter.late", f"newsletter:{newsletter_id}")
    db.session.commit()
    return late


def sync(sched, now: datetime | None = None) -> None:
    """Make the job store hold one date job per scheduled newsletter, at its time."""
    mark_late(now)
    due = dict(
        db.session.execute(
            select(Newsletter.id, Newsletter.scheduled_at).where(Newsletter.status == S.SCHEDULED)
        ).all()
    )
    db.session.commit()
    jobs = {job.id: job for job in sched.get_jobs(jobstore=scheduler.DATABASE_JOBSTORE)}
    for newsletter_id, at in due.items():
        job = jobs.pop(job_id(newsletter_id), None)
        # The store keeps times as float timestamps: compare to the millisecond.
        if job is None or abs((job.next_run_time - at).total_seconds()) > 0.001:
            sched.add_job(
                FIRE,
                "date",
                run_date=at,
                args=[newsletter_id],
                id=job_id(newsletter_id),
                jobstore=scheduler.DATABASE_JOBSTORE,
                replace_existing=True,
                coalesce=True,
                max_instances=1,
                misfire_grace_time=int(sending.grace().total_seconds()),
            )
    for stale in jobs:
        if stale.startswith("newsletter-"):
            sched.remove_job(stale, jobstore=scheduler.DATABASE_JOBSTORE)


def sync_running() -> None:
    """The interval job: `sync` on this process's scheduler."""
    sync(scheduler.running_scheduler())


def poke() -> None:
    """After a committed change: an embedded scheduler (`legami run`) syncs at once."""
    scheduler.run_soon(SYNC_JOB)


def send(newsletter_id: int, now: datetime | None = None) -> None:
    """Claim the newsletter and send it; another sender holding it makes this a no-op."""
    token = sending.claim(newsletter_id, now or now_utc())
    if token is not None:
        sending.run(newsletter_id, token)


def fire(newsletter_id: int) -> None:
    """The date job (stored by textual reference): send in the scheduler's app."""
    with scheduler.running_app().app_context():
        send(newsletter_id)

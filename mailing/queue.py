"""The mail queue: receivers add jobs inside the sender's transaction; `send_due` delivers.

Delivery is at least once at the SMTP boundary: a crash after the server accepted a mail
but before `sent_at` is committed sends that one mail again on the next run.
"""

from collections.abc import Callable
from datetime import timedelta
from email.message import EmailMessage
from functools import cache

from flask import current_app
from sqlalchemy import bindparam, select

from legami.extensions import db
from legami.sql import upsert_insert
from legami.timeutil import now_utc
from mailing.models import MailJob
from mailing.transport import send

MAX_ATTEMPTS = 8
# kind -> function(job) -> the message, or None when it no longer applies
RENDERERS: dict[str, Callable[[MailJob], EmailMessage | None]] = {}


class NotYet(Exception):
    """Raised by a renderer whose mail must wait (e.g. for its receipt's PDF): the job is
    tried again `seconds` later, without counting as a failed attempt."""

    def __init__(self, seconds: int = 30):
        super().__init__(seconds)
        self.seconds = seconds


@cache
def _enqueue_statement(dialect: str):
    # Built once per engine: it runs for every gift.
    return (
        upsert_insert(MailJob.__table__)
        .values(kind=bindparam("b_kind"), donation_id=bindparam("b_donation"))
        .on_conflict_do_nothing(index_elements=["kind", "donation_id"])
    )


def enqueue(kind: str, donation_id: int) -> None:
    """Queue a mail in the current transaction, once per gift and kind.

    Payments sends each signal once per change (under the donation's row lock). A gift can
    succeed a second time only after a bank reversal made it pending again
    (payments.treasury.reverse_transfer); it is not thanked twice.
    """
    db.session.connection().execute(
        _enqueue_statement(db.engine.dialect.name), {"b_kind": kind, "b_donation": donation_id}
    )


def requeue(kind: str, donation_id: int) -> None:
    """Queue a mail about a gift, or queue it again if it went out (a re-sent receipt)."""
    db.session.execute(
        upsert_insert(MailJob.__table__)
        .values(kind=kind, donation_id=donation_id, not_before=now_utc(), created_at=now_utc())
        .on_conflict_do_update(
            index_elements=["kind", "donation_id"],
            set_={"sent_at": None, "attempts": 0, "last_error": "", "not_before": now_utc()},
        )
    )


def enqueue_for_donor(kind: str, donor_id: int) -> None:
    """Queue a mail to a donor (a portal link, a consent confirmation) in this transaction.

    Its renderer makes any link when the mail goes out, so no secret waits in the table.
    """
    db.session.add(MailJob(kind=kind, donor_id=donor_id))


def send_due(limit: int = 200) -> int:
    """Send what is due; returns how many went out. Safe to run in several processes."""
    # Mail templates build links with url_for, which needs a request: the public address's.
    with current_app.test_request_context("/", base_url=current_app.config["BASE_URL"]):
        return _send_due(limit)


def _send_due(limit: int) -> int:
    ids = db.session.scalars(
        select(MailJob.id)
        .where(
            MailJob.sent_at.is_(None),
            MailJob.not_before <= now_utc(),
            MailJob.attempts < MAX_ATTEMPTS,
        )
        .order_by(MailJob.id)
        .limit(limit)
    ).all()
    db.session.commit()
    sent = 0
    for job_id in ids:
        job = db.session.scalar(
            select(MailJob)
            .where(MailJob.id == job_id, MailJob.sent_at.is_(None))
            .with_for_update(skip_locked=True)
        )
        if job is None:
            continue  # another process has it
        try:
            message = RENDERERS[job.kind](job)
            if message is not None:
                send(message)
        except NotYet as wait:
            job.not_before = now_utc() + timedelta(seconds=wait.seconds)
            db.session.commit()
            continue
        except OSError as exc:  # SMTP and socket errors: try again later, backing off
            job.attempts += 1
            job.last_error = str(exc)[:1000]
            job.not_before = now_utc() + timedelta(minutes=2**job.attempts)
            current_app.logger.warning("mail job %s failed: %s", job.id, exc)
        else:
            job.sent_at = now_utc()
            sent += 1
        db.session.commit()
    return sent

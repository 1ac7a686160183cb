"""Sending a newsletter: claim it, then stream its pending deliveries over reused SMTP
connections, recording each batch with a heartbeat.

Claim: `claim()` moves a `scheduled` newsletter due within NEWSLETTER_GRACE_SECONDS (later,
mailing.scheduling.mark_late makes it `late` for staff) to `sending` with a new claim token in
one compare-and-set UPDATE, and in that transaction freezes its Delivery rows (the first
time only). A `sending` newsletter whose heartbeat is older than NEWSLETTER_LEASE_SECONDS
(its sender died) is taken over the same way; so is one its sender released with retries
waiting (heartbeat_at NULL) once a retry is due. Two schedulers: one wins, the other gets None.

Run: the main thread reads pending deliveries by id in chunks and hands them to
NEWSLETTER_SMTP_CONNECTIONS threads (mailing.smtp_pool), each of which renders its
recipients' messages (mailing.compose, no database) and sends them. As each chunk is read,
deliveries whose donor withdrew consent or whose address was suppressed since the freeze are
failed with that reason, in one statement (mailing.audience.lapsed). The main thread
records the threads' reports every NEWSLETTER_BATCH messages (or every second) in one
transaction that also refreshes the heartbeat, guarded by the claim token: when that guard
matches nothing (paused, cancelled, taken over) the run stops feeding, lets the threads
finish the message in hand, records it and returns.

The guarantee at the SMTP boundary is at least once. A recipient still consenting is never
skipped: a delivery leaves `pending` only once its outcome is committed. A recipient may get
the mail twice only if the sender dies after the server accepted it and before the batch
recording it was committed; the run never lets more than NEWSLETTER_SMTP_CONNECTIONS x
NEWSLETTER_BATCH messages be handed out and not yet committed, so that bounds the duplicates
of one crash (tests/mailing/test_exactly_once.py). A pause, a cancel or a second scheduler
sends nothing twice. Exactly once is not possible here: SMTP has no way to ask a server
whether it already accepted a message.
"""

import heapq
import time
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NamedTuple
from uuid import uuid4

from flask import current_app
from sqlalchemy import Connection, and_, bindparam, exists, func, or_, select, update

from donors.identity import normalise_email
from donors.models import Suppression, SuppressionReason, email_hash
from legami.extensions import db
from legami.sql import upsert_insert
from legami.timeutil import now_utc
from mailing import audience, compose
from mailing.models import Delivery, DeliveryStatus, Newsletter, NewsletterStatus
from mailing.smtp_pool import Job, OutboxChannel, Pool, Report, Result, SmtpChannel
from mailing.transport import SmtpSettings

CHUNK = 500  # pending deliveries read per query
FLUSH_SECONDS = 1.0  # record at least this often, so the heartbeat and a pause are prompt
WAIT_IN_RUN = 60  # a 4xx retry due within this many seconds waits in the run; later: next run

_deliveries = Delivery.__table__
_newsletters = Newsletter.__table__

# The run's writes, built once: by delivery id, and only while the delivery is pending.
_still_pending = (
    _deliveries.c.id == bindparam("b_id"),
    _deliveries.c.status == DeliveryStatus.PENDING,
)
_MARK_SENT = (
    update(_deliveries)
    .where(*_still_pending)
    .values(
        status=DeliveryStatus.SENT,
        sent_at=bindparam("b_now"),
        message_id=bindparam("b_message_id"),
        attempts=bindparam("b_attempts"),
    )
)
_RETRY_LATER = (
    update(_deliveries)
    .where(*_still_pending)
    .values(
        attempts=bindparam("b_attempts"),
        next_attempt_at=bindparam("b_next"),
        smtp_code=bindparam("b_code"),
        last_error=bindparam("b_error"),
    )
)
_MARK_FAILED = (
    update(_deliveries)
    .where(*_still_pending)
    .values(
        status=DeliveryStatus.FAILED,
        attempts=bindparam("b_attempts"),
        smtp_code=bindparam("b_code"),
        last_error=bindparam("b_error"),
    )
)
# Recipients who unsubscribed or were suppressed since the freeze, among a chunk just read:
# failed with the reason, in one statement per chunk.
_lapsed = audience.lapsed()
_DROP_LAPSED = (
    update(_deliveries)
    .where(
        _deliveries.c.newsletter_id == bindparam("b_newsletter"),
        _deliveries.c.status == DeliveryStatus.PENDING,
        _deliveries.c.id.between(bindparam("b_first"), bindparam("b_last")),
        _lapsed.is_not(None),
    )
    .values(status=DeliveryStatus.FAILED, last_error=_lapsed)
    .returning(_deliveries.c.id)
)
# The heartbeat holds only while the claim does: paused, cancelled or taken over -> 0 rows.
_HEARTBEAT = (
    update(_newsletters)
    .where(
        _newsletters.c.id == bindparam("b_newsletter"),
        _newsletters.c.claim_token == bindparam("b_token"),
        _newsletters.c.status == NewsletterStatus.SENDING,
    )
    .values(heartbeat_at=bindparam("b_now"))
)


@dataclass(frozen=True)
class Outcome:
    sent: int
    failed: int
    paused: bool  # stopped because the newsletter was paused, cancelled or taken over
    pending: int = 0  # left for a later run (retries not yet due, or no SMTP connection)
    skipped: int = 0  # of `failed`: unsubscribed or suppressed after the freeze, not tried


class Recipient(NamedTuple):
    id: int
    donor_id: int | None
    email: str
    first_name: str
    language: str
    attempts: int


def _lease_cutoff(now: datetime) -> datetime:
    return now - timedelta(seconds=current_app.config["NEWSLETTER_LEASE_SECONDS"])


def grace() -> timedelta:
    """How late a scheduled newsletter may start; later, it waits for staff (`late`)."""
    return timedelta(seconds=current_app.config["NEWSLETTER_GRACE_SECONDS"])


def _claimable(now: datetime):
    """Due `scheduled` within the grace period, or `sending` with a dead sender, or released
    with a retry due. Past the grace, no caller starts it (interval job, stale date job, CLI):
    it waits for mark_late and staff, as a send hours after its time may be wrong by then."""
    retry_due = exists().where(
        Delivery.newsletter_id == Newsletter.id,
        Delivery.status == DeliveryStatus.PENDING,
        or_(Delivery.next_attempt_at.is_(None), Delivery.next_attempt_at <= now),
    )
    return or_(
        and_(
            Newsletter.status == NewsletterStatus.SCHEDULED,
            Newsletter.scheduled_at <= now,
            Newsletter.scheduled_at >= now - grace(),
        ),
        and_(
            Newsletter.status == NewsletterStatus.SENDING,
            or_(
                Newsletter.heartbeat_at < _lease_cutoff(now),
                and_(Newsletter.heartbeat_at.is_(None), retry_due),
            ),
        ),
    )


def claim(newsletter_id: int, now: datetime) -> str | None:
    """Take the newsletter for sending; returns the claim token, or None if not ours."""
    token = str(uuid4())
    claimed = db.session.execute(
        update(_newsletters)
        .where(Newsletter.id == newsletter_id, _claimable(now))
        .values(
            status=NewsletterStatus.SENDING,
            claim_token=token,
            heartbeat_at=now,
            started_at=func.coalesce(Newsletter.started_at, now),
        )
    ).rowcount
    if not claimed:
        db.session.rollback()
        return None
    newsletter = db.session.get(Newsletter, newsletter_id, populate_existing=True)
    if newsletter.recipients_total is None:
        newsletter.recipients_total = audience.freeze(newsletter)
    db.session.commit()
    return token


@dataclass(frozen=True)
class DueRun:
    newsletter_id: int
    title: str
    resumed: bool  # its audience was frozen before: a stopped, released or paused send
    outcome: Outcome


def run_due(now: datetime | None = None) -> list[DueRun]:
    """Claim and send every newsletter that is due; the ones this process ran, with their
    outcomes. Safe to run in several processes at once."""
    now = now or now_utc()
    due = db.session.execute(
        select(Newsletter.id, Newsletter.title, Newsletter.recipients_total.is_not(None))
        .where(_claimable(now))
        .order_by(Newsletter.id)
    ).all()
    db.session.commit()
    runs = []
    for newsletter_id, title, resumed in due:
        token = claim(newsletter_id, now)
        if token is not None:
            runs.append(DueRun(newsletter_id, title, resumed, run(newsletter_id, token)))
    return runs


def send_due(now: datetime | None = None) -> int:
    """`run_due`, as the scheduler calls it; returns how many messages went out."""
    return sum(due.outcome.sent for due in run_due(now))


def run(newsletter_id: int, token: str) -> Outcome:
    """Send the newsletter's pending deliveries while the claim `token` holds."""
    with current_app.test_request_context("/", base_url=current_app.config["BASE_URL"]):
        return _Run(newsletter_id, token).send()


class _Run:
    def __init__(self, newsletter_id: int, token: str):
        config = current_app.config
        self.newsletter_id = newsletter_id
        self.token = token
        self.connections = max(1, config["NEWSLETTER_SMTP_CONNECTIONS"])
        self.batch = max(1, config["NEWSLETTER_BATCH"])
        # Handed out and not yet committed: the bound on duplicates after a crash.
        self.window = self.connections * self.batch
        self.max_attempts = config["NEWSLETTER_MAX_ATTEMPTS"]
        self.retry_seconds = config["NEWSLETTER_RETRY_SECONDS"]
        self.per_minute = config["NEWSLETTER_RATE_PER_MINUTE"]
        self.rows: deque[Recipient] = deque()
        self.last_id = 0
        self.exhausted = False
        self.retries: list[tuple[float, int, Recipient]] = []  # (monotonic due, id, recipient)
        self.in_flight = 0  # submitted, not reported
        self.unrecorded = 0  # reported, not committed
        self.sent_rows: list[dict] = []
        self.retry_rows: list[dict] = []
        self.failed_rows: list[dict] = []
        self.bounced: list[str] = []
        self.sent = self.failed = self.skipped = 0
        self.stopped = False
        self.paused = False
        self.last_flush = time.monotonic()

    # --- the loop -----------------------------------------------------------------------

    def send(self) -> Outcome:
        newsletter = db.session.get(Newsletter, self.newsletter_id)
        if (
            newsletter is None
            or newsletter.status != NewsletterStatus.SENDING
            or newsletter.claim_token != self.token
        ):
            db.session.rollback()
            return Outcome(0, 0, paused=True)
        self.prepared = compose.prepare(newsletter)
        db.session.commit()
        # One connection for the whole run: no pool checkout (and pre-ping) per batch.
        with db.engine.connect() as self.connection:
            self._send_all()
        return self._finish()

    def _send_all(self) -> None:
        if self._next_recipient(peek=True) is None:
            return
        pool = Pool(
            current_app._get_current_object(),
            self._job,
            self._channel_factory(),
            self.connections,
            self.per_minute,
        )
        with pool:
            while not self.stopped:
                if pool.alive and self.in_flight + self.unrecorded < self.window:
                    recipient = self._next_recipient()
                    if recipient is not None:
                        pool.submit(recipient)
                        self.in_flight += 1
                        continue
                    if not self.in_flight and not self.retries:
                        break
                reports = pool.collect(timeout=0.05)
                for report in reports:
                    self._record(report)
                if self._flush_due():
                    self._flush()
                if pool.alive == 0 and not reports:
                    self.stopped = True
            self.in_flight -= pool.withdraw_queued()
            while self.in_flight:  # the threads finish the message in hand
                reports = pool.collect(timeout=0.5)
                for report in reports:
                    self._record(report)
                if not reports and pool.alive == 0:
                    break
            errors = pool.errors
        self._flush()
        if errors:
            current_app.logger.warning(
                "newsletter %s: SMTP unusable, stopped: %s", self.newsletter_id, errors[-1]
            )

    def _channel_factory(self):
        url = current_app.config["SMTP_URL"]
        if not url:
            return OutboxChannel
        settings = SmtpSettings.from_url(url)
        return lambda: SmtpChannel(settings)

    def _job(self, recipient: Recipient) -> Job:
        """Run in the sending threads: composing touches no database."""
        rendered = self.prepared.render(recipient)
        return Job(
            to=recipient.email,
            envelope_from=self.prepared.envelope_from(recipient),
            message_id=rendered.message_id,
            data=rendered.data,
        )

    def _next_recipient(self, peek: bool = False) -> Recipient | None:
        if self.retries and self.retries[0][0] <= time.monotonic():
            return self.retries[0][2] if peek else heapq.heappop(self.retries)[2]
        while not self.rows and not self.exhausted:  # a chunk may be all lapsed
            self._read_chunk()
        if not self.rows:
            return None
        return self.rows[0] if peek else self.rows.popleft()

    def _read_chunk(self) -> None:
        """The next pending deliveries by id (keyset), due now: memory stays flat. Those
        whose donor unsubscribed or address was suppressed since the freeze are failed."""
        result = self.connection.execute(
            select(
                Delivery.id,
                Delivery.donor_id,
                Delivery.email,
                Delivery.first_name,
                Delivery.language,
                Delivery.attempts,
            )
            .where(
                Delivery.newsletter_id == self.newsletter_id,
                Delivery.status == DeliveryStatus.PENDING,
                Delivery.id > self.last_id,
                or_(Delivery.next_attempt_at.is_(None), Delivery.next_attempt_at <= now_utc()),
            )
            .order_by(Delivery.id)
            .limit(CHUNK)
        )
        rows = [Recipient._make(row) for row in result]
        if not rows:
            self.connection.commit()
            self.exhausted = True
            return
        lapsed = set(
            self.connection.scalars(
                _DROP_LAPSED,
                {"b_newsletter": self.newsletter_id, "b_first": rows[0].id, "b_last": rows[-1].id},
            )
        )
        self.connection.commit()
        self.skipped += len(lapsed)
        self.failed += len(lapsed)
        self.rows.extend(row for row in rows if row.id not in lapsed)
        self.last_id = rows[-1].id

    # --- recording ----------------------------------------------------------------------

    def _record(self, report: Report) -> None:
        self.in_flight -= 1
        self.unrecorded += 1
        recipient = report.recipient
        error = report.error[:1000]
        if report.result is Result.SENT:
            self.sent += 1
            self.sent_rows.append(
                {
                    "b_id": recipient.id,
                    "b_attempts": recipient.attempts + 1,
                    "b_message_id": report.message_id,
                }
            )
        elif report.result is Result.UNDELIVERED:
            # Not tried: again at once on another connection, else by a later run.
            heapq.heappush(self.retries, (time.monotonic(), recipient.id, recipient))
        elif report.result is Result.SOFT and recipient.attempts + 1 < self.max_attempts:
            attempts = recipient.attempts + 1
            delay = self.retry_seconds * 2 ** (attempts - 1)
            self.retry_rows.append(
                {
                    "b_id": recipient.id,
                    "b_attempts": attempts,
                    "b_next": now_utc() + timedelta(seconds=delay),
                    "b_code": report.code,
                    "b_error": error,
                }
            )
            if delay <= WAIT_IN_RUN:
                due = time.monotonic() + delay
                heapq.heappush(
                    self.retries, (due, recipient.id, recipient._replace(attempts=attempts))
                )
        else:  # 5xx, or 4xx out of attempts
            self.failed += 1
            self.failed_rows.append(
                {
                    "b_id": recipient.id,
                    "b_attempts": recipient.attempts + 1,
                    "b_code": report.code,
                    "b_error": error,
                }
            )
            if report.result is Result.HARD:
                self.bounced.append(recipient.email)

    def _flush_due(self) -> bool:
        return self.unrecorded >= self.batch or time.monotonic() - self.last_flush >= FLUSH_SECONDS

    def _flush(self) -> None:
        """Commit the reports with the heartbeat; a lost claim stops the run."""
        now = now_utc()
        connection = self.connection
        # Retries first: a recipient retried and then sent in one batch ends up sent.
        for statement, rows in (
            (_RETRY_LATER, self.retry_rows),
            (_MARK_SENT, self.sent_rows),
            (_MARK_FAILED, self.failed_rows),
        ):
            if rows:
                connection.execute(statement, [{**row, "b_now": now} for row in rows])
        if self.bounced:
            suppress_hard_bounces(connection, self.bounced, now)
        held = connection.execute(
            _HEARTBEAT, {"b_newsletter": self.newsletter_id, "b_token": self.token, "b_now": now}
        ).rowcount
        connection.commit()
        self.sent_rows, self.retry_rows, self.failed_rows, self.bounced = [], [], [], []
        self.unrecorded = 0
        self.last_flush = time.monotonic()
        if not held:
            self.stopped = self.paused = True

    def _held(self):
        return (
            Newsletter.id == self.newsletter_id,
            Newsletter.claim_token == self.token,
            Newsletter.status == NewsletterStatus.SENDING,
        )

    def _finish(self) -> Outcome:
        """Sent when nothing is pending; else release the claim for a later run."""
        if self.paused:
            return Outcome(self.sent, self.failed, paused=True, skipped=self.skipped)
        left = db.session.scalar(
            select(func.count()).where(
                Delivery.newsletter_id == self.newsletter_id,
                Delivery.status == DeliveryStatus.PENDING,
            )
        )
        now = now_utc()
        values = (
            {"status": NewsletterStatus.SENT, "finished_at": now, "heartbeat_at": now}
            if not left
            else {"heartbeat_at": None}
        )
        held = db.session.execute(update(_newsletters).where(*self._held()).values(values))
        db.session.commit()
        return Outcome(
            self.sent, self.failed, paused=not held.rowcount, pending=left, skipped=self.skipped
        )


def suppress_hard_bounces(connection: Connection, emails: list[str], now: datetime) -> None:
    """Suppress addresses a server refused for good; an existing suppression stays as it is."""
    connection.execute(
        upsert_insert(Suppression.__table__).on_conflict_do_nothing(index_elements=["email_hash"]),
        [
            {
                "email_hash": email_hash(normalise_email(email)),
                "reason": SuppressionReason.HARD_BOUNCE,
                "created_at": now,
            }
            for email in emails
        ],
    )

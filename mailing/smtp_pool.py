"""Parallel senders for newsletters: N threads, each holding one reused SMTP connection (or
writing to the outbox), fed recipients from one queue and paced by one shared rate limit.

Each thread builds its recipients' messages itself (in an app context of its own): with the
building in the thread that reads the rows, that thread held the GIL for the composing and
the sending threads queued behind it. No database here: the threads only build, send and
report; mailing.sending records the reports from its own thread, so no SQLAlchemy session is
ever shared between threads.
"""

import enum
import queue
import smtplib
import threading
import time
from dataclasses import dataclass
from typing import Any

from flask import Flask

from mailing.transport import SmtpSettings, connect, write_bytes_to_outbox

# A dropped connection is reopened this many times for one message before the thread gives up.
RECONNECTS = 2
LINGER = 0.005


class Result(enum.StrEnum):
    SENT = "sent"
    SOFT = "soft"  # 4xx: try again later
    HARD = "hard"  # 5xx refusing the recipient: the address is dead
    REFUSED = "refused"  # 5xx refusing this message (content, policy): the address stays
    UNDELIVERED = "undelivered"  # not sent (no connection, no message): the thread stopped


@dataclass(slots=True)
class Job:
    to: str
    envelope_from: str
    message_id: str
    data: bytes  # the whole message as the server receives it


@dataclass(slots=True)
class Report:
    recipient: Any  # as submitted
    result: Result
    code: int | None = None
    error: str = ""
    message_id: str = ""


class RateLimiter:
    """At most `per_minute` sends across all threads, evenly spaced (0: no limit)."""

    def __init__(self, per_minute: int):
        self.interval = 60 / per_minute if per_minute > 0 else 0.0
        self.next_slot = time.monotonic()
        self.lock = threading.Lock()

    def wait(self) -> None:
        if not self.interval:
            return
        with self.lock:
            now = time.monotonic()
            slot = max(now, self.next_slot)
            self.next_slot = slot + self.interval
        if slot > now:
            time.sleep(slot - now)


class SmtpChannel:
    def __init__(self, settings: SmtpSettings):
        self.settings = settings
        self.smtp: smtplib.SMTP | None = None

    def open(self) -> None:
        self.smtp = connect(self.settings)

    def reopen(self) -> None:
        self.close()
        self.open()

    def send(self, job: Job) -> None:
        self.smtp.sendmail(job.envelope_from, [job.to], job.data)

    def close(self) -> None:
        if self.smtp is None:
            return
        try:
            self.smtp.quit()
        except OSError:  # already gone: nothing to say goodbye to
            self.smtp.close()
        self.smtp = None


class OutboxChannel:
    """The outbox transport (no SMTP_URL): the same messages, as files."""

    def open(self) -> None:
        pass

    def reopen(self) -> None:
        pass

    def send(self, job: Job) -> None:
        write_bytes_to_outbox(job.data)

    def close(self) -> None:
        pass


def _refusal(code: int, text: bytes | str, recipient: bool) -> tuple[Result, int, str]:
    error = text.decode(errors="replace") if isinstance(text, bytes) else str(text)
    if 500 <= code < 600:
        return Result.HARD if recipient else Result.REFUSED, code, error
    return Result.SOFT, code, error


def deliver(channel, job: Job) -> tuple[Result, int | None, str]:
    """Send one message on the channel, reconnecting if the connection dropped; returns the
    result, the SMTP code and the server's text."""
    error: OSError | None = None
    for _ in range(RECONNECTS + 1):
        try:
            channel.send(job)
        except smtplib.SMTPRecipientsRefused as exc:
            code, text = next(iter(exc.recipients.values()))
            return _refusal(code, text, recipient=True)
        except smtplib.SMTPSenderRefused as exc:
            if 400 <= exc.smtp_code < 500:
                return _refusal(exc.smtp_code, exc.smtp_error, recipient=False)
            # Our own address refused: every message would be, so stop rather than fail them.
            return Result.UNDELIVERED, exc.smtp_code, str(exc)
        except smtplib.SMTPResponseException as exc:
            return _refusal(exc.smtp_code, exc.smtp_error, recipient=False)
        except OSError as exc:  # dropped connection, timeout (SMTPServerDisconnected too)
            error = exc
            try:
                channel.reopen()
            except OSError as reconnect_error:
                error = reconnect_error
                break
        else:
            return Result.SENT, None, ""
    return Result.UNDELIVERED, None, str(error)


class Pool:
    """`connections` threads sending to the submitted recipients: `build(recipient)` makes
    the Job, in the thread, within an app context of `app`; reports come back in `reports`.

    A thread stops when it cannot send (its last report is UNDELIVERED); `alive` counts the
    threads still working, so the caller knows when nothing will take queued jobs any more.
    """

    def __init__(self, app: Flask, build, make_channel, connections: int, per_minute: int):
        self.app = app
        self.build = build
        self.make_channel = make_channel
        self.jobs: queue.SimpleQueue = queue.SimpleQueue()
        self.reports: queue.SimpleQueue[Report] = queue.SimpleQueue()
        self.limiter = RateLimiter(per_minute)
        self.threads = [
            threading.Thread(target=self._work, name=f"newsletter-smtp-{n}", daemon=True)
            for n in range(max(1, connections))
        ]
        self.alive = len(self.threads)
        self.errors: list[str] = []
        self.lock = threading.Lock()

    def __enter__(self) -> "Pool":
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        for _ in self.threads:
            self.jobs.put(None)
        for thread in self.threads:
            thread.join()

    def submit(self, recipient) -> None:
        self.jobs.put(recipient)

    def collect(self, timeout: float) -> list[Report]:
        """The reports in, waiting up to `timeout` for the first.

        Then it lingers a moment so reports pile up: the caller wakes once per handful, not
        once per message (each wake takes the GIL from the sending threads).
        """
        try:
            reports = [self.reports.get(timeout=timeout)]
        except queue.Empty:
            return []
        time.sleep(LINGER)
        while True:
            try:
                reports.append(self.reports.get_nowait())
            except queue.Empty:
                return reports

    def withdraw_queued(self) -> int:
        """Take back the jobs no thread has started; returns how many."""
        taken = 0
        while True:
            try:
                recipient = self.jobs.get_nowait()
            except queue.Empty:
                return taken
            if recipient is None:  # a stop signal: leave it for its thread
                self.jobs.put(None)
                return taken
            taken += 1

    def _work(self) -> None:
        with self.app.app_context():
            channel = self.make_channel()
            try:
                channel.open()
            except OSError as exc:  # smtplib's errors are OSErrors too
                self._stopped(str(exc))
                return
            try:
                while (recipient := self.jobs.get()) is not None:
                    report = self._send(channel, recipient)
                    self.reports.put(report)
                    if report.result is Result.UNDELIVERED:
                        self._stopped(report.error)
                        return
            finally:
                channel.close()
        with self.lock:
            self.alive -= 1

    def _send(self, channel, recipient) -> Report:
        try:
            job = self.build(recipient)
        except Exception as exc:  # a bug in composing: stop sending rather than fail everyone
            return Report(recipient, Result.UNDELIVERED, None, f"composing failed: {exc!r}")
        self.limiter.wait()
        result, code, error = deliver(channel, job)
        return Report(recipient, result, code, error, job.message_id)

    def _stopped(self, error: str) -> None:
        with self.lock:
            self.alive -= 1
            self.errors.append(error)

"""Sending newsletters to a real SMTP server (aiosmtpd) that can refuse chosen addresses."""

import re
import time
from datetime import timedelta
from email import message_from_bytes
from email import policy as email_policy

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select, update

from donors import consent
from donors.models import Donor, Suppression, email_hash
from legami.extensions import db
from legami.timeutil import now_utc
from mailing import audience, compose, report, scheduling, sending
from mailing.models import (
    Delivery,
    Newsletter,
    NewsletterStatus,
    NewsletterVersion,
)
from tests import factories
from tests.conftest import free_port


class ScriptedSmtp:
    """An SMTP server that keeps what it accepts, counts its sessions, and answers RCPT for
    chosen addresses from a script (`refuse[address] = ["451 …", …]`, one answer per try);
    `drop` addresses lose the connection at their first DATA."""

    def __init__(self):
        self.messages = []
        self.envelopes = []
        self.arrivals = []
        self.sessions = set()
        self.rcpt_tries: dict[str, int] = {}
        self.refuse: dict[str, list[str]] = {}
        self.drop: set[str] = set()
        self.on_message = None
        server = self

        class Handler:
            async def handle_EHLO(self, smtp, session, envelope, hostname, responses):
                session.host_name = hostname
                server.sessions.add(session.peer)
                return responses

            async def handle_RCPT(self, smtp, session, envelope, address, rcpt_options):
                server.rcpt_tries[address] = server.rcpt_tries.get(address, 0) + 1
                script = server.refuse.get(address)
                if script:
                    return script.pop(0)
                envelope.rcpt_tos.append(address)
                return "250 OK"

            async def handle_DATA(self, smtp, session, envelope):
                if set(envelope.rcpt_tos) & server.drop:
                    server.drop -= set(envelope.rcpt_tos)
                    smtp.transport.close()
                    return "421 gone"
                server.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
                server.arrivals.append(time.monotonic())
                server.messages.append(
                    message_from_bytes(envelope.content, policy=email_policy.default)
                )
                if server.on_message is not None:
                    server.on_message(len(server.messages))
                return "250 OK"

        self.port = free_port()
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)
        self.controller.start()
        self.url = f"smtp://127.0.0.1:{self.port}"

    def received(self) -> list[str]:
        return [to for _, tos in self.envelopes for to in tos]


@pytest.fixture
def smtp(app):
    server = ScriptedSmtp()
    app.config.update(
        SMTP_URL=server.url,
        NEWSLETTER_SMTP_CONNECTIONS=2,
        NEWSLETTER_BATCH=5,
        NEWSLETTER_RETRY_SECONDS=0.2,
    )
    yield server
    server.controller.stop()


def scheduled_newsletter(**overrides) -> Newsletter:
    """A newsletter due now, with an Italian and an English version."""
    data = {
        "organisation": factories.organisation(),
        "title": "Notizie di primavera",
        "from_name": "Legami Cremona",
        "from_email": "notizie@legami.example",
        "status": NewsletterStatus.SCHEDULED,
        "scheduled_at": now_utc() - timedelta(minutes=1),
        **overrides,
    }
    row = Newsletter(**data)
    row.versions = [
        NewsletterVersion(
            language="it",
            subject="Ciao {{ first_name }}, notizie dall'orto",
            body="Cara/o {{ first_name }}, **grazie**: l'orto è seminato.",
        ),
        NewsletterVersion(
            language="en",
            subject="Hello {{ first_name }}, news from the garden",
            body="Dear {{ first_name }}, **thank you**: the garden is sown.",
        ),
    ]
    db.session.add(row)
    db.session.commit()
    return row


def subscribers(count: int, prefix: str = "r") -> list[str]:
    emails = [f"{prefix}{n:03d}@example.org" for n in range(count)]
    for email in emails:
        factories.donor(email=email, first_name="Pat", newsletter_consent=True)
    return emails


def deliveries(newsletter: Newsletter) -> dict[str, Delivery]:
    db.session.expire_all()
    rows = db.session.scalars(select(Delivery).where(Delivery.newsletter_id == newsletter.id))
    return {row.email: row for row in rows}


def test_consenting_donors_get_personalised_mail_in_their_language_with_list_headers(app, smtp):
    factories.donor(email="anna@example.org", first_name="Anna", language="en", **_subscribed())
    factories.donor(email="bruno@example.org", first_name="Bruno", language="it", **_subscribed())
    factories.donor(email="carla@example.org", first_name="Carla", newsletter_consent=False)
    gone = factories.donor(email="dario@example.org", first_name="Dario", **_subscribed())
    consent.unsubscribe(gone, "newsletter", ip="")
    gone.newsletter_consent = True  # consent back on by mistake: the suppression still holds
    db.session.commit()
    newsletter = scheduled_newsletter(reply_to="risposte@legami.example")

    assert sending.send_due() == 2

    by_to = {message["To"]: message for message in smtp.messages}
    assert sorted(by_to) == ["anna@example.org", "bruno@example.org"]
    anna, bruno = by_to["anna@example.org"], by_to["bruno@example.org"]
    assert anna["Subject"] == "Hello Anna, news from the garden"
    assert bruno["Subject"] == "Ciao Bruno, notizie dall'orto"
    rows = deliveries(newsletter)
    for message in (anna, bruno):
        assert message["From"] == "Legami Cremona <notizie@legami.example>"
        assert message["Reply-To"] == "risposte@legami.example"
        assert message.get_content_type() == "multipart/alternative"
        parts = {part.get_content_type(): part.get_content() for part in message.iter_parts()}
        assert set(parts) == {"text/plain", "text/html"}
        delivery = rows[message["To"]]
        assert message["Message-ID"] == delivery.message_id
        assert compose.delivery_from_message_id(message["Message-ID"]) == delivery.id
        one_click, mailto = re.findall(r"<([^>]+)>", message["List-Unsubscribe"])
        assert one_click.startswith("http://localhost/") and mailto.startswith("mailto:")
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "Dear Anna" in _text(anna) and "Cara/o Bruno" in _text(bruno)
    assert {row.status for row in rows.values()} == {"sent"}
    db.session.refresh(newsletter)
    assert newsletter.status == NewsletterStatus.SENT
    assert newsletter.recipients_total == 2
    assert newsletter.finished_at is not None
    assert sending.send_due() == 0  # nothing is due any more


def _subscribed() -> dict:
    return {"newsletter_consent": True}


def _text(message) -> str:
    return " ".join(message.get_body(("plain",)).get_content().split())


def test_a_temporary_refusal_is_retried_after_a_backoff_then_sent(app, smtp):
    subscribers(3)
    smtp.refuse["r001@example.org"] = ["451 4.7.1 Greylisted, try again", "421 4.3.2 Busy"]
    newsletter = scheduled_newsletter()

    outcome = sending.run(newsletter.id, sending.claim(newsletter.id, now_utc()))

    assert (outcome.sent, outcome.failed, outcome.pending) == (3, 0, 0)
    assert smtp.rcpt_tries["r001@example.org"] == 3
    assert sorted(smtp.received()) == [f"r00{n}@example.org" for n in range(3)]
    row = deliveries(newsletter)["r001@example.org"]
    assert (row.status, row.attempts, row.smtp_code) == ("sent", 3, 421)
    assert "Busy" in row.last_error


def test_a_long_backoff_leaves_the_delivery_for_a_later_run(app, smtp):
    subscribers(2)
    app.config["NEWSLETTER_RETRY_SECONDS"] = 600
    smtp.refuse["r000@example.org"] = ["452 4.2.2 Mailbox full"]
    newsletter = scheduled_newsletter()

    outcome = sending.run(newsletter.id, sending.claim(newsletter.id, now_utc()))

    assert (outcome.sent, outcome.pending, outcome.paused) == (1, 1, False)
    row = deliveries(newsletter)["r000@example.org"]
    assert (row.status, row.attempts, row.smtp_code) == ("pending", 1, 452)
    assert row.next_attempt_at > now_utc() + timedelta(seconds=500)
    db.session.refresh(newsletter)
    assert newsletter.status == NewsletterStatus.SENDING  # released, not finished
    assert sending.send_due() == 0  # the retry is not due yet
    db.session.execute(
        update(Delivery).where(Delivery.id == row.id).values(next_attempt_at=now_utc())
    )
    db.session.commit()

    assert sending.send_due() == 1
    assert sorted(smtp.received()) == ["r000@example.org", "r001@example.org"]
    db.session.refresh(newsletter)
    assert newsletter.status == NewsletterStatus.SENT


def test_a_permanent_refusal_fails_the_delivery_and_suppresses_the_address(app, smtp):
    subscribers(3)
    smtp.refuse["r002@example.org"] = ["550 5.1.1 No such user"]
    newsletter = scheduled_newsletter()

    outcome = sending.run(newsletter.id, sending.claim(newsletter.id, now_utc()))

    assert (outcome.sent, outcome.failed) == (2, 1)
    row = deliveries(newsletter)["r002@example.org"]
    assert (row.status, row.smtp_code) == ("failed", 550)
    assert "No such user" in row.last_error
    assert db.session.scalar(select(Suppression.reason)) == "hard_bounce"
    assert consent.is_suppressed("R002@example.org")
    later = scheduled_newsletter(title="Notizie d'estate")
    assert audience.count(later) == 2
    smtp.envelopes.clear()
    assert sending.send_due() == 2
    assert "r002@example.org" not in smtp.received()


def test_connections_are_reused_and_a_dropped_one_is_reopened(app, smtp):
    emails = subscribers(30)
    app.config["NEWSLETTER_SMTP_CONNECTIONS"] = 3
    newsletter = scheduled_newsletter()

    outcome = sending.run(newsletter.id, sending.claim(newsletter.id, now_utc()))
    assert outcome.sent == 30
    assert len(smtp.sessions) == 3
    assert sorted(smtp.received()) == emails

    smtp.sessions.clear()
    smtp.envelopes.clear()
    smtp.drop.add("s004@example.org")
    subscribers(10, prefix="s")
    second = scheduled_newsletter(title="Seconda")
    outcome = sending.run(second.id, sending.claim(second.id, now_utc()))
    assert outcome.sent == 40
    assert len(smtp.sessions) == 4  # the dropped connection was opened again, once
    assert sorted(smtp.received()) == sorted(emails + [f"s{n:03d}@example.org" for n in range(10)])
    assert deliveries(second)["s004@example.org"].status == "sent"


def test_the_rate_limit_spaces_the_messages(app, smtp):
    subscribers(11)
    app.config.update(NEWSLETTER_RATE_PER_MINUTE=600, NEWSLETTER_SMTP_CONNECTIONS=3)
    newsletter = scheduled_newsletter()

    outcome = sending.run(newsletter.id, sending.claim(newsletter.id, now_utc()))

    assert outcome.sent == 11
    # 600 a minute: one every 0.1 s, whatever the number of connections.
    assert smtp.arrivals[-1] - smtp.arrivals[0] >= 0.95
    gaps = [b - a for a, b in zip(smtp.arrivals, smtp.arrivals[1:], strict=False)]
    assert min(gaps) > 0.05


def test_a_pause_stops_the_send_and_resuming_skips_what_went_out(app, smtp):
    emails = subscribers(40)
    app.config["NEWSLETTER_RATE_PER_MINUTE"] = 1200  # slow enough to pause half-way
    newsletter = scheduled_newsletter()
    engine, newsletter_id = db.engine, newsletter.id

    def pause_at_ten(count):
        if count == 10:  # staff press pause, from another connection
            with engine.begin() as connection:
                connection.execute(
                    update(Newsletter)
                    .where(Newsletter.id == newsletter_id)
                    .values(status=NewsletterStatus.PAUSED)
                )

    smtp.on_message = pause_at_ten
    outcome = sending.run(newsletter.id, sending.claim(newsletter.id, now_utc()))

    assert outcome.paused
    first = smtp.received()
    assert 10 <= len(first) < 30
    rows = deliveries(newsletter)
    # Everything that went out is recorded, so resuming cannot send it again.
    assert sorted(email for email, row in rows.items() if row.status == "sent") == sorted(first)
    assert sending.send_due() == 0  # paused waits for staff

    smtp.on_message = None
    db.session.execute(
        update(Newsletter)
        .where(Newsletter.id == newsletter.id)
        .values(status=NewsletterStatus.SCHEDULED, scheduled_at=now_utc())
    )
    db.session.commit()
    assert sending.send_due() == 40 - len(first)
    assert sorted(smtp.received()) == emails
    assert {row.status for row in deliveries(newsletter).values()} == {"sent"}


def _lapse(withdrawn: str, suppressed: str) -> None:
    """One donor withdraws consent (staff record it), another's address is suppressed."""
    donor = db.session.scalar(select(Donor).where(Donor.email == withdrawn))
    consent.withdraw(donor, "staff")
    db.session.add(Suppression(email_hash=email_hash(suppressed), reason="complaint"))
    db.session.commit()


def _assert_lapsed(newsletter: Newsletter, withdrawn: str, suppressed: str) -> None:
    rows = deliveries(newsletter)
    for email, reason in ((withdrawn, audience.UNSUBSCRIBED), (suppressed, audience.SUPPRESSED)):
        row = rows[email]
        assert (row.status, row.last_error, row.attempts, row.sent_at) == (
            "failed",
            reason,
            0,
            None,
        )
    others = {row.status for email, row in rows.items() if email not in (withdrawn, suppressed)}
    assert others == {"sent"}
    db.session.refresh(newsletter)
    assert newsletter.status == NewsletterStatus.SENT
    assert sorted(report.report(newsletter).failures) == [
        (audience.SUPPRESSED, 1),
        (audience.UNSUBSCRIBED, 1),
    ]


def test_who_unsubscribes_or_is_suppressed_after_the_freeze_is_not_sent(app, smtp, monkeypatch):
    emails = subscribers(6)
    monkeypatch.setattr(sending, "CHUNK", 2)  # r002 and r003 make a chunk of their own
    newsletter = scheduled_newsletter()
    token = sending.claim(newsletter.id, now_utc())
    assert len(deliveries(newsletter)) == 6  # frozen with both of them
    _lapse(withdrawn="r002@example.org", suppressed="r003@example.org")

    outcome = sending.run(newsletter.id, token)

    assert (outcome.sent, outcome.failed, outcome.skipped, outcome.pending) == (4, 2, 2, 0)
    assert sorted(smtp.received()) == [e for e in emails if e[:4] not in ("r002", "r003")]
    _assert_lapsed(newsletter, "r002@example.org", "r003@example.org")


def test_who_unsubscribes_while_a_send_is_paused_is_not_sent_on_resuming(app, smtp):
    emails = subscribers(12)
    app.config["NEWSLETTER_RATE_PER_MINUTE"] = 600
    newsletter = scheduled_newsletter()
    engine, newsletter_id = db.engine, newsletter.id

    def pause_at_two(count):
        if count == 2:
            with engine.begin() as connection:
                connection.execute(
                    update(Newsletter)
                    .where(Newsletter.id == newsletter_id)
                    .values(status=NewsletterStatus.PAUSED)
                )

    smtp.on_message = pause_at_two
    assert sending.run(newsletter.id, sending.claim(newsletter.id, now_utc())).paused
    smtp.on_message = None
    first = smtp.received()
    waiting = sorted(
        email for email, row in deliveries(newsletter).items() if row.status == "pending"
    )
    assert len(waiting) >= 2 and not set(waiting) & set(first)
    _lapse(withdrawn=waiting[0], suppressed=waiting[-1])
    db.session.execute(
        update(Newsletter)
        .where(Newsletter.id == newsletter.id)
        .values(status=NewsletterStatus.SCHEDULED, scheduled_at=now_utc())
    )
    db.session.commit()

    assert sending.send_due() == len(waiting) - 2

    received = smtp.received()
    assert sorted(received) == sorted(set(emails) - {waiting[0], waiting[-1]})  # each once
    _assert_lapsed(newsletter, waiting[0], waiting[-1])


def test_one_claim_wins_and_a_silent_sender_is_taken_over(app, smtp):
    subscribers(2)
    newsletter = scheduled_newsletter()
    now = now_utc()
    first = sending.claim(newsletter.id, now)
    assert first is not None
    assert sending.claim(newsletter.id, now) is None
    assert sending.claim(newsletter.id, now + timedelta(seconds=60)) is None  # lease holds
    later = now + timedelta(seconds=app.config["NEWSLETTER_LEASE_SECONDS"] + 1)
    second = sending.claim(newsletter.id, later)
    assert second not in (None, first)
    assert len(deliveries(newsletter)) == 2  # frozen once

    assert sending.run(newsletter.id, first) == sending.Outcome(0, 0, paused=True)
    assert sending.run(newsletter.id, second).sent == 2
    assert sorted(smtp.received()) == ["r000@example.org", "r001@example.org"]


def _statuses(*rows: Newsletter) -> list[str]:
    db.session.expire_all()
    return [row.status for row in rows]


def test_send_due_leaves_a_newsletter_past_the_grace_period_to_staff(app, smtp):
    emails = subscribers(2)
    long_ago = now_utc() - 2 * sending.grace()
    overdue = scheduled_newsletter(scheduled_at=long_ago)  # and no sync job ran

    assert sending.send_due() == 0

    assert smtp.received() == []
    assert _statuses(overdue) == ["scheduled"]
    assert overdue.recipients_total is None  # not claimed: no audience frozen
    # A send that started in time and whose sender died is resumed, however old its time.
    stalled = scheduled_newsletter(title="Interrotta", scheduled_at=long_ago)
    assert sending.claim(stalled.id, long_ago) is not None  # its heartbeat is as old
    assert sending.send_due() == 2
    assert sorted(smtp.received()) == emails
    assert _statuses(overdue, stalled) == ["scheduled", "sent"]
    # The sync job (or `legami mailing send-due`) then shows it to staff as late.
    assert scheduling.mark_late() == [overdue.id]
    assert _statuses(overdue) == ["late"]


def test_the_send_due_command_sends_resumes_and_marks_late(app, smtp_server):
    emails = subscribers(3)
    due = scheduled_newsletter(title="Dovuta")
    long_ago = now_utc() - 2 * sending.grace()
    stalled = scheduled_newsletter(title="Interrotta", scheduled_at=long_ago)
    sending.claim(stalled.id, long_ago)
    overdue = scheduled_newsletter(title="Dimenticata", scheduled_at=long_ago)
    consent.withdraw(db.session.scalar(select(Donor).where(Donor.email == emails[0])), "staff")
    db.session.commit()

    result = app.test_cli_runner().invoke(args=["mailing", "send-due"])

    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        f"Newsletter {due.id} (Dovuta) started: 2 sent, 0 failed "
        "(0 unsubscribed or suppressed meanwhile), 0 left for a later run.",
        f"Newsletter {stalled.id} (Interrotta) resumed: 2 sent, 1 failed "
        "(1 unsubscribed or suppressed meanwhile), 0 left for a later run.",
        "Newsletters: 1 started, 1 resumed, 1 past the grace period marked late.",
    ]
    received = [to for _, tos in smtp_server.envelopes for to in tos]
    assert sorted(received) == sorted(emails[1:] * 2)
    assert _statuses(due, stalled, overdue) == ["sent", "sent", "late"]
    again = app.test_cli_runner().invoke(args=["mailing", "send-due"])
    assert again.exit_code == 0
    assert (
        again.output == "Newsletters: 0 started, 0 resumed, 0 past the grace period marked late.\n"
    )


def test_without_smtp_url_the_outbox_gets_the_same_messages(app, tmp_path):
    app.config.update(SMTP_URL="", OUTBOX_FOLDER=str(tmp_path / "outbox"))
    emails = subscribers(3)
    newsletter = scheduled_newsletter()

    assert sending.send_due() == 3

    files = sorted((tmp_path / "outbox").glob("*.eml"))
    messages = [message_from_bytes(f.read_bytes(), policy=email_policy.default) for f in files]
    assert sorted(message["To"] for message in messages) == emails
    rows = deliveries(newsletter)
    for message in messages:
        assert message["Message-ID"] == rows[message["To"]].message_id
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert message["Subject"] == "Ciao Pat, notizie dall'orto"
        assert message.get_content_type() == "multipart/alternative"

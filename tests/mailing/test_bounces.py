"""`legami mailing process-bounces` on a real Maildir of DSN samples (tests/mailing/data)."""

import mailbox
import shlex
import socketserver
import threading
from pathlib import Path

import pytest
from sqlalchemy import select

from donors import consent
from donors.models import Donor, Suppression, email_hash
from legami.extensions import db
from legami.timeutil import now_utc
from mailing import compose
from mailing.models import Delivery, Newsletter
from tests import factories

DATA = Path(__file__).parent / "data" / "bounces"


@pytest.fixture
def deliveries(app):
    """One sent delivery per sample, keyed by the sample's name."""
    app.config["NEWSLETTER_BOUNCE_ADDRESS"] = "bounces@legami.example"
    newsletter = Newsletter(organisation=factories.organisation(), title="Notizie", status="sent")
    db.session.add(newsletter)
    db.session.flush()
    rows = {}
    for name in ("hard_verp", "hard_message_id", "soft_delayed", "forged_recipient", "unsub"):
        donor = factories.donor(email=f"{name}@example.org", newsletter_consent=True)
        rows[name] = Delivery(
            newsletter_id=newsletter.id,
            donor_id=donor.id,
            email=donor.email,
            status="sent",
            sent_at=now_utc(),
        )
        db.session.add(rows[name])
    db.session.commit()
    return rows


def _fill(sample: str, delivery: Delivery) -> bytes:
    text = (DATA / f"{sample}.eml").read_text()
    values = {
        "{verp}": f"bounces+{delivery.id}@legami.example",
        "{email}": delivery.email,
        "{message_id}": compose.message_id(delivery.newsletter_id, delivery.id),
        "{token}": consent.unsubscribe_token_for(delivery.donor_id, "newsletter"),
    }
    for key, value in values.items():
        text = text.replace(key, value)
    return text.encode()


@pytest.fixture
def maildir(tmp_path, deliveries):
    path = tmp_path / "Maildir"
    box = mailbox.Maildir(path, create=True)
    for sample, delivery in (
        ("hard_verp", "hard_verp"),
        ("hard_message_id", "hard_message_id"),
        ("soft_delayed", "soft_delayed"),
        ("forged_recipient", "forged_recipient"),
        ("unsubscribe", "unsub"),
        ("out_of_office", "unsub"),
    ):
        box.add(_fill(sample, deliveries[delivery]))
    return path


def _run(app, path):
    return app.test_cli_runner().invoke(args=["mailing", "process-bounces", "--maildir", str(path)])


def _suppression(email: str) -> str | None:
    return db.session.scalar(
        select(Suppression.reason).where(Suppression.email_hash == email_hash(email))
    )


def test_hard_bounces_are_marked_and_suppressed_soft_and_foreign_ones_ignored(
    app, deliveries, maildir
):
    result = _run(app, maildir)
    assert result.exit_code == 0, result.output
    assert (
        "Read 6 messages: 2 hard bounces suppressed, 1 unsubscribed, 1 temporary failures "
        "ignored, 0 already recorded, 2 not ours." in result.output
    )
    db.session.expire_all()
    by_name = {name: db.session.get(Delivery, row.id) for name, row in deliveries.items()}
    for name in ("hard_verp", "hard_message_id"):
        row = by_name[name]
        assert row.status == "bounced" and row.bounced_at is not None
        assert row.last_error.startswith("5.1.1 smtp; 550")
        assert _suppression(row.email) == "hard_bounce"
    for name in ("soft_delayed", "forged_recipient"):
        assert by_name[name].status == "sent"
        assert _suppression(by_name[name].email) is None
    donor = db.session.get(Donor, by_name["unsub"].donor_id)
    assert donor.newsletter_consent is False
    assert _suppression(donor.email) == "unsubscribe"


def test_processed_messages_are_flagged_so_a_rerun_changes_nothing(app, deliveries, maildir):
    _run(app, maildir)
    box = mailbox.Maildir(maildir, create=False)
    assert all("S" in msg.get_flags() and msg.get_subdir() == "cur" for msg in box)
    assert len(box) == 6
    before = db.session.execute(select(Delivery.id, Delivery.status, Delivery.bounced_at)).all()
    again = _run(app, maildir)
    assert "Read 0 messages" in again.output
    db.session.expire_all()
    assert db.session.execute(select(Delivery.id, Delivery.status, Delivery.bounced_at)).all() == (
        before
    )


def test_the_same_bounce_twice_is_recorded_once(app, deliveries, tmp_path):
    box = mailbox.Maildir(tmp_path / "twice", create=True)
    raw = _fill("hard_verp", deliveries["hard_verp"])
    box.add(raw)
    box.add(raw)
    result = _run(app, tmp_path / "twice")
    assert "1 hard bounces suppressed" in result.output and "1 already recorded" in result.output


def test_a_tampered_message_id_finds_no_delivery(app, deliveries, tmp_path):
    delivery = deliveries["hard_message_id"]
    raw = _fill("hard_message_id", delivery).replace(
        compose.message_id(delivery.newsletter_id, delivery.id).encode(),
        compose.message_id(delivery.newsletter_id, delivery.id)[:-20].encode() + b"0000@x>",
    )
    box = mailbox.Maildir(tmp_path / "tampered", create=True)
    box.add(raw)
    assert "1 not ours" in _run(app, tmp_path / "tampered").output
    assert db.session.get(Delivery, delivery.id).status == "sent"


def test_the_command_needs_one_mailbox(app):
    result = app.test_cli_runner().invoke(args=["mailing", "process-bounces"])
    assert result.exit_code == 2
    assert "Give either --maildir PATH or --imap URL." in result.output


class ImapServer:
    """Just enough of an IMAP4rev1 server on loopback (login, select, UID search/fetch/store)
    to read a mailbox as imaplib does; keeps each message's \\Seen flag."""

    def __init__(self, messages: list[bytes]):
        self.messages = [
            {"uid": n + 1, "raw": raw, "seen": False} for n, raw in enumerate(messages)
        ]
        self.logins: list[tuple[str, str]] = []
        server = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self):
                self.wfile.write(b"* OK IMAP4rev1 ready\r\n")
                for line in self.rfile:
                    tag, command, *args = shlex.split(line.decode().strip())
                    for reply in server.answer(command.upper(), args):
                        self.wfile.write(reply)
                    self.wfile.write(f"{tag} OK {command} completed\r\n".encode())
                    if command.upper() == "LOGOUT":
                        return

        self.tcp = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.tcp.daemon_threads = True
        threading.Thread(target=self.tcp.serve_forever, daemon=True).start()
        self.port = self.tcp.server_address[1]

    def answer(self, command: str, args: list[str]):
        if command == "CAPABILITY":
            yield b"* CAPABILITY IMAP4rev1\r\n"
        elif command == "LOGIN":
            self.logins.append((args[0], args[1]))
        elif command == "SELECT":
            yield f"* {len(self.messages)} EXISTS\r\n".encode()
        elif command == "LOGOUT":
            yield b"* BYE\r\n"
        elif command == "UID" and args[0].upper() == "SEARCH":
            unseen = " ".join(str(m["uid"]) for m in self.messages if not m["seen"])
            yield f"* SEARCH {unseen}\r\n".encode()
        elif command == "UID" and args[0].upper() == "FETCH":
            m = self.messages[int(args[1]) - 1]
            yield f"* {m['uid']} FETCH (UID {m['uid']} BODY[] {{{len(m['raw'])}}}\r\n".encode()
            yield m["raw"] + b")\r\n"
        elif command == "UID" and args[0].upper() == "STORE":
            self.messages[int(args[1]) - 1]["seen"] = True
            yield f"* {args[1]} FETCH (FLAGS (\\Seen) UID {args[1]})\r\n".encode()

    def stop(self):
        self.tcp.shutdown()
        self.tcp.server_close()


def test_an_imap_mailbox_is_read_and_its_messages_marked_seen(app, deliveries):
    imap = ImapServer(
        [
            _fill("hard_verp", deliveries["hard_verp"]),
            _fill("unsubscribe", deliveries["unsub"]),
            _fill("out_of_office", deliveries["unsub"]),
        ]
    )
    url = f"imap://legami:s%40cret@127.0.0.1:{imap.port}/INBOX"
    try:
        first = app.test_cli_runner().invoke(args=["mailing", "process-bounces", "--imap", url])
        assert first.exit_code == 0, first.output
        assert "Read 3 messages: 1 hard bounces suppressed, 1 unsubscribed" in first.output
        assert imap.logins[0] == ("legami", "s@cret")
        assert all(m["seen"] for m in imap.messages)
        again = app.test_cli_runner().invoke(args=["mailing", "process-bounces", "--imap", url])
        assert "Read 0 messages" in again.output
    finally:
        imap.stop()
    assert db.session.get(Delivery, deliveries["hard_verp"].id).status == "bounced"

"""`legami mailing process-bounces` on a real Maildir of DSN samples (tests/mailing/data)."""

import mailbox
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

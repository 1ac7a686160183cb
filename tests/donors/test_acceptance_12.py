"""Acceptance probes for issue 12 (reviewer): Mailchimp and CiviCRM exports uploaded with the
form's default kind of file (or another preset) are read as what their headers show, and a
forgotten donor's address leaves the default SQLite database's files."""

import io
from datetime import UTC, date, datetime

import pytest
from flask_migrate import upgrade
from sqlalchemy import select

from donors import erasure, importing
from donors.models import (
    ConsentAction,
    ConsentEvent,
    Donor,
    Suppression,
    SuppressionReason,
    email_hash,
)
from legami.extensions import db
from tests import factories
from tests.conftest import make_test_app
from tests.donors.test_import_consent import cleaned_file, unsubscribed_file


def _run(data: bytes, name: str, preset: str):
    """Import the file; returns the job and the dry run's (outcome, reason) by row number."""
    job = importing.create_job(name, io.BytesIO(data), preset, None)
    db.session.commit()
    importing.check(job.id)
    dry = {
        r.row_number: (r.outcome, r.reason)
        for r in db.session.scalars(importing.rows_query(job.id, True, None))
    }
    assert importing.claim(job.id)
    importing.run(job.id)
    db.session.expire_all()
    return job, dry


@pytest.mark.parametrize("preset", ["generic", "civicrm"])
def test_unsubscribed_export_with_the_default_preset_withdraws_consent(app, preset):
    anna = factories.donor(
        email="anna.bianchi@example.it",
        first_name="Anna",
        last_name="Bianchi",
        newsletter_consent=True,
    )
    job, dry = _run(unsubscribed_file(), "unsubscribed_members_export_1a2b3c.csv", preset)
    assert (job.preset, job.mapping["status"], job.mapping["timezone"]) == (
        "mailchimp",
        "unsubscribed",
        "UTC",
    )
    assert dry[2][0] == "update"
    assert dry[2][1].endswith("unsubscribed:2024-03-05T14:22:10+00:00")  # said per row
    assert not db.session.get(Donor, anna.id).newsletter_consent
    withdrawal = db.session.scalars(
        select(ConsentEvent)
        .where(ConsentEvent.donor_id == anna.id, ConsentEvent.action == ConsentAction.WITHDRAWN)
        .order_by(ConsentEvent.id.desc())
    ).first()
    assert withdrawal.occurred_at.replace(tzinfo=UTC) == datetime(
        2024, 3, 5, 14, 22, 10, tzinfo=UTC
    )
    assert (
        db.session.scalar(
            select(Suppression.reason).where(Suppression.email_hash == email_hash(anna.email))
        )
        == SuppressionReason.UNSUBSCRIBE
    )


@pytest.mark.parametrize("preset", ["generic", "civicrm"])
def test_cleaned_export_with_the_default_preset_suppresses(app, preset):
    job, dry = _run(cleaned_file(), "cleaned_members_export_1a2b3c.csv", preset)
    assert job.mapping["status"] == "cleaned"
    assert all(reason.startswith("bounced:") for _outcome, reason in dry.values())
    assert (
        db.session.scalar(
            select(Suppression.reason).where(
                Suppression.email_hash == email_hash("elena@example.it")
            )
        )
        == SuppressionReason.HARD_BOUNCE
    )


def test_civicrm_export_with_the_default_preset_reads_its_privacy_flags(app):
    """A CiviCRM export's Do Not Email / Is Opt Out / On Hold apply whatever preset is chosen,
    and a default "rows" status does not hide them."""
    data = (
        '"Contact ID","Contact Type","First Name","Last Name","Email","Do Not Email",'
        '"No Bulk Emails (User Opt Out)","Is Opt Out","On Hold","Newsletter"\r\n'
        '"7","Individual","Marta","Rossi","marta.rossi@example.it","1","0","0","0","sì"\r\n'
        '"8","Individual","Luca","Verdi","luca.verdi@example.it","No","No","Yes","No","sì"\r\n'
        '"9","Individual","Pia","Neri","pia.neri@example.it","0","0","0","On Hold Bounce","sì"\r\n'
        '"10","Individual","Ugo","Bassi","ugo.bassi@example.it","0","0","0","0","sì"\r\n'
    ).encode()
    job, dry = _run(data, "civicrm_contacts.csv", "generic")
    assert (job.preset, job.mapping["status"]) == ("civicrm", "rows")
    assert [dry[n][1].split(":")[0] for n in (2, 3, 4)] == [
        "unsubscribed",
        "unsubscribed",
        "bounced",
    ]
    assert dry[5] == ("create", "consent")
    suppressed = dict(db.session.execute(select(Suppression.email_hash, Suppression.reason)).all())
    assert suppressed == {
        email_hash("marta.rossi@example.it"): SuppressionReason.UNSUBSCRIBE,
        email_hash("luca.verdi@example.it"): SuppressionReason.UNSUBSCRIBE,
        email_hash("pia.neri@example.it"): SuppressionReason.HARD_BOUNCE,
    }
    audience = db.session.scalars(select(Donor.email).where(Donor.newsletter_consent.is_(True)))
    assert set(audience) == {"ugo.bassi@example.it"}


def test_forgetting_leaves_nothing_in_the_default_sqlite_file(tmp_path):
    """The default layout keeps the database in the instance folder (instance/legami.sqlite):
    the erasure scan's 'every file under the instance folder' includes it."""
    instance = tmp_path / "instance"
    instance.mkdir()
    app = make_test_app(f"sqlite:///{instance / 'legami.sqlite'}", instance)
    email = "ottavia.zanardelli@example.org"
    with app.app_context():
        upgrade()
        donor = factories.donor(email=email, first_name="Ottavia", last_name="Zanardelli")
        db.session.commit()
        erasure.forget(donor.id, None, today=date(2026, 12, 1), years=10)
        db.session.commit()
        assert db.session.get(Donor, donor.id).email != email
        # While the server runs (its connections open), then after it stopped.
        running = _files_naming(instance, email)
        db.engine.dispose()
    assert (running, _files_naming(instance, email)) == ([], [])


def _files_naming(folder, email: str) -> list[str]:
    return sorted(
        p.name for p in folder.rglob("*") if p.is_file() and email.encode() in p.read_bytes()
    )

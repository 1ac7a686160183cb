"""Consent from real list exports: Mailchimp's audience export of subscribed, unsubscribed and
cleaned members (its published columns; times in UTC) and a CiviCRM contact export (its
privacy flags as Yes/No or 1/0). Unsubscribes withdraw consent, dated when they happened,
and suppress the address; bounces suppress it; a suppressed address never regains consent
from any import, and the dry run says so row by row. Members known by their address alone
are imported."""

import io
from datetime import UTC, datetime, timedelta

from flask_babel import force_locale
from sqlalchemy import func, select, text

from donors import consent, importing
from donors.import_plan import describe
from donors.models import (
    ConsentAction,
    ConsentEvent,
    Donor,
    ImportJob,
    ImportRow,
    Suppression,
    SuppressionReason,
    email_hash,
)
from legami.extensions import db
from legami.timeutil import now_utc
from tests import factories

COMMON = (
    '"Email Address","First Name","Last Name","Address","Phone Number","MEMBER_RATING",'
    '"OPTIN_TIME","OPTIN_IP","CONFIRM_TIME","CONFIRM_IP","LATITUDE","LONGITUDE","GMTOFF",'
    '"DSTOFF","TIMEZONE","CC","REGION"'
)
TAIL = '"LEID","EUID","NOTES","TAGS"'
SUBSCRIBED = f'{COMMON},"LAST_CHANGED",{TAIL}\r\n'
UNSUBSCRIBED = (
    f'{COMMON},"UNSUB_TIME","UNSUB_CAMPAIGN_TITLE","UNSUB_CAMPAIGN_ID","UNSUB_REASON",'
    f'"UNSUB_REASON_OTHER",{TAIL}\r\n'
)
CLEANED = f'{COMMON},"CLEAN_TIME","CLEAN_CAMPAIGN_TITLE","CLEAN_CAMPAIGN_ID",{TAIL}\r\n'


def _member(email, first, last, optin="2021-03-01 09:15:00", confirm="2021-03-01 09:20:00"):
    address = "Via Roma 1  Cremona  CR  26100  IT" if last else ""
    return (
        f'"{email}","{first}","{last}","{address}","",2,"{optin}","93.41.1.10","{confirm}",'
        '"93.41.1.11","45.13","10.02","1","2","Europe/Rome","IT","LO"'
    )


def _ids(n):
    return f',"{100 + n}","a{n}b{n}c",,'


def subscribed_file() -> bytes:
    rows = [
        _member("anna.bianchi@example.it", "Anna", "Bianchi") + ',"2024-01-01 10:00:00"',
        _member("bruno.neri@example.it", "Bruno", "Neri") + ',"2024-01-01 10:00:00"',
        _member("solo.indirizzo@example.it", "", "") + ',"2024-01-01 10:00:00"',
    ]
    tags = ['"""Soci"""', "", ""]
    body = "".join(f"{row}{_ids(n)}{tags[n]}\r\n" for n, row in enumerate(rows))
    return (SUBSCRIBED + body).encode("utf-8")


def unsubscribed_file() -> bytes:
    rows = [
        _member("Anna.Bianchi@Example.it", "Anna", "Bianchi")
        + ',"2024-03-05 14:22:10","Notizie di marzo","f1e2d3","NORMAL","Troppe mail"',
        _member("carla.rossi@example.it", "Carla", "Rossi")
        + ',"2023-11-20 08:00:00","Auguri","a9b8c7","SPAM",""',
        _member("dario@example.it", "", "", optin="", confirm="")
        + ',"2022-06-01 12:00:00","","","",""',
    ]
    body = "".join(f"{row}{_ids(n)}\r\n" for n, row in enumerate(rows))
    return (UNSUBSCRIBED + body).encode("utf-8")


def cleaned_file() -> bytes:
    rows = [
        _member("bruno.neri@example.it", "Bruno", "Neri") + ',"2024-04-10 06:30:00","Aprile","c1"',
        _member("elena@example.it", "Elena", "Conti") + ',"2024-04-10 06:30:00","Aprile","c1"',
    ]
    body = "".join(f"{row}{_ids(n)}\r\n" for n, row in enumerate(rows))
    return (CLEANED + body).encode("utf-8")


def _job(data: bytes, name: str, preset: str = "mailchimp"):
    job = importing.create_job(name, io.BytesIO(data), preset, None)
    db.session.commit()
    return job


def _import(data: bytes, name: str, preset: str = "mailchimp"):
    job = _job(data, name, preset)
    importing.check(job.id)
    dry = _outcomes(job.id, True)
    assert importing.claim(job.id)
    importing.run(job.id)
    assert _outcomes(job.id, False) == dry  # the import did what the dry run said
    return job, dry


def _outcomes(job_id: int, dry_run: bool) -> dict[int, tuple[str, str]]:
    rows = db.session.scalars(importing.rows_query(job_id, dry_run, None))
    return {r.row_number: (r.outcome, r.reason) for r in rows}


def _donor(email: str) -> Donor:
    return db.session.scalar(select(Donor).where(Donor.email == email))


def _suppression(email: str) -> Suppression | None:
    return db.session.scalar(select(Suppression).where(Suppression.email_hash == email_hash(email)))


def _events(donor: Donor) -> list[tuple[str, datetime]]:
    rows = db.session.scalars(
        select(ConsentEvent).where(ConsentEvent.donor_id == donor.id).order_by(ConsentEvent.id)
    )
    return [(e.action, e.occurred_at) for e in rows]


def _audience() -> set[str]:
    return set(db.session.scalars(select(Donor.email).where(consent.newsletter_audience_filter())))


def _snapshot() -> dict:
    tables = ["donors", "consent_events", "suppressions", "donor_tags", "donor_changes"]
    return {t: db.session.execute(text(f"SELECT * FROM {t} ORDER BY 1")).all() for t in tables}


def test_mailchimp_subscribed_then_unsubscribed_then_cleaned(app):
    _, dry = _import(subscribed_file(), "subscribed_members_export_1a2b3c.csv")
    assert dry == {2: ("create", "consent"), 3: ("create", "consent"), 4: ("create", "consent")}
    nameless = _donor("solo.indirizzo@example.it")  # a subscriber needs no name
    assert (nameless.first_name, nameless.last_name, nameless.kind) == ("", "", "person")
    assert nameless.newsletter_consent
    assert _audience() == {
        "anna.bianchi@example.it",
        "bruno.neri@example.it",
        "solo.indirizzo@example.it",
    }

    # Unsubscribed members: the dry run says what will happen and changes nothing.
    job = _job(unsubscribed_file(), "unsubscribed_members_export_1a2b3c.csv")
    assert job.mapping["status"] == "unsubscribed"
    before = _snapshot()
    importing.check(job.id)
    db.session.expire_all()
    assert _snapshot() == before
    unsubscribed = {
        2: ("update", "unsubscribed:2024-03-05T14:22:10+00:00"),
        3: ("create", "unsubscribed:2023-11-20T08:00:00+00:00"),
        4: ("create", "unsubscribed:2022-06-01T12:00:00+00:00"),  # address alone
    }
    assert _outcomes(job.id, True) == unsubscribed
    with force_locale("en"):
        assert describe(unsubscribed[2][1]).startswith("Unsubscribed (")
        assert describe(unsubscribed[2][1]).endswith(
            "newsletter consent withdrawn and the address suppressed"
        )
    assert importing.claim(job.id)
    importing.run(job.id)
    assert _outcomes(job.id, False) == unsubscribed

    anna = _donor("anna.bianchi@example.it")
    assert not anna.newsletter_consent
    assert _events(anna) == [
        ("granted", datetime(2021, 3, 1, 9, 15, tzinfo=UTC)),
        ("withdrawn", datetime(2024, 3, 5, 14, 22, 10, tzinfo=UTC)),  # UNSUB_TIME, UTC
    ]
    withdrawal = db.session.scalar(
        select(ConsentEvent).where(
            ConsentEvent.donor_id == anna.id, ConsentEvent.action == ConsentAction.WITHDRAWN
        )
    )
    assert withdrawal.source == "import"
    assert withdrawal.note == (
        "import: unsubscribed_members_export_1a2b3c.csv: Notizie di marzo; NORMAL; Troppe mail"
    )
    suppression = _suppression("anna.bianchi@example.it")
    assert suppression.reason == SuppressionReason.UNSUBSCRIBE
    assert suppression.created_at == datetime(2024, 3, 5, 14, 22, 10, tzinfo=UTC)
    carla = _donor("carla.rossi@example.it")
    assert (carla.last_name, carla.newsletter_consent) == ("Rossi", False)
    assert _events(carla) == [("withdrawn", datetime(2023, 11, 20, 8, tzinfo=UTC))]
    assert _suppression("dario@example.it").reason == SuppressionReason.UNSUBSCRIBE
    assert _donor("dario@example.it").last_name == ""

    # Cleaned members: suppressed as hard bounces; a known subscriber leaves the audience.
    _, dry = _import(cleaned_file(), "cleaned_members_export_1a2b3c.csv")
    assert dry == {
        2: ("update", "bounced:2024-04-10T06:30:00+00:00"),
        3: ("create", "bounced:2024-04-10T06:30:00+00:00"),
    }
    assert _suppression("bruno.neri@example.it").reason == SuppressionReason.HARD_BOUNCE
    assert not _donor("elena@example.it").newsletter_consent
    assert _audience() == {"solo.indirizzo@example.it"}

    # Importing either file again changes nothing.
    before = _snapshot()
    _, again = _import(unsubscribed_file(), "unsubscribed_members_export_1a2b3c.csv")
    assert {outcome for outcome, _ in again.values()} == {"skip"}
    assert again[2] == ("skip", "already_suppressed")
    _, again = _import(cleaned_file(), "cleaned_members_export_1a2b3c.csv")
    assert {outcome for outcome, _ in again.values()} == {"skip"}
    db.session.expire_all()
    assert _snapshot() == before


def test_a_suppressed_address_never_regains_consent_from_any_import(app):
    _import(subscribed_file(), "subscribed.csv")
    _import(unsubscribed_file(), "unsubscribed.csv")
    _import(cleaned_file(), "cleaned.csv")
    grants = db.session.scalar(
        select(func.count()).where(ConsentEvent.action == ConsentAction.GRANTED)
    )
    # A generic file saying "sì", dated after the unsubscribes, and Mailchimp's subscribed
    # export again: no consent for any suppressed address, each row says why.
    generic = (
        "E-mail;Nome;Cognome;Newsletter;Data consenso\n"
        "anna.bianchi@example.it;Anna;Bianchi;sì;01/06/2025 10:00\n"
        "bruno.neri@example.it;Bruno;Neri;sì;01/06/2025 10:00\n"
        "carla.rossi@example.it;Carla;Rossi;si;01/06/2025 10:00\n"
        "dario@example.it;;;SI;01/06/2025 10:00\n"
        "elena@example.it;Elena;Conti;yes;\n"
        "nuova@example.it;Nuova;Persona;sì;01/06/2025 10:00\n"
    ).encode("cp1252")
    _, dry = _import(generic, "lista.csv", preset="generic")
    assert dry == {
        2: ("skip", "no_change; consent_suppressed"),
        3: ("skip", "no_change"),  # still consents, but his address bounced: suppressed
        4: ("skip", "no_change; consent_suppressed"),
        5: ("skip", "no_change; consent_suppressed"),
        6: ("skip", "no_change; consent_suppressed"),
        7: ("create", "consent"),
    }
    with force_locale("en"):
        assert "the address is suppressed" in describe(dry[2][1])
    _, dry = _import(subscribed_file(), "subscribed.csv")
    assert dry[2] == ("skip", "no_change; consent_suppressed")
    assert dry[3] == ("skip", "no_change")
    for email in ("anna.bianchi@example.it", "carla.rossi@example.it", "dario@example.it"):
        assert not _donor(email).newsletter_consent
    assert _audience() == {"solo.indirizzo@example.it", "nuova@example.it"}
    new_grants = db.session.scalar(
        select(func.count()).where(ConsentEvent.action == ConsentAction.GRANTED)
    )
    assert new_grants == grants + 1  # only the new person


def test_an_unsubscribe_older_than_a_later_withdrawal_adds_no_history(app):
    donor = factories.donor(
        email="carla.rossi@example.it",
        first_name="Carla",
        last_name="Rossi",
        street="Via Roma 1",
        town="Cremona",
        province="CR",
        postal_code="26100",
    )
    db.session.add(
        ConsentEvent(
            donor_id=donor.id,
            action=ConsentAction.WITHDRAWN,
            source="staff",
            occurred_at=datetime(2024, 1, 1, tzinfo=UTC),
        )
    )
    db.session.commit()
    _, dry = _import(unsubscribed_file(), "unsubscribed.csv")
    # Already withdrawn after 2023-11-20: only the suppression is new.
    assert dry[3] == ("update", "unsubscribed:2023-11-20T08:00:00+00:00")
    assert _events(donor) == [("withdrawn", datetime(2024, 1, 1, tzinfo=UTC))]
    assert _suppression("carla.rossi@example.it") is not None


CIVICRM = (
    '"Contact ID","Contact Type","First Name","Last Name","Organization Name","Email",'
    '"Do Not Email","No Bulk Emails (User Opt Out)","Is Opt Out","On Hold","Phone",'
    '"Street Address","City","Postal Code","State","Country"\r\n'
    '"11","Individual","Giulia","Verdi","","giulia.verdi@example.it","No","No","0","0",'
    '"0372 22334","Via Mazzini 2","Cremona","26100","CR","Italy"\r\n'
    '"12","Individual","Paolo","Neri","","paolo.neri@example.it","Yes","No","0","0","","","","","",""\r\n'
    '"13","Individual","Rita","Galli","","rita.galli@example.it","","1","","","","","","","",""\r\n'
    '"14","Individual","Ugo","Sala","","ugo.sala@example.it","0","0","1","0","","","","","",""\r\n'
    '"15","Individual","Ada","Riva","","ada.riva@example.it","No","No","No","1","","","","","",""\r\n'
    '"16","Organization","","","Coop Il Ponte","info@ilponte.example.it","0","0","0","0",'
    '"","","Crema","26013","CR","Italy"\r\n'
    '"17","Individual","Ivo","Bassi","","ivo.bassi@example.it","forse","0","0","0","","","","","",""\r\n'
    '"18","Individual","","","","solo@example.it","0","0","0","0","","","","","",""\r\n'
)


def test_civicrm_privacy_flags_withdraw_and_suppress(app):
    paolo = factories.donor(
        email="paolo.neri@example.it", first_name="Paolo", last_name="Neri", newsletter_consent=True
    )
    job = _job(CIVICRM.encode("utf-8"), "civicrm_contacts.csv", preset="civicrm")
    assert job.mapping["status"] == "rows"
    assert job.mapping["columns"] == [
        "ignore",
        "kind",
        "first_name",
        "last_name",
        "organisation_name",
        "email",
        "opt_out",
        "opt_out",
        "opt_out",
        "on_hold",
        "phone",
        "street",
        "town",
        "postal_code",
        "province",
        "country",
    ]
    started = now_utc()
    _, dry = _import(CIVICRM.encode("utf-8"), "civicrm_contacts.csv", preset="civicrm")
    assert dry == {
        2: ("create", ""),
        3: ("update", "unsubscribed:"),  # Do Not Email: Yes
        4: ("create", "unsubscribed:"),  # No Bulk Emails (User Opt Out): 1
        5: ("create", "unsubscribed:"),  # Is Opt Out: 1
        6: ("create", "bounced:"),  # On Hold: 1 (a bounce)
        7: ("create", ""),
        8: ("reject", "bad_flag:forse"),
        # Nothing about mail and no name: not a list member, nothing to keep.
        9: ("reject", "missing_name"),
    }
    with force_locale("en"):
        assert "date unknown" in describe(dry[3][1])
        assert describe(dry[8][1]) == "Neither yes nor no: forse"
    giulia = _donor("giulia.verdi@example.it")
    assert (giulia.town, giulia.province, giulia.country, giulia.postal_code) == (
        "Cremona",
        "CR",
        "IT",
        "26100",
    )
    assert giulia.phone_key == "+39037222334"
    assert _donor("info@ilponte.example.it").organisation_name == "Coop Il Ponte"
    db.session.refresh(paolo)
    assert not paolo.newsletter_consent
    [(action, at)] = _events(paolo)
    assert action == "withdrawn" and started <= at <= now_utc() + timedelta(seconds=1)
    for email in ("paolo.neri@example.it", "rita.galli@example.it", "ugo.sala@example.it"):
        assert _suppression(email).reason == SuppressionReason.UNSUBSCRIBE
    assert _suppression("ada.riva@example.it").reason == SuppressionReason.HARD_BOUNCE
    assert _suppression("giulia.verdi@example.it") is None
    assert _audience() == set()


def test_staff_run_of_an_unsubscribed_export_shows_the_status_and_reasons(app, client, login):
    login("staff")
    uploaded = client.post(
        "/staff/imports?lang=en",
        data={
            "file": (io.BytesIO(unsubscribed_file()), "unsubscribed_members.csv"),
            "preset": "mailchimp",
        },
        content_type="multipart/form-data",
    )
    assert uploaded.status_code == 302
    job_id = int(uploaded.headers["Location"].split("/")[-2])
    mapping = client.get(f"/staff/imports/{job_id}/mapping?lang=en")
    assert '<option selected value="unsubscribed">' in mapping.text
    form = {
        f"columns-{i}": target
        for i, target in enumerate(db.session.get(ImportJob, job_id).mapping["columns"])
    }
    checked = client.post(
        f"/staff/imports/{job_id}/mapping?lang=en",
        data={**form, "status": "unsubscribed", "timezone": "UTC"},
    )
    assert checked.status_code == 302
    report = client.get(f"/staff/imports/{job_id}?lang=en")
    assert report.text.count("newsletter consent withdrawn and the address suppressed") == 3
    assert db.session.scalar(select(func.count()).select_from(Suppression)) == 0
    assert db.session.scalar(select(func.count()).select_from(ImportRow)) == 3


def test_command_line_status_option(app, tmp_path):
    """`--status unsubscribed` makes every row of a plain list an unsubscribe."""
    path = tmp_path / "disiscritti.csv"
    path.write_bytes("E-mail;Nome;Cognome\r\nvia@example.it;Vale;Via\r\n".encode("cp1252"))
    runner = app.test_cli_runner()
    done = runner.invoke(
        args=["donors", "import", str(path), "--status", "unsubscribed", "--verbose"]
    )
    assert done.exit_code == 0, done.output
    assert "1 were created, 0 updated, 0 skipped, 0 rejected" in done.output
    assert "row 2 create: Unsubscribed (date unknown)" in done.output
    assert _suppression("via@example.it").reason == SuppressionReason.UNSUBSCRIBE
    wrong = runner.invoke(args=["donors", "import", str(path), "--status", "maybe"])
    assert wrong.exit_code != 0

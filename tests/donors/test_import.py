"""Donor import: a Mailchimp-style export (good rows, duplicates differing only in case,
accents and full-width letters, bad e-mails and codici fiscali, formula-looking values, tags)
through the dry run, the real run and a second import; the same data as XLSX; the command
line; the staff pages, with the run in its background thread."""

import csv
import io
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask_babel import force_locale
from openpyxl import Workbook
from sqlalchemy import func, select, text

from donors import importing
from donors.import_files import read_file
from donors.import_plan import describe
from donors.import_presets import initial_mapping
from donors.models import (
    ConsentAction,
    ConsentEvent,
    ConsentSource,
    Donor,
    DonorChange,
    DonorEmail,
    ImportJob,
    ImportRow,
    Suppression,
    SuppressionReason,
    Tag,
    email_hash,
)
from legami import jobs
from legami.csv_export import to_csv
from legami.extensions import db
from legami.jobs import Job
from legami.models import AuditEntry
from tests import factories

DATA = Path(__file__).parent / "data"
MAILCHIMP = DATA / "mailchimp_subscribed.csv"
FORMULA_NAME = '=HYPERLINK("http://evil.example","clic")'

# Row number (the header is row 1) -> outcome and reasons of the Mailchimp sample, once the
# `existing` fixture is in the database.
EXPECTED = {
    2: ("create", "consent"),
    3: ("skip", "duplicate:2"),  # the same address in capitals
    4: ("skip", "duplicate:2"),  # ... in full-width letters
    5: ("create", "consent"),
    6: ("skip", "duplicate:5"),  # ... with a decomposed accent, in capitals
    7: ("reject", "bad_email"),
    8: ("reject", "bad_email"),
    9: ("reject", "bad_codice_fiscale"),
    10: ("create", "consent"),
    11: ("create", "consent"),  # a subscriber known by the address alone
    12: ("update", "changes:street,postal_code,town,province,phone,tags; consent"),
    13: ("reject", "suppressed"),
    14: ("reject", "no_email"),
    15: ("skip", "no_change"),
    16: ("update", "changes:phone; consent"),  # found by the donor's further address
    17: ("skip", "no_change; consent_withdrawn_later"),  # withdrew after the opt-in
}


@pytest.fixture
def existing(app):
    """Donors and a suppression the sample file meets."""
    paolo = factories.donor(
        email="esistente@example.it", first_name="Paolo", last_name="Neri", town="Crema"
    )
    sara = factories.donor(
        email="uguale@example.it", first_name="Sara", last_name="Gallo", newsletter_consent=True
    )
    marco = factories.donor(email="principale@example.it", first_name="Marco", last_name="Galli")
    marco.emails.append(DonorEmail(email="vecchio.indirizzo@example.it"))
    rita = factories.donor(email="ritirato@example.it", first_name="Rita", last_name="Ritirati")
    db.session.add(
        ConsentEvent(
            donor_id=rita.id,
            action=ConsentAction.WITHDRAWN,
            source=ConsentSource.STAFF,
            occurred_at=datetime(2024, 1, 10, tzinfo=UTC),
        )
    )
    db.session.add(
        Suppression(email_hash=email_hash("tolto@example.it"), reason=SuppressionReason.ERASURE)
    )
    db.session.commit()
    return {"paolo": paolo.id, "sara": sara.id, "marco": marco.id, "rita": rita.id}


def _job(path: Path, preset: str = "mailchimp", user_id=None) -> ImportJob:
    with path.open("rb") as upload:
        job = importing.create_job(path.name, upload, preset, user_id)
    db.session.commit()
    return job


def _outcomes(job_id: int, dry_run: bool) -> dict[int, tuple[str, str]]:
    rows = db.session.scalars(importing.rows_query(job_id, dry_run, None))
    return {r.row_number: (r.outcome, r.reason) for r in rows}


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _snapshot() -> dict:
    """Every donor-side table, to compare before and after a run."""
    tables = ["donors", "donor_emails", "donor_tags", "tags", "donor_changes", "consent_events"]
    return {t: db.session.execute(text(f"SELECT * FROM {t} ORDER BY 1")).all() for t in tables}


def _import(path: Path, preset: str = "mailchimp") -> ImportJob:
    job = _job(path, preset)
    assert importing.claim(job.id)
    return importing.run(job.id)


def _xlsx_copy(source: Path, target: Path) -> Path:
    """The same rows as an XLSX workbook; cells starting with `=` become formulas there."""
    workbook = Workbook()
    sheet = workbook.active
    with source.open(encoding="utf-8", newline="") as handle:
        for row in csv.reader(handle):
            sheet.append(row)
    workbook.save(target)
    return target


# Reading files ---------------------------------------------------------------------------------


def test_csv_delimiter_and_encoding_are_found(tmp_path):
    bom = tmp_path / "bom.csv"
    bom.write_bytes("\ufeffE-mail,Città\nanna@example.it,Forlì\n".encode())
    assert read_file(bom)[0] == ["E-mail", "Città"]
    assert list(read_file(bom)[1]) == [(2, ["anna@example.it", "Forlì"])]
    headers, rows = read_file(DATA / "generic_it.csv")  # Windows-1252, semicolons
    assert headers[:5] == ["Nome", "Cognome", "Ragione sociale", "E-mail", "Città"]
    first = next(rows)
    assert first[0] == 2 and first[1][:2] == ["Niccolò", "Forlì"]
    blank_lines = tmp_path / "blank.csv"
    blank_lines.write_text("Email;Nome\n\na@example.it;A\n;\nb@example.it;B\n")
    assert [n for n, _ in read_file(blank_lines)[1]] == [3, 5]


def test_presets_recognise_mailchimp_and_italian_headers():
    headers, _ = read_file(MAILCHIMP)
    mapping = initial_mapping(headers, "mailchimp")
    by_header = dict(zip(headers, mapping["columns"], strict=True))
    assert by_header["Email Address"] == "email"
    assert by_header["Address"] == "address"
    assert by_header["Codice fiscale"] == "codice_fiscale"  # a merge field: generic name
    assert (by_header["OPTIN_TIME"], by_header["CONFIRM_IP"]) == ("consent_time", "confirm_ip")
    assert (by_header["TAGS"], by_header["MEMBER_RATING"]) == ("tags", "ignore")
    assert mapping["status"] == "subscribed" and mapping["timezone"] == "UTC"
    unsubscribed = initial_mapping([*headers, "UNSUB_TIME"], "mailchimp")
    assert unsubscribed["status"] == "unsubscribed"
    generic = initial_mapping(
        ["E-mail", "Nome", "Cognome", "CAP", "Città", "Comune", "Codice Fiscale", "Tag"], "generic"
    )
    assert generic["columns"] == [
        "email",
        "first_name",
        "last_name",
        "postal_code",
        "town",
        "town",
        "codice_fiscale",
        "tags",
    ]
    assert generic["status"] == "rows" and generic["timezone"] == "Europe/Rome"


# The Mailchimp sample --------------------------------------------------------------------------


def test_dry_run_reports_every_row_and_changes_nothing(app, existing):
    before = _snapshot()
    job = _job(MAILCHIMP)
    assert job.total_rows == 16
    assert job.stored_path.startswith("imports/")
    assert importing.stored_file(job).read_bytes() == MAILCHIMP.read_bytes()
    checked = importing.check(job.id)
    assert checked.status == "checked"
    assert _outcomes(job.id, dry_run=True) == EXPECTED
    assert importing.outcome_counts(job.id, dry_run=True) == {
        "create": 4,
        "update": 2,
        "skip": 5,
        "reject": 5,
    }
    assert (checked.created, checked.updated, checked.skipped, checked.rejected) == (4, 2, 5, 5)
    rows = {r.row_number: r for r in db.session.scalars(select(ImportRow))}
    assert rows[4].email == "giulia.bianchi@example.it"
    assert rows[16].donor_id == existing["marco"]
    db.session.expire_all()
    assert _snapshot() == before
    with force_locale("en"):
        assert describe(rows[3].reason) == "Same e-mail as row 2"
        assert describe(rows[12].reason) == (
            "Changes: Street and number, Postal code, Town, Province, Phone, "
            "Tags (comma separated); Newsletter consent"
        )
    # A second dry run replaces the first.
    importing.check(job.id)
    assert _count(ImportRow) == 16


def test_real_run_imports_in_batches_with_history_and_original_consent_dates(
    app, existing, monkeypatch
):
    monkeypatch.setattr(importing, "BATCH_SIZE", 5)
    progress = []
    job = _job(MAILCHIMP)
    importing.check(job.id)
    assert importing.claim(job.id)
    assert not importing.claim(job.id)  # a second click does nothing
    done = importing.run(job.id, progress.append)
    assert progress == [5, 5, 5, 1]
    assert (done.status, done.processed_rows, done.total_rows) == ("done", 16, 16)
    assert done.finished_at is not None
    assert _outcomes(job.id, dry_run=False) == EXPECTED  # as the dry run said

    giulia = db.session.scalar(select(Donor).where(Donor.email == "giulia.bianchi@example.it"))
    assert (giulia.first_name, giulia.last_name, giulia.codice_fiscale) == (
        "Giulia",
        "Bianchi",
        "BNCGLI90A41D150T",
    )
    assert (giulia.street, giulia.town, giulia.province, giulia.postal_code, giulia.country) == (
        "Via Roma 1",
        "Cremona",
        "CR",
        "26100",
        "IT",
    )
    assert (giulia.source, giulia.source_detail) == ("import", "mailchimp_subscribed.csv")
    assert [t.name for t in giulia.tags] == ["Donatori 2023", "Volontari"]
    assert giulia.newsletter_consent
    [given] = db.session.scalars(select(ConsentEvent).where(ConsentEvent.donor_id == giulia.id))
    assert (given.action, given.source, given.ip) == ("granted", "import", "93.41.1.11")
    assert given.occurred_at == datetime(2021, 3, 1, 9, 15, tzinfo=UTC)  # OPTIN_TIME
    assert given.confirmed_at == datetime(2021, 3, 1, 9, 20, tzinfo=UTC)  # CONFIRM_TIME
    assert given.note == "import: mailchimp_subscribed.csv"

    nicolo = db.session.scalar(select(Donor).where(Donor.email == "nicolò.ferri@example.it"))
    assert (nicolo.first_name, nicolo.town, nicolo.postal_code) == ("Nicolò", "Crema", "26013")
    [given] = db.session.scalars(select(ConsentEvent).where(ConsentEvent.donor_id == nicolo.id))
    assert given.occurred_at == datetime(2020, 11, 5, 18, tzinfo=UTC)
    assert (given.confirmed_at, given.ip) == (None, "151.20.3.4")

    # Formula-looking cells are kept as text; exports escape them.
    formula = db.session.scalar(select(Donor).where(Donor.email == "formula@example.it"))
    assert (formula.first_name, formula.last_name) == (FORMULA_NAME, "-Verdi")
    assert (formula.phone, formula.notes) == ("+39 02 1234", "@SUM(1+1)")
    assert [t.name for t in formula.tags] == ["=cmd|' /C calc'!A0", "Volontari"]
    exported = to_csv(["name", "notes"], [(formula.first_name, formula.notes)])
    exported_row = list(csv.reader(io.StringIO(exported.lstrip("\ufeff")), delimiter=";"))[1]
    assert exported_row == [f"'{FORMULA_NAME}", "'@SUM(1+1)"]

    paolo = db.session.get(Donor, existing["paolo"])
    assert (paolo.phone, paolo.town, paolo.street) == ("+39 0372 111222", "Cremona", "Via Dante 3")
    changes = {
        (c.field, c.old_value, c.new_value)
        for c in db.session.scalars(select(DonorChange).where(DonorChange.donor_id == paolo.id))
    }
    assert ("town", "Crema", "Cremona") in changes
    assert ("phone", "", "+39 0372 111222") in changes
    assert ("tags", "", "Soci") in changes
    sources = set(db.session.scalars(select(DonorChange.source)))
    assert sources == {f"import:{job.id}:mailchimp_subscribed.csv"}
    assert paolo.newsletter_consent and paolo.source == "campaign"  # an old donor stays so
    assert db.session.get(Donor, existing["marco"]).phone == "+39 345 0000000"
    rita = db.session.get(Donor, existing["rita"])
    assert not rita.newsletter_consent  # she withdrew after the file's opt-in

    # Nothing for the rejected rows, the suppressed address or the duplicates.
    assert _count(Donor) == 4 + 4
    assert db.session.scalar(select(Donor).where(Donor.email == "tolto@example.it")) is None
    assert db.session.scalar(select(Donor).where(Donor.last_name == "Colombo")) is None
    assert sorted(db.session.scalars(select(Tag.name))) == [
        "=cmd|' /C calc'!A0",
        "Donatori 2023",
        "Soci",
        "Volontari",
    ]
    consents = db.session.scalars(
        select(ConsentEvent).where(ConsentEvent.source == ConsentSource.IMPORT)
    ).all()
    assert len(consents) == 6  # Giulia, Nicolò, the formula row, the address alone, Paolo, Marco
    [entry] = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "donors.import"))
    assert entry.detail["created"] == 4 and entry.detail["rejected"] == 5


def test_importing_the_same_file_again_changes_nothing(app, existing):
    _import(MAILCHIMP)
    before = _snapshot()
    again = _import(MAILCHIMP)
    db.session.expire_all()
    assert _snapshot() == before
    outcomes = _outcomes(again.id, dry_run=False)
    assert {n for n, (outcome, _) in outcomes.items() if outcome in ("create", "update")} == set()
    assert outcomes[2] == outcomes[12] == outcomes[16] == ("skip", "no_change")
    assert outcomes[3] == ("skip", "duplicate:2")
    assert {n for n, (o, _) in outcomes.items() if o == "reject"} == {7, 8, 9, 13, 14}


def test_xlsx_of_the_same_data_gives_the_same_result(app, existing, tmp_path):
    workbook = _xlsx_copy(MAILCHIMP, tmp_path / "mailchimp_subscribed.xlsx")
    job = _job(workbook)
    assert job.total_rows == 16
    importing.check(job.id)
    assert _outcomes(job.id, dry_run=True) == EXPECTED
    assert importing.claim(job.id)
    importing.run(job.id)
    assert _outcomes(job.id, dry_run=False) == EXPECTED
    formula = db.session.scalar(select(Donor).where(Donor.email == "formula@example.it"))
    assert formula.first_name == FORMULA_NAME  # the formula's text, never its result
    csv_again = _import(MAILCHIMP)
    assert {o for o, _ in _outcomes(csv_again.id, dry_run=False).values()} == {"skip", "reject"}


def test_generic_italian_file(app, tmp_path):
    done = _import(DATA / "generic_it.csv", preset="generic")
    assert _outcomes(done.id, dry_run=False) == {
        2: ("create", "consent"),
        3: ("create", ""),
        4: ("create", ""),
    }
    niccolo = db.session.scalar(select(Donor).where(Donor.email == "niccolo.forli@example.it"))
    assert (niccolo.last_name, niccolo.town, niccolo.province) == ("Forlì", "Forlì", "FC")
    assert (niccolo.phone, niccolo.notes) == ("0543 123456", "Conosciuto alla festa")
    assert [t.name for t in niccolo.tags] == ["Soci", "Volontari"]
    [given] = db.session.scalars(select(ConsentEvent).where(ConsentEvent.donor_id == niccolo.id))
    assert given.occurred_at == datetime(2022, 6, 15, 8, 30, tzinfo=UTC)  # 10:30 in Rome
    cooperativa = db.session.scalar(select(Donor).where(Donor.email == "info@ilcerchio.example.it"))
    assert (cooperativa.kind, cooperativa.organisation_name) == (
        "organisation",
        "Cooperativa Sociale Il Cerchio",
    )
    assert cooperativa.postal_code == "00184"  # the leading zeros a spreadsheet dropped
    assert not cooperativa.newsletter_consent
    lucia = db.session.scalar(select(Donor).where(Donor.email == "lucia.verdi@example.it"))
    assert lucia.codice_fiscale == "VRDLCU70C15H501W" and not lucia.newsletter_consent


def test_an_unsubscribed_donor_is_updated_but_not_subscribed_again(app, tmp_path):
    donor = factories.donor(email="via@example.it", first_name="Vale", last_name="Via")
    db.session.add(
        Suppression(email_hash=email_hash("via@example.it"), reason=SuppressionReason.UNSUBSCRIBE)
    )
    db.session.commit()
    path = tmp_path / "lista.csv"
    path.write_text("E-mail;Nome;Cognome;Telefono;Newsletter\nvia@example.it;Vale;Via;333;sì\n")
    done = _import(path, preset="generic")
    assert _outcomes(done.id, dry_run=False) == {2: ("update", "changes:phone; consent_suppressed")}
    db.session.refresh(donor)
    assert donor.phone == "333" and not donor.newsletter_consent
    assert _count(ConsentEvent) == 0


def test_bad_values_are_rejected_with_their_reason(app, tmp_path):
    path = tmp_path / "errori.csv"
    path.write_text(
        "Email,Nome,Cognome,Ragione sociale,Tipo,Provincia,Partita IVA,Newsletter,Data consenso\n"
        "a@example.it,A,Uno,,alieno,,,,\n"
        "b@example.it,B,Due,,,Cremona,,,\n"
        "c@example.it,C,Tre,,,,123,,\n"
        "d@example.it,D,Quattro,,,,,forse,\n"
        "e@example.it,E,Cinque,,,,,sì,ieri\n"
        "f@example.it,,,,ente,,,,\n"
        "g@example.it,,,Ente G,,,,,\n"
    )
    job = _job(path, preset="generic")
    importing.check(job.id)
    assert _outcomes(job.id, dry_run=True) == {
        2: ("reject", "bad_kind:alieno"),
        3: ("reject", "bad_province:Cremona"),
        4: ("reject", "bad_partita_iva"),
        5: ("reject", "bad_consent:forse"),
        6: ("reject", "bad_time:ieri"),
        7: ("reject", "missing_name"),
        8: ("create", ""),
    }


def test_unreadable_or_empty_files_and_bad_mappings_are_refused(app, tmp_path):
    from legami.validation import Invalid

    with pytest.raises(Invalid):
        importing.create_job("donors.xlsx", io.BytesIO(b"not a workbook"), "generic", None)
    with pytest.raises(Invalid):
        importing.create_job("empty.csv", io.BytesIO(b""), "generic", None)
    with pytest.raises(Invalid):
        importing.create_job("donors.pdf", io.BytesIO(b"%PDF"), "generic", None)
    assert list((Path(app.instance_path) / "imports").iterdir()) == []
    job = _job(MAILCHIMP)
    width = len(job.mapping["columns"])
    for columns in (["ignore"] * width, ["email", "email", *["ignore"] * (width - 2)], ["email"]):
        with pytest.raises(Invalid):
            importing.set_mapping(job, {"columns": columns, "status": "rows", "timezone": "UTC"})


# Command line ----------------------------------------------------------------------------------


def test_cli_dry_run_then_import(app, existing):
    runner = app.test_cli_runner()
    before = _snapshot()
    checked = runner.invoke(
        args=["donors", "import", str(MAILCHIMP), "--preset", "mailchimp", "--dry-run"]
    )
    assert checked.exit_code == 0, checked.output
    assert "4 would be created, 2 updated, 5 skipped, 5 rejected" in checked.output
    assert "row 9 reject:" in checked.output
    db.session.expire_all()
    assert _snapshot() == before
    ignore_cf = ["--mapping", json.dumps({"Codice fiscale": "ignore"})]
    args = ["donors", "import", str(MAILCHIMP), "--preset", "mailchimp", *ignore_cf]
    done = runner.invoke(args=args)
    assert done.exit_code == 0, done.output
    assert "Codice fiscale -> ignore" in done.output
    assert "5 were created, 2 updated, 5 skipped, 4 rejected" in done.output
    assert db.session.scalar(select(Donor).where(Donor.email == "anna.colombo@example.it"))
    again = runner.invoke(args=args)
    assert "0 were created, 0 updated, 12 skipped, 4 rejected" in again.output
    wrong = runner.invoke(args=["donors", "import", str(MAILCHIMP), "--mapping", "{nope"])
    assert wrong.exit_code != 0
    unknown = runner.invoke(
        args=["donors", "import", str(MAILCHIMP), "--mapping", '{"Nope": "email"}']
    )
    assert unknown.exit_code != 0 and "no such column" in unknown.output


# Staff pages -----------------------------------------------------------------------------------


def test_staff_upload_map_check_and_run(app, client, login, existing):
    user = login("staff")
    page = client.get("/staff/imports?lang=en")
    assert page.status_code == 200
    assert 'href="/staff/imports"' in page.text  # the menu entry
    uploaded = client.post(
        "/staff/imports",
        data={"file": (io.BytesIO(MAILCHIMP.read_bytes()), "audience.csv"), "preset": "mailchimp"},
        content_type="multipart/form-data",
    )
    assert uploaded.status_code == 302, uploaded.text
    job = db.session.scalar(select(ImportJob))
    assert uploaded.headers["Location"].endswith(f"/staff/imports/{job.id}/mapping")
    assert job.created_by_id == user.id

    mapping = client.get(f"/staff/imports/{job.id}/mapping")
    assert mapping.status_code == 200
    assert "Email Address" in mapping.text and "giulia.bianchi@example.it" not in mapping.text
    assert "Giulia.Bianchi@Example.it" in mapping.text  # the first values, as in the file
    form = {f"columns-{i}": target for i, target in enumerate(job.mapping["columns"])}
    no_email = {**form, "columns-0": "ignore", "status": "subscribed", "timezone": "UTC"}
    refused = client.post(f"/staff/imports/{job.id}/mapping", data=no_email)
    assert refused.status_code == 422
    assert "One column must hold the e-mail address." in refused.text
    checked = client.post(
        f"/staff/imports/{job.id}/mapping", data={**form, "status": "subscribed", "timezone": "UTC"}
    )
    assert checked.status_code == 302
    report = client.get(f"/staff/imports/{job.id}")
    assert report.status_code == 200
    assert "Same e-mail as row 2" in report.text
    assert "Not a valid codice fiscale" in report.text
    rejected = client.get(f"/staff/imports/{job.id}?outcome=reject")
    assert "Not a valid codice fiscale" in rejected.text
    assert "Same e-mail as row 2" not in rejected.text
    assert _count(Donor) == 4

    started = client.post(f"/staff/imports/{job.id}/run")
    assert started.status_code == 302
    # The request only queued the run; a worker does it and the page reads the rows.
    assert client.get(f"/staff/imports/{job.id}/status").get_json()["status"] == "running"
    assert _count(Donor) == 4
    assert jobs.run_due_jobs() == 1
    run_job = db.session.scalar(select(Job).where(Job.kind == importing.JOB_KIND))
    assert (run_job.status, run_job.started_by_id, run_job.done) == ("done", user.id, 16)
    assert run_job.result == {"created": 4, "updated": 2, "skipped": 5, "rejected": 5}
    status = client.get(f"/staff/imports/{job.id}/status").get_json()
    assert status["status"] == "done"
    assert (status["processed_rows"], status["total_rows"]) == (16, 16)
    assert (status["created"], status["updated"], status["skipped"]) == (4, 2, 5)
    assert _count(Donor) == 8
    assert _outcomes(job.id, dry_run=False) == EXPECTED
    done = client.get(f"/staff/imports/{job.id}")
    assert "What the import did" in done.text and "Import now" not in done.text
    assert "See the dry run" in done.text
    assert client.get(f"/staff/imports/{job.id}?run=dry").status_code == 200
    # A done import neither runs again nor changes its columns.
    assert client.post(f"/staff/imports/{job.id}/run").status_code == 302
    assert jobs.run_due_jobs() == 0
    assert client.get(f"/staff/imports/{job.id}/mapping").status_code == 302
    assert _count(ImportRow) == 32


def test_running_page_polls_and_refreshes_without_js(app, client, login):
    login("staff")
    job = _job(MAILCHIMP)
    job.status = "running"
    db.session.commit()
    page = client.get(f"/staff/imports/{job.id}")
    assert 'http-equiv="refresh"' in page.text and "js/import.js" in page.text
    assert f'data-poll="/staff/imports/{job.id}/status"' in page.text


def test_bad_uploads_re_render(app, client, login):
    login("staff")
    client.get("/staff/imports?lang=en")
    wrong = client.post(
        "/staff/imports",
        data={"file": (io.BytesIO(b"%PDF"), "lista.pdf"), "preset": "generic"},
        content_type="multipart/form-data",
    )
    assert wrong.status_code == 422
    assert "Upload a CSV or XLSX file." in wrong.text
    broken = client.post(
        "/staff/imports",
        data={"file": (io.BytesIO(b"PK\x03\x04 broken"), "lista.xlsx"), "preset": "generic"},
        content_type="multipart/form-data",
    )
    assert broken.status_code == 422
    assert _count(ImportJob) == 0


@pytest.mark.parametrize(
    ("role", "allowed"), [("staff", True), ("admin", True), ("treasurer", False)]
)
def test_import_pages_need_the_staff_role(app, client, login, role, allowed):
    job = _job(MAILCHIMP)
    urls = ["/staff/imports", f"/staff/imports/{job.id}", f"/staff/imports/{job.id}/mapping"]
    urls.append(f"/staff/imports/{job.id}/status")
    for url in urls:
        assert "/staff/login" in client.get(url).headers["Location"]
    assert "/staff/login" in client.post(f"/staff/imports/{job.id}/run").headers["Location"]
    login(role)
    for url in urls:
        assert client.get(url).status_code == (200 if allowed else 403), url
    assert (client.post(f"/staff/imports/{job.id}/run").status_code == 403) is not allowed
    menu = client.get("/staff/imports" if allowed else "/staff/").text
    assert ('href="/staff/imports"' in menu) is allowed

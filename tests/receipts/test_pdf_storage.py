"""Receipt PDFs: stored once with their hash, served identical, never re-rendered; resources
load only from Legami's own folders."""

import hashlib
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import select
from weasyprint.urls import URLFetcher

from legami.config import ROOT
from legami.extensions import db
from receipts import issuing, pdf
from receipts.models import Receipt
from tests import factories
from tests.receipts.conftest import card_gift, pdf_text


@pytest.fixture
def receipt(webhooks, client):
    campaign = factories.campaign(pacts=[factories.pact()])
    card_gift(client, campaign, donor=factories.donor(codice_fiscale="RSSMRA85T10A562S"))
    return db.session.scalar(select(Receipt))


def test_a_redownload_is_the_same_file(client, login, receipt):
    login("staff")
    first = client.get(f"/staff/receipts/{receipt.id}/pdf")
    assert first.status_code == 200 and first.mimetype == "application/pdf"
    assert first.headers["Content-Disposition"].startswith('inline; filename="ricevuta-')
    db.session.expire_all()
    stored = db.session.get(Receipt, receipt.id)
    assert hashlib.sha256(first.data).hexdigest() == stored.pdf_sha256
    instance = Path(client.application.instance_path)
    path = instance / stored.pdf_path
    assert path.parent == instance / "receipts" / str(stored.organisation_id) / str(stored.year)
    assert path.read_bytes() == first.data
    again = client.get(f"/staff/receipts/{receipt.id}/pdf")
    assert again.data == first.data
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]  # rendered once


def test_the_scheduler_job_stores_what_is_due(app, receipt):
    assert pdf.render_due() == 1
    db.session.expire_all()
    stored = db.session.get(Receipt, receipt.id)
    assert stored.pdf_path and stored.voided_pdf_path is None
    assert pdf.render_due() == 0
    issuing.void(stored, "Errore di intestazione", None)
    db.session.commit()
    assert pdf.render_due() == 1
    db.session.expire_all()
    stored = db.session.get(Receipt, receipt.id)
    assert stored.voided_pdf_path and stored.voided_pdf_sha256 != stored.pdf_sha256
    assert "ANNULLATA" in pdf_text(pdf.stored_bytes(stored, pdf.Variant.VOIDED))
    assert "ANNULLATA" not in pdf_text(pdf.stored_bytes(stored))


def test_a_changed_file_is_refused_not_rerendered(app, receipt):
    data = pdf.stored_bytes(receipt)
    path = Path(app.instance_path) / receipt.pdf_path
    path.write_bytes(data + b"%tampered")
    with pytest.raises(pdf.TamperedPdf):
        pdf.stored_bytes(receipt)


def test_one_font_configuration_and_stylesheet_per_process(app, receipt):
    pdf.render(receipt)
    fonts, css = pdf._shared["fonts"], pdf._shared["css"]
    pdf.render(receipt)
    assert pdf._shared["fonts"] is fonts and pdf._shared["css"] is css


def test_the_fetcher_reads_only_legami_folders():
    fetcher = pdf.LocalFetcher(pdf.STATIC)
    assert isinstance(fetcher, URLFetcher)
    font = (ROOT / "static" / "fonts" / "DejaVuSans.ttf").as_uri()
    response = fetcher.fetch(font)
    assert response.read(4) == b"\x00\x01\x00\x00"
    response.close()
    for refused in (
        "https://fonts.example.org/font.woff2",
        "http://127.0.0.1:9/logo.png",
        Path("/etc/hostname").as_uri(),
        (ROOT / "static" / ".." / "legami" / "config.py").as_uri(),
    ):
        with pytest.raises(ValueError):
            fetcher.fetch(refused)
    assert (ROOT / "static" / "fonts" / "LICENSE-DejaVu.txt").exists()


def test_logo_and_signature_are_printed(webhooks, client, tmp_path):
    upload = Path(client.application.config["UPLOAD_FOLDER"])
    (upload / "logo.png").write_bytes(factories.image_bytes())
    (upload / "firma.png").write_bytes(factories.image_bytes(size=(120, 40)))
    org = factories.organisation(logo="logo.png")
    issuing.settings_for(org.id).signature = "firma.png"
    db.session.commit()
    campaign = factories.campaign(organisation=org)
    card_gift(client, campaign)
    path = tmp_path / "receipt.pdf"
    path.write_bytes(pdf.stored_bytes(db.session.scalar(select(Receipt))))
    images = subprocess.run(
        ["pdfimages", "-list", str(path)], capture_output=True, check=True
    ).stdout.decode()
    sizes = {tuple(line.split()[3:5]) for line in images.splitlines()[2:]}
    assert {("64", "36"), ("120", "40")} <= sizes

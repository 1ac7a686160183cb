"""Receipts an archivist accepts: PDF/A-3b files (metadata, output intent, embedded fonts),
written once and read-only, checked daily against their hashes, and sealed with the
organisation's certificate (PAdES, pyHanko), with a timestamp from a time-stamping authority
when one is set (a real RFC 3161 server on loopback, answering with pyHanko's test TSA)."""

import asyncio
import hashlib
import io
import os
import stat
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pikepdf
import pytest
from asn1crypto import keys as asn1_keys
from asn1crypto import tsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import signers
from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext
from sqlalchemy import func, select

from legami.audit import AuditEntry
from legami.extensions import db
from receipts import archive, issuing, pdf, seal
from receipts.models import Receipt
from tests import factories
from tests.receipts.conftest import card_gift

PASSWORD = "segreto-della-firma"


def _certificate(common_name: str, timestamping: bool = False):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.now(UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
    )
    if timestamping:
        builder = builder.add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True
        )
    return key, builder.sign(key, hashes.SHA256())


def _pkcs12(password: str = PASSWORD) -> tuple[bytes, x509.Certificate]:
    key, cert = _certificate("Amici del Quartiere ODV - sigillo")
    data = pkcs12.serialize_key_and_certificates(
        b"sigillo", key, cert, None, serialization.BestAvailableEncryption(password.encode())
    )
    return data, cert


def _asn1(cert: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))


@pytest.fixture
def tsa():
    """An RFC 3161 time-stamping authority on loopback: POST a TimeStampReq, get a response."""
    key, cert = _certificate("Legami test TSA", timestamping=True)
    stamper = DummyTimeStamper(
        tsa_cert=_asn1(cert),
        tsa_key=asn1_keys.PrivateKeyInfo.load(
            key.private_bytes(
                serialization.Encoding.DER,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        ),
    )
    requests = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            requests.append(self.headers["Content-Type"])
            answer = stamper.request_tsa_response(tsp.TimeStampReq.load(body)).dump()
            self.send_response(200)
            self.send_header("Content-Type", "application/timestamp-reply")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield {"url": f"http://127.0.0.1:{server.server_port}/tsa", "cert": cert, "requests": requests}
    server.shutdown()
    server.server_close()


def _receipt(client) -> Receipt:
    org = factories.organisation(name="Amici del Quartiere ODV", entity_type="odv")
    card_gift(client, factories.campaign(organisation=org))
    return db.session.scalar(select(Receipt))


def _upload(client, org_id: int, data: bytes, password: str = PASSWORD, tsa_url: str = ""):
    return client.post(
        f"/staff/receipts/settings/{org_id}/seal?lang=en",
        data={
            "seal_file": (io.BytesIO(data), "sigillo.p12"),
            "seal_password": password,
            "tsa_url": tsa_url,
        },
        content_type="multipart/form-data",
    )


def _fonts(doc: pikepdf.Pdf):
    for page in doc.pages:
        for font in page.Resources.get("/Font", {}).values():
            if font.Subtype == "/Type0":
                font = font.DescendantFonts[0]
            yield font


def test_receipts_are_pdf_a_3b_with_their_metadata(webhooks, client):
    receipt = _receipt(client)
    data = pdf.stored_bytes(receipt)
    with pikepdf.open(io.BytesIO(data)) as doc:
        meta = doc.open_metadata()
        assert meta["pdfaid:part"] == "3" and meta["pdfaid:conformance"] == "B"
        assert meta["dc:title"] == f"Ricevuta n. {receipt.display_number} - Amici del Quartiere ODV"
        assert "Amici del Quartiere ODV" in str(meta["dc:creator"])
        created = datetime.fromisoformat(meta["xmp:CreateDate"])
        assert abs(created - receipt.issued_at) < timedelta(seconds=1)
        assert str(doc.Root.Lang) == "it"
        (intent,) = doc.Root.OutputIntents
        assert intent.S == "/GTS_PDFA1" and "/DestOutputProfile" in intent
        fonts = list(_fonts(doc))
        assert fonts
        for font in fonts:
            descriptor = font.FontDescriptor
            assert {"/FontFile", "/FontFile2", "/FontFile3"} & set(descriptor.keys()), font


def test_stored_files_are_read_only_and_never_replaced(webhooks, client, app):
    receipt = _receipt(client)
    data = pdf.stored_bytes(receipt)
    path = Path(app.instance_path) / receipt.pdf_path
    assert stat.S_IMODE(path.stat().st_mode) == 0o444
    if os.geteuid() != 0:  # root may write whatever the mode says
        with pytest.raises(PermissionError):
            path.open("r+b")
    archive.write_once(receipt.pdf_path, data)  # the same bytes again: nothing to do
    with pytest.raises(archive.AlreadyStored):
        archive.write_once(receipt.pdf_path, data + b"%changed")
    assert path.read_bytes() == data
    assert not [p for p in path.parent.iterdir() if p.suffix == ".part"]


def test_the_integrity_job_reports_changed_and_missing_files(webhooks, client, app, login):
    receipt = _receipt(client)
    second = card_gift(client, receipt.donation.campaign)
    pdf.render_due()
    db.session.expire_all()
    check = archive.check_all()
    assert (check.files_checked, check.problems) == (2, [])

    changed = Path(app.instance_path) / receipt.pdf_path
    os.chmod(changed, 0o644)  # what someone with access to the disk could do
    changed.write_bytes(changed.read_bytes() + b"%altered")
    missing = db.session.scalar(select(Receipt).where(Receipt.donation_id == second.id))
    (Path(app.instance_path) / missing.pdf_path).unlink()
    check = archive.check_all()
    found = {(p["number"], p["file"], p["problem"]) for p in check.problems}
    assert found == {
        (receipt.display_number, "original", "changed"),
        (missing.display_number, "original", "missing"),
    }
    audited = db.session.scalar(
        select(func.count())
        .select_from(AuditEntry)
        .where(AuditEntry.action == "receipts.archive.mismatch")
    )
    assert audited == 2
    assert "receipts.check_archive" in {job[0] for job in app.extensions["legami.jobs"]}

    login("treasurer")
    page = client.get("/staff/receipts/archive?lang=en")
    assert page.status_code == 200
    assert receipt.display_number in page.text and missing.display_number in page.text
    assert "changed" in page.text and "missing" in page.text
    result = app.test_cli_runner().invoke(args=["receipts", "check-archive"])
    assert result.exit_code == 1 and "2 missing or changed" in result.output


def test_a_sealed_receipt_validates_against_the_certificate(webhooks, client, login):
    org = factories.organisation(name="Amici del Quartiere ODV", entity_type="odv")
    data, cert = _pkcs12()
    login("treasurer")
    refused = _upload(client, org.id, data, password="sbagliata")
    assert refused.status_code == 422 and "cannot be opened" in refused.text
    assert issuing.settings_for(org.id).seal_certificate is None
    db.session.commit()
    assert _upload(client, org.id, b"not a certificate").status_code == 422
    answer = _upload(client, org.id, data)
    assert answer.status_code == 302
    db.session.expire_all()
    settings = issuing.settings_for(org.id)
    assert settings.seal_certificate and "sigillo" in settings.seal_subject
    stored = Path(client.application.instance_path) / seal.FOLDER / settings.seal_certificate
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600
    assert PASSWORD.encode() not in stored.read_bytes()
    assert not settings.tsa_url

    card_gift(client, factories.campaign(organisation=org))
    receipt = db.session.scalar(select(Receipt))
    signed = pdf.stored_bytes(receipt)
    (embedded,) = PdfFileReader(io.BytesIO(signed)).embedded_signatures
    assert embedded.field_name == seal.FIELD
    assert embedded.sig_object["/SubFilter"] == "/ETSI.CAdES.detached"
    status = validate_pdf_signature(
        embedded, ValidationContext(trust_roots=[_asn1(cert)], allow_fetching=False)
    )
    assert status.intact and status.valid and status.trusted
    assert status.coverage.name == "ENTIRE_FILE"
    assert status.timestamp_validity is None  # no authority configured
    with pikepdf.open(io.BytesIO(signed)) as doc:  # still PDF/A after the seal
        assert doc.open_metadata()["pdfaid:part"] == "3"


def test_the_templated_seal_is_the_container_pyhanko_builds():
    data, _ = _pkcs12()
    loaded = signers.SimpleSigner.load_pkcs12_data(data, [], passphrase=PASSWORD.encode())
    fast = seal.FastSigner(
        signing_cert=loaded.signing_cert,
        signing_key=loaded.signing_key,
        cert_registry=loaded.cert_registry,
    )
    for document in (b"ricevuta 1", b"ricevuta 2"):
        digest = hashlib.sha256(document).digest()
        mine = asyncio.run(fast.async_sign(digest, "sha256", use_pades=True))
        pyhanko = asyncio.run(
            signers.SimpleSigner.async_sign(fast, digest, "sha256", use_pades=True)
        )
        assert mine.dump() == pyhanko.dump()


def test_the_seal_carries_the_authoritys_timestamp(webhooks, client, login, tsa):
    org = factories.organisation(name="Amici del Quartiere ODV", entity_type="odv")
    data, cert = _pkcs12()
    login("treasurer")
    assert _upload(client, org.id, data, tsa_url=tsa["url"]).status_code == 302
    db.session.expire_all()
    settings = issuing.settings_for(org.id)
    assert settings.tsa_url == tsa["url"]
    assert seal.timestamper(settings).url == tsa["url"]

    card_gift(client, factories.campaign(organisation=org))
    signed = pdf.stored_bytes(db.session.scalar(select(Receipt)))
    assert "application/timestamp-query" in tsa["requests"]
    (embedded,) = PdfFileReader(io.BytesIO(signed)).embedded_signatures
    context = ValidationContext(trust_roots=[_asn1(cert), _asn1(tsa["cert"])], allow_fetching=False)
    status = validate_pdf_signature(embedded, context, ts_validation_context=context)
    assert status.intact and status.valid
    assert status.timestamp_validity is not None and status.timestamp_validity.intact
    assert abs(status.timestamp_validity.timestamp - datetime.now(UTC)) < timedelta(minutes=5)


def test_removing_the_certificate_stops_sealing(webhooks, client, login):
    org = factories.organisation()
    data, _ = _pkcs12()
    login("treasurer")
    assert _upload(client, org.id, data).status_code == 302
    answer = client.post(
        f"/staff/receipts/settings/{org.id}/seal", data={"remove_seal": "y", "tsa_url": ""}
    )
    assert answer.status_code == 302
    db.session.expire_all()
    assert issuing.settings_for(org.id).seal_certificate is None
    card_gift(client, factories.campaign(organisation=org))
    unsealed = pdf.stored_bytes(db.session.scalar(select(Receipt)))
    assert PdfFileReader(io.BytesIO(unsealed)).embedded_signatures == []

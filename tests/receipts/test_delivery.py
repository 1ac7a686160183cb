"""Receipt delivery: mailed after the thank-you or attached to it (through a real SMTP
server), re-sent by staff and after a partial refund; the donor portal's receipts; the API."""

import hashlib
from email.message import EmailMessage

import pytest
from sqlalchemy import select, update

from legami.extensions import db
from legami.timeutil import now_utc
from mailing.models import MailJob
from receipts import issuing, pdf
from receipts.models import Delivery, Receipt
from tests import factories
from tests.conftest import deliver_queued
from tests.donors.test_api import bearer
from tests.donors.test_portal import portal_login
from tests.receipts.conftest import card_gift, pdf_text, refund


def _campaign(delivery: Delivery):
    campaign = factories.campaign(pacts=[factories.pact()])
    issuing.settings_for(campaign.organisation_id).delivery = delivery
    db.session.commit()
    return campaign


def _pdfs(message: EmailMessage) -> list[tuple[str, bytes]]:
    return [
        (part.get_filename(), part.get_content())
        for part in message.iter_attachments()
        if part.get_content_type() == "application/pdf"
    ]


def _due_now() -> None:
    """Waiting mails due at once, as if their 30 seconds had passed."""
    db.session.execute(update(MailJob).values(not_before=now_utc()))
    db.session.commit()


def _receipt() -> Receipt:
    db.session.expire_all()
    return db.session.scalar(select(Receipt).where(Receipt.status == "issued"))


def test_after_policy_mails_the_receipt_after_the_thank_you(app, webhooks, client, smtp_server):
    campaign = _campaign(Delivery.AFTER)
    card_gift(client, campaign, donor=factories.donor(email="ada@example.org", language="en"))
    deliver_queued(app)  # the PDF is not stored yet: the thank-you goes, the receipt waits
    [thanks] = smtp_server.messages
    assert thanks["Subject"].startswith("Thank you") and _pdfs(thanks) == []

    pdf.render_due()
    _due_now()
    deliver_queued(app)
    [_, mail] = smtp_server.messages
    receipt = _receipt()
    assert mail["To"] == "ada@example.org"
    assert (
        mail["Subject"]
        == f"Your receipt {receipt.display_number} from {campaign.organisation.name}"
    )
    assert receipt.display_number in mail.get_body(("plain",)).get_content()
    [(name, data)] = _pdfs(mail)
    assert name == f"ricevuta-{receipt.display_number.replace('/', '-')}.pdf"
    assert data == pdf.stored_bytes(receipt)
    assert receipt.display_number in pdf_text(data)

    deliver_queued(app)
    assert len(smtp_server.messages) == 2  # sent once


def test_attach_policy_thank_you_waits_for_the_receipt_and_carries_it(
    app, webhooks, client, smtp_server
):
    campaign = _campaign(Delivery.ATTACH)
    donation = card_gift(client, campaign)
    deliver_queued(app)
    assert smtp_server.messages == []  # receipt issued, PDF not stored: the thank-you waits

    pdf.render_due()
    _due_now()
    deliver_queued(app)
    [thanks] = smtp_server.messages
    receipt = _receipt()
    assert receipt.donation_id == donation.id
    assert receipt.display_number in thanks.get_body(("plain",)).get_content()
    [(name, data)] = _pdfs(thanks)
    assert name.startswith("ricevuta-") and receipt.display_number in pdf_text(data)
    assert data == pdf.stored_bytes(receipt)
    assert db.session.scalar(select(MailJob).where(MailJob.kind == "receipt")) is None


def test_attach_policy_without_a_receipt_thanks_at_once(app, webhooks, client, smtp_server):
    campaign = _campaign(Delivery.ATTACH)
    issuing.settings_for(campaign.organisation_id).threshold_cents = 10_000
    db.session.commit()
    card_gift(client, campaign, amount_cents=2000)  # under the threshold: no receipt
    deliver_queued(app)
    [thanks] = smtp_server.messages
    assert _pdfs(thanks) == []


def test_a_partial_refund_mails_the_new_receipt(app, webhooks, client, smtp_server):
    campaign = _campaign(Delivery.ATTACH)
    donation = card_gift(client, campaign, amount_cents=5000)
    pdf.render_due()
    deliver_queued(app)
    first = _receipt()
    refund(client, donation, 2000)
    pdf.render_due()
    deliver_queued(app)
    [_, mail] = smtp_server.messages
    second = _receipt()
    assert second.replaces_id == first.id and second.amount_cents == 3000
    [(_, data)] = _pdfs(mail)
    text = pdf_text(data)
    assert second.display_number in text
    assert first.display_number in mail.get_body(("plain",)).get_content()


def test_staff_send_a_receipt_again(app, webhooks, client, login, smtp_server):
    campaign = _campaign(Delivery.AFTER)
    card_gift(client, campaign)
    pdf.render_due()
    deliver_queued(app)
    assert len(smtp_server.messages) == 2
    receipt = _receipt()
    login("staff")
    page = client.get(f"/staff/receipts/{receipt.id}")
    assert f"/staff/receipts/{receipt.id}/send" in page.text
    response = client.post(f"/staff/receipts/{receipt.id}/send")
    assert response.status_code == 302
    deliver_queued(app)
    assert len(smtp_server.messages) == 3
    assert _pdfs(smtp_server.messages[2])[0][1] == pdf.stored_bytes(receipt)


@pytest.fixture
def two_donors_receipts(webhooks, client):
    campaign = _campaign(Delivery.AFTER)
    mine = factories.donor(email="mine@example.org")
    other = factories.donor(email="other@example.org")
    kept = card_gift(client, campaign, amount_cents=4000, donor=mine)
    refunded = card_gift(client, campaign, amount_cents=3000, donor=mine)
    card_gift(client, campaign, amount_cents=2500, donor=other)
    refund(client, refunded, 3000)  # voided, kept on file
    receipts = db.session.scalars(select(Receipt).order_by(Receipt.id)).all()
    assert [r.donation_id for r in receipts] == [kept.id, refunded.id, receipts[2].donation_id]
    return mine, receipts


def test_portal_lists_only_own_receipts_and_serves_the_stored_bytes(
    app, client, two_donors_receipts
):
    mine, receipts = two_donors_receipts
    portal_login(app, client, mine)
    page = client.get("/portal/ricevute")
    assert page.status_code == 200
    assert receipts[0].display_number in page.text and receipts[1].display_number in page.text
    assert receipts[2].display_number not in page.text
    assert 'href="/portal/ricevute"' in client.get("/portal/inizio").text  # in the menu

    first = client.get(f"/portal/ricevute/{receipts[0].id}.pdf")
    assert first.status_code == 200 and first.mimetype == "application/pdf"
    again = client.get(f"/portal/ricevute/{receipts[0].id}.pdf")
    db.session.expire_all()
    assert first.data == again.data == pdf.stored_bytes(db.session.get(Receipt, receipts[0].id))
    voided = client.get(f"/portal/ricevute/{receipts[1].id}.pdf")
    assert "ANNULLATA" in pdf_text(voided.data)
    assert client.get(f"/portal/ricevute/{receipts[2].id}.pdf").status_code == 404


def test_portal_receipts_need_a_portal_session(client):
    response = client.get("/portal/ricevute")
    assert response.status_code == 302 and response.location.endswith("/portal")


def test_api_lists_receipts_and_serves_pdfs(client, two_donors_receipts):
    _, receipts = two_donors_receipts
    headers = bearer("treasurer")
    listed = client.get("/api/v1/receipts", headers=headers)
    assert listed.status_code == 200 and listed.json["total"] == 3
    assert {r["number"] for r in listed.json["items"]} == {r.display_number for r in receipts}

    voided = client.get("/api/v1/receipts?status=voided", headers=headers).json
    assert [r["id"] for r in voided["items"]] == [receipts[1].id]
    year = receipts[0].year
    assert client.get(f"/api/v1/receipts?year={year}", headers=headers).json["total"] == 3
    assert client.get(f"/api/v1/receipts?year={year - 1}", headers=headers).json["total"] == 0
    org = receipts[0].organisation_id
    assert client.get(f"/api/v1/receipts?organisation={org}", headers=headers).json["total"] == 3
    assert client.get("/api/v1/receipts?organisation=999999", headers=headers).json["total"] == 0
    bad = client.get("/api/v1/receipts?status=lost", headers=headers)
    assert bad.status_code == 400 and bad.mimetype == "application/problem+json"
    paged = client.get("/api/v1/receipts?per_page=2&page=2", headers=headers).json
    assert (paged["pages"], len(paged["items"])) == (2, 1)

    item = next(r for r in listed.json["items"] if r["id"] == receipts[0].id)
    data = client.get(item["pdf_url"].removeprefix("http://localhost"), headers=headers)
    assert data.status_code == 200 and data.mimetype == "application/pdf"
    assert receipts[0].display_number in pdf_text(data.data)
    assert data.data == client.get(f"/api/v1/receipts/{receipts[0].id}/pdf", headers=headers).data
    assert client.get("/api/v1/receipts/999999/pdf", headers=headers).status_code == 404


@pytest.mark.parametrize("path", ["/api/v1/receipts", "/api/v1/receipts/1/pdf"])
def test_api_needs_a_staff_or_treasurer_token(client, path):
    assert client.get(path).status_code == 401
    assert client.get(path, headers={"Authorization": "Bearer nope"}).status_code == 401
    assert client.get(path, headers=bearer()).status_code == 403
    assert client.get(path, headers=bearer("staff")).status_code in (200, 404)


def test_the_receipt_paths_are_documented(client):
    spec = client.get("/api/v1/openapi.json").json
    assert "get" in spec["paths"]["/receipts"]
    assert "get" in spec["paths"]["/receipts/{receipt_id}/pdf"]
    assert "ReceiptPage" in spec["components"]["schemas"]


@pytest.mark.parametrize("say_copy", [True, False])
def test_downloads_are_one_identical_file_marked_copia_only_when_wanted(
    app, webhooks, client, login, smtp_server, say_copy
):
    campaign = _campaign(Delivery.ATTACH)
    issuing.settings_for(campaign.organisation_id).say_copy_on_redownload = say_copy
    db.session.commit()
    donor = factories.donor(email="ada@example.org")
    card_gift(client, campaign, donor=donor)
    pdf.render_due()
    _due_now()
    deliver_queued(app)
    [(_, mailed)] = _pdfs(smtp_server.messages[0])
    assert "COPIA" not in pdf_text(mailed)

    receipt = _receipt()
    portal_login(app, client, donor)
    downloads = [client.get(f"/portal/ricevute/{receipt.id}.pdf").data for _ in range(2)]
    downloads.append(client.get(f"/api/v1/receipts/{receipt.id}/pdf", headers=bearer("staff")).data)
    login("treasurer")
    downloads.append(client.get(f"/staff/receipts/{receipt.id}/pdf").data)
    receipt = _receipt()
    assert all(data == downloads[0] for data in downloads)
    digest = hashlib.sha256(downloads[0]).hexdigest()
    text = pdf_text(downloads[0])
    assert receipt.display_number in text
    if say_copy:
        assert "COPIA" in text and digest == receipt.copy_pdf_sha256 != receipt.pdf_sha256
        assert pdf_text(mailed) in text.replace("COPIA ", "")  # the same receipt, marked
    else:
        assert "COPIA" not in text and downloads[0] == mailed
        assert digest == receipt.pdf_sha256 and receipt.copy_pdf_path is None


def test_a_voided_receipt_downloads_as_its_annullata_file_even_with_copies(
    app, webhooks, client, login
):
    campaign = factories.campaign()
    issuing.settings_for(campaign.organisation_id).say_copy_on_redownload = True
    db.session.commit()
    card_gift(client, campaign)
    issuing.void(_receipt(), "Errore", None)
    db.session.commit()
    receipt = db.session.scalar(select(Receipt))
    login("treasurer")
    voided = client.get(f"/staff/receipts/{receipt.id}/pdf").data
    assert voided == client.get(f"/staff/receipts/{receipt.id}/pdf").data
    assert hashlib.sha256(voided).hexdigest() == receipt.voided_pdf_sha256
    assert "ANNULLATA" in pdf_text(voided) and "COPIA" not in pdf_text(voided)

"""The treasurer's receipt pages: list and filters, detail, download, void."""

from sqlalchemy import select

from legami.extensions import db
from receipts.models import Receipt
from tests import factories
from tests.receipts.conftest import card_gift, pdf_text


def _two_receipts(client):
    campaign = factories.campaign()
    with_code = factories.donor(last_name="Conti", codice_fiscale="RSSMRA85T10A562S")
    without = factories.donor(last_name="Senzacodice")
    card_gift(client, campaign, donor=with_code)
    card_gift(client, campaign, donor=without)
    return db.session.scalars(select(Receipt).order_by(Receipt.number)).all()


def test_list_detail_and_missing_codice_fiscale_filter(webhooks, client, login):
    first, second = _two_receipts(client)
    login("staff")
    page = client.get("/staff/receipts")
    assert page.status_code == 200
    assert first.display_number in page.text and second.display_number in page.text
    flagged = client.get("/staff/receipts?missing_tax_code=1")
    assert second.display_number in flagged.text
    assert first.display_number not in flagged.text
    detail = client.get(f"/staff/receipts/{second.id}")
    assert detail.status_code == 200 and "Senzacodice" in detail.text
    assert f"/staff/receipts/{second.id}/void" not in detail.text  # staff cannot void
    assert client.post(f"/staff/receipts/{second.id}/void", data={"reason": "x"}).status_code == 403


def test_the_treasurer_voids_with_a_reason(webhooks, client, login):
    first, _ = _two_receipts(client)
    login("treasurer")
    original = client.get(f"/staff/receipts/{first.id}/pdf").data
    refused = client.post(f"/staff/receipts/{first.id}/void", data={"reason": " "})
    assert refused.status_code == 422
    assert db.session.get(Receipt, first.id).status == "issued"
    done = client.post(f"/staff/receipts/{first.id}/void", data={"reason": "Donatore errato"})
    assert done.status_code == 302
    db.session.expire_all()
    voided = db.session.get(Receipt, first.id)
    assert (voided.status, voided.void_reason) == ("voided", "Donatore errato")
    marked = client.get(f"/staff/receipts/{first.id}/pdf")
    assert "ANNULLATA" in pdf_text(marked.data) and "Donatore errato" in pdf_text(marked.data)
    assert "annullata.pdf" in marked.headers["Content-Disposition"]
    assert client.get(f"/staff/receipts/{first.id}/pdf?original=1").data == original
    again = client.post(f"/staff/receipts/{first.id}/void", data={"reason": "di nuovo"})
    assert again.status_code == 422

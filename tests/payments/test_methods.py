"""Explicit payment methods and the one rule of what follows: each method recorded through
the offline-gift form gives a receipt that names it and says whether it is deductible, and
the precompilata data set holds exactly the traceable ones."""

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from legami.extensions import db
from legami.models import EntityType
from legami.timeutil import today_rome
from payments.methods import TRACEABLE, UNTRACEABLE, Method, is_deductible, is_traceable
from payments.models import Donation
from receipts import exports, issuing, pdf
from receipts.models import Receipt
from tests import factories
from tests.receipts.conftest import pdf_text

CF = "BNCGLI80A41D150R"  # a valid check character: the precompilata checks it
ART83 = "Erogazione liberale detraibile al 30% (art. 83, c. 1, D.Lgs. 117/2017"
NO_BENEFIT = "non detraibile né deducibile"
RECEIPT_TEXT = {
    Method.BANK_TRANSFER: "Bonifico bancario",
    Method.POSTAL: "Bollettino o vaglia postale",
    Method.PAYPAL: "PayPal",
    Method.SATISPAY: "Satispay",
    Method.CHEQUE: "Assegno",
    Method.CASH: "Versamento in contanti: non detraibile né deducibile.",
    Method.OTHER_UNTRACEABLE: (
        "Versamento con mezzo non tracciabile: non detraibile né deducibile."
    ),
}


def test_the_rule():
    assert {Method.CASH, Method.OTHER_UNTRACEABLE} == UNTRACEABLE
    assert set(TRACEABLE) | UNTRACEABLE == set(Method)
    for method in Method:
        assert is_traceable(method) == is_deductible(method) == (method not in UNTRACEABLE)
    assert not is_traceable("other") and not is_traceable("")


@pytest.fixture
def campaign():
    org = factories.organisation(entity_type=EntityType.APS, art83_eligible=True)
    return factories.campaign(organisation=org)


def _offline(client, campaign, method: str, amount: str = "40"):
    return client.post(
        "/staff/donations/offline?lang=en",
        data={
            "campaign_id": str(campaign.id),
            "method": method,
            "amount": amount,
            "received_on": today_rome().isoformat(),
            "first_name": "Giulia",
            "last_name": "Bianchi",
            "email": "giulia@example.org",
        },
    )


@pytest.mark.parametrize("method", list(RECEIPT_TEXT))
def test_each_method_from_form_to_receipt_and_precompilata(client, login, campaign, method):
    factories.donor(
        email="giulia@example.org", first_name="Giulia", last_name="Bianchi", codice_fiscale=CF
    )
    login("staff")
    assert _offline(client, campaign, method).status_code == 302
    gift = db.session.scalar(select(Donation))
    assert (gift.method, gift.deductible) == (method, is_deductible(method))

    db.session.commit()
    issuing.issue_due()
    receipt = db.session.scalar(select(Receipt))
    assert receipt.snapshot["gifts"][0]["deductible"] == is_deductible(method)
    text = pdf_text(pdf.stored_bytes(receipt))
    assert RECEIPT_TEXT[method] in text
    if is_deductible(method):
        assert ART83 in text and NO_BENEFIT not in text
    else:
        assert ART83 not in text and NO_BENEFIT in text

    rows = exports.precompilata_rows(today_rome().year, campaign.organisation_id)
    if is_traceable(method):
        assert rows[0] == [CF, "erogazione", today_rome().year, 4000]
    else:
        assert all(row[0] != CF for row in rows)


def test_a_card_gift_names_the_card_and_counts(client, campaign):
    """Cards are never entered by hand; Stripe's gifts keep the card wording and count."""
    donor = factories.donor(codice_fiscale=CF)
    gift = factories.donation(campaign=campaign, donor=donor, amount_cents=4000)
    issuing.issue_for_gift(gift.id)
    db.session.commit()
    text = pdf_text(pdf.stored_bytes(db.session.scalar(select(Receipt))))
    assert "Carta di pagamento" in text and ART83 in text
    rows = exports.precompilata_rows(today_rome().year, campaign.organisation_id)
    assert rows[0] == [CF, "erogazione", today_rome().year, 4000]


def test_the_form_offers_every_method_but_card_and_no_deductible_box(client, login):
    login("staff")
    page = client.get("/staff/donations/offline?lang=en").text
    for method in Method:
        assert (f'value="{method.value}"' in page) == (method != Method.CARD)
    assert "deductible" not in page.lower()
    assert _offline(client, factories.campaign(), "card").status_code == 422
    assert _offline(client, factories.campaign(), "other").status_code == 422
    assert db.session.scalar(select(Donation)) is None


@pytest.mark.parametrize(("method", "deductible"), [("cash", True), ("paypal", False)])
def test_the_schema_keeps_deductible_with_the_method(app, method, deductible):
    with pytest.raises(IntegrityError):
        factories.donation(method=method, deductible=deductible)
    db.session.rollback()


def test_a_gift_takes_its_deductible_flag_from_its_method(app):
    assert factories.donation(method=Method.SATISPAY).deductible is True
    assert factories.donation(method=Method.OTHER_UNTRACEABLE).deductible is False

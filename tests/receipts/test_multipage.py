"""Receipts longer than a page: an annual receipt with many gifts breaks its table across
A4 pages (header row repeated, pages numbered), keeps the legal text and signature together
at the end; a receipt for one gift stays one page."""

import subprocess
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from legami.extensions import db
from receipts import annual, pdf
from receipts.content import euros as format_money
from receipts.issuing import settings_for
from receipts.models import Kind, Policy, Receipt
from tests import factories
from tests.receipts.conftest import card_gift, pdf_info, squeeze

YEAR = 2025
GIFTS = 60


def euros(cents: int) -> str:
    return " ".join(format_money(cents).split())


def pages(data: bytes) -> list[str]:
    """Each page's text, whitespace folded (pdftotext, page by page)."""
    count = int(pdf_info(data)["Pages"])
    return [
        squeeze(
            subprocess.run(
                ["pdftotext", "-enc", "UTF-8", "-f", str(n), "-l", str(n), "-", "-"],
                input=data,
                capture_output=True,
                check=True,
            ).stdout.decode()
        )
        for n in range(1, count + 1)
    ]


def _annual_receipt(language: str) -> tuple[Receipt, list[int]]:
    org = factories.organisation(art83_eligible=True, legal_representative="Anna Bianchi")
    settings_for(org.id).policy = Policy.ANNUAL
    db.session.commit()
    campaign = factories.campaign(organisation=org, title="Doposcuola in via Roma")
    donor = factories.donor(codice_fiscale="RSSMRA85T10A562S", language=language)
    amounts = [1_000 + 17 * i for i in range(GIFTS)]
    for i, amount in enumerate(amounts):
        factories.donation(
            donor=donor,
            campaign=campaign,
            amount_cents=amount,
            received_on=date(YEAR, 1, 1) + timedelta(days=6 * i),
        )
    annual.issue_annual(YEAR, workers=1)
    db.session.expire_all()
    receipt = db.session.scalar(select(Receipt).where(Receipt.kind == Kind.ANNUAL))
    return receipt, amounts


@pytest.mark.parametrize("language", ["it", "en"])
def test_sixty_gifts_make_a_numbered_multi_page_receipt(app, language):
    receipt, amounts = _annual_receipt(language)
    assert len(receipt.gifts) == GIFTS and receipt.amount_cents == sum(amounts)
    texts = pages(pdf.stored_bytes(receipt))
    total = len(texts)
    assert total > 1
    whole = " ".join(texts)
    for i, amount in enumerate(amounts):
        day = date(YEAR, 1, 1) + timedelta(days=6 * i)
        assert euros(amount) in whole, (day, amount)
    assert whole.count("Carta di pagamento") == GIFTS
    assert euros(sum(amounts)) in texts[0]
    for n, text in enumerate(texts, start=1):
        assert f"pagina {n} di {total}" in text
        if language == "en":
            assert f"page {n} of {total}" in text
        assert receipt.display_number in text  # each page says which receipt it belongs to
    gift_pages = [t for t in texts if "Carta di pagamento" in t]
    assert len(gift_pages) > 1
    for text in gift_pages:  # the table's header row on each page it runs over
        assert "Data del versamento" in text and "Mezzo di pagamento" in text
    last = texts[-1]
    assert "Il legale rappresentante" in last and "Anna Bianchi" in last
    assert "erogazione liberale" in last  # the legal text kept with the signature
    [total_page] = [n for n, t in enumerate(texts) if "Totale detraibile o deducibile" in t]
    assert total_page == max(n for n, t in enumerate(texts) if "Carta di pagamento" in t)
    assert whole.count("Totale detraibile o deducibile") == 1  # once, after the last gift


def test_a_receipt_for_one_gift_stays_one_page(webhooks, client):
    campaign = factories.campaign(pacts=[factories.pact()])
    card_gift(client, campaign, donor=factories.donor(codice_fiscale="RSSMRA85T10A562S"))
    receipt = db.session.scalar(select(Receipt))
    data = pdf.stored_bytes(receipt)
    assert pdf_info(data)["Pages"] == "1"
    assert pdf_info(data)["Page size"].endswith("(A4)")
    [text] = pages(data)
    assert "pagina 1 di 1" in text

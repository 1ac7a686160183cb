"""The treasurer's exports: ZIP of PDFs, ledger, reconciliation, precompilata data set."""

import csv
import io
import zipfile
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from donors.models import DonorKind
from legami.extensions import db
from legami.models import AuditEntry
from legami.timeutil import today_rome
from payments.models import Donation, Method, Refund
from receipts import exports, issuing
from receipts.models import Receipt
from tests import factories
from tests.payments.conftest import deliver, event
from tests.receipts.conftest import card_gift, pdf_text, refund

CF = "RSSMRA85T10A562S"


# These tests read the pages' English wording.
pytestmark = pytest.mark.usefixtures("english")


def _rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=";"))


def _gifts(client):
    """Organisation A: two campaigns, a partial refund (void + reissue), a gift below its
    threshold (no receipt); organisation B: one gift that no export of A may hold."""
    org = factories.organisation()
    first = factories.campaign(organisation=org)
    second = factories.campaign(organisation=org)
    donor = factories.donor(codice_fiscale=CF)
    refunded = card_gift(client, first, 8000, donor=donor)
    refund(client, refunded, 3000)
    card_gift(client, first, 2000)
    card_gift(client, second, 4000)
    issuing.settings_for(org.id).threshold_cents = 1000
    db.session.commit()
    small = card_gift(client, second, 500)
    card_gift(client, factories.campaign(), 6000)
    return org, first, second, small


def _audited(action: str) -> int:
    return db.session.scalar(
        select(func.count()).select_from(AuditEntry).where(AuditEntry.action == action)
    )


def test_the_zip_holds_the_scope_s_pdfs_and_an_index(webhooks, client, login):
    org, _, second, _ = _gifts(client)
    year = today_rome().year
    login("treasurer")
    answer = client.get(
        f"/staff/receipts/exports/receipts.zip?year={year}&organisation={org.id}&lang=it"
    )
    assert answer.status_code == 200 and answer.mimetype == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(answer.data))
    receipts = db.session.scalars(
        select(Receipt).where(Receipt.organisation_id == org.id).order_by(Receipt.number)
    ).all()
    assert len(receipts) == 4  # voided 80 EUR, its 50 EUR reissue, 20 EUR, 40 EUR
    expected = [exports.file_name(r) for r in receipts]
    assert expected[0].endswith("-annullata.pdf")
    assert sorted(archive.namelist()) == sorted([*expected, "index.csv"])
    index = _rows(archive.read("index.csv").decode("utf-8-sig"))
    assert index[0] == exports.INDEX_HEADER
    assert [row[0] for row in index[1:]] == [r.display_number for r in receipts]
    assert [row[7] for row in index[1:]] == expected
    assert index[1][2] == "ricevuta per dono" and index[1][4] == CF
    assert index[1][5] == "80,00" and index[1][6] == "annullata"
    assert index[2][6] == "emessa"
    assert answer.headers["Content-Disposition"].endswith(f"ricevute-anno-{year}-ente-{org.id}.zip")
    assert "ANNULLATA" in pdf_text(archive.read(expected[0]))
    assert receipts[1].display_number in pdf_text(archive.read(expected[1]))
    assert _audited("receipts.export.zip") == 1
    english = client.get(f"/staff/receipts/exports/receipts.zip?year={year}&lang=en")
    assert english.headers["Content-Disposition"].endswith(f"receipts-year-{year}.zip")

    only_second = client.get(f"/staff/receipts/exports/receipts.zip?campaign={second.id}")
    names = zipfile.ZipFile(io.BytesIO(only_second.data)).namelist()
    assert names == [exports.file_name(receipts[3]), "index.csv"]


def test_the_cli_writes_the_zip(webhooks, client, app, tmp_path):
    org, first, *_ = _gifts(client)
    out = tmp_path / "ricevute.zip"
    result = app.test_cli_runner().invoke(
        args=[
            "receipts",
            "export-zip",
            "--organisation",
            org.slug,
            "--campaign",
            first.slug,
            str(out),
        ]
    )
    assert result.exit_code == 0, result.output
    assert "3 receipts written" in result.output
    assert len(zipfile.ZipFile(out).namelist()) == 4
    assert _audited("receipts.export.zip") == 1


def test_the_ledger_reconciles_with_the_donations(webhooks, client, login):
    org, first, second, small = _gifts(client)
    year = today_rome().year
    login("treasurer")
    answer = client.get(f"/staff/receipts/exports/ledger.csv?organisation={org.id}")
    assert answer.status_code == 200
    rows = _rows(answer.text)
    assert rows[0] == exports.LEDGER_HEADER
    by_number = {row[0]: row for row in rows[1:]}
    voided, reissue = db.session.scalars(
        select(Receipt).where(Receipt.organisation_id == org.id).order_by(Receipt.number)
    ).all()[:2]
    assert by_number[voided.display_number][9:] == ["annullata", reissue.display_number]
    assert by_number[reissue.display_number][5:10] == [
        "50,00",
        "Carta di pagamento",
        first.title,
        "",
        "emessa",
    ]
    assert by_number[reissue.display_number][1] == today_rome().strftime("%d/%m/%Y")
    valid = sum(Decimal(row[5].replace(",", ".")) for row in rows[1:] if row[9] == "emessa")
    donations = db.session.scalar(
        select(func.sum(Donation.amount_cents - Donation.refunded_cents)).where(
            Donation.organisation_id == org.id, Donation.id != small.id
        )
    )
    assert valid * 100 == donations == 5000 + 2000 + 4000

    totals = exports.reconciliation(year, org.id)
    (card,) = totals["methods"]
    assert (card.label, card.donations_cents, card.receipted_cents) == ("card", 11500, 11000)
    assert (card.difference_cents, card.not_receipted, card.gifts) == (500, 1, 4)
    by_campaign = {line.label: line for line in totals["campaigns"]}
    assert by_campaign[first.title].difference_cents == 0
    assert by_campaign[second.title].difference_cents == 500
    assert [(u.reason, u.gifts, u.amount_cents) for u in totals["unreceipted"]] == [
        ("below_threshold", 1, 500)
    ]
    page = client.get(f"/staff/receipts/exports/reconciliation?year={year}&organisation={org.id}")
    assert page.status_code == 200
    assert "threshold" in page.text and first.title in page.text
    assert _audited("receipts.export.ledger") == 1


def test_formulas_in_names_stay_text(webhooks, client, login):
    campaign = factories.campaign()
    donor = factories.donor(first_name='=HYPERLINK("http://evil.example","x")', last_name="Y")
    card_gift(client, campaign, donor=donor)
    login("treasurer")
    ledger = client.get("/staff/receipts/exports/ledger.csv")
    assert _rows(ledger.text)[1][3].startswith("'=HYPERLINK(")
    book = load_workbook(io.BytesIO(client.get("/staff/receipts/exports/ledger.xlsx").data))
    assert book.active.cell(row=2, column=4).value.startswith("'=HYPERLINK(")
    archive = zipfile.ZipFile(io.BytesIO(client.get("/staff/receipts/exports/receipts.zip").data))
    assert _rows(archive.read("index.csv").decode("utf-8-sig"))[1][3].startswith("'=HYPERLINK(")


def test_the_precompilata_data_set(client, login):
    org = factories.organisation()
    campaign = factories.campaign(organisation=org)
    year = today_rome().year
    person = factories.donor(codice_fiscale=CF)
    factories.donation(campaign=campaign, donor=person, amount_cents=5000)
    factories.donation(campaign=campaign, donor=person, amount_cents=3000, method=Method.CHEQUE)
    factories.donation(campaign=campaign, donor=person, amount_cents=2000, method=Method.CASH)
    company = factories.donor(
        kind=DonorKind.ORGANISATION, organisation_name="Ditta Srl", codice_fiscale="01234567897"
    )
    factories.donation(campaign=campaign, donor=company, amount_cents=10000)
    nameless = factories.donor(last_name="Senzacodice")
    factories.donation(
        campaign=campaign, donor=nameless, amount_cents=1500, method=Method.BANK_TRANSFER
    )
    last_year = factories.donation(
        campaign=campaign,
        donor=person,
        amount_cents=4000,
        refunded_cents=1000,
        method=Method.BANK_TRANSFER,
        received_on=date(year - 1, 6, 1),
    )
    db.session.add(
        Refund(donation=last_year, amount_cents=1000, created_at=datetime(year, 2, 1, tzinfo=UTC))
    )
    factories.donation(amount_cents=7000, donor=factories.donor(codice_fiscale=CF))  # other org
    db.session.commit()

    assert exports.precompilata_rows(year, org.id) == [
        [CF, "erogazione", year, 8000],
        [CF, "rimborso", year - 1, 1000],
    ]
    # The year before still counts the gift whole: its refund belongs to this year's data.
    assert exports.precompilata_rows(year - 1, org.id)[0] == [CF, "erogazione", year - 1, 4000]
    login("treasurer")
    answer = client.get(
        f"/staff/receipts/exports/precompilata.csv?year={year}&organisation={org.id}"
    )
    assert answer.status_code == 200
    blocks = answer.text.lstrip("\ufeff").split("\r\n\r\n")
    assert _rows(blocks[0]) == [
        exports.PROSPETTO_ENTE_HEADER,
        [org.codice_fiscale, org.name, str(year), "8"],
    ]
    assert _rows(blocks[1]) == [
        exports.PROSPETTO_HEADER,
        [CF, "erogazione", str(year), "80,00"],
        [CF, "rimborso", str(year - 1), "10,00"],
    ]
    assert _rows(blocks[2]) == [
        exports.TOTALS_HEADER,
        ["Erogazioni", "1", "80,00"],
        ["Rimborsi", "1", "10,00"],
    ]
    assert "01234567897" not in answer.text
    assert "prospetto-precompilata" in answer.headers["Content-Disposition"]
    apart = client.get(
        "/staff/receipts/exports/precompilata-without-codice-fiscale.csv"
        f"?year={year}&organisation={org.id}"
    )
    rows = _rows(apart.text)
    assert rows[1][:2] == [str(nameless.id), nameless.display_name]
    assert rows[1][4:] == [exports.NO_TAX_CODE, "1", "15,00"] and len(rows) == 2
    assert _audited("receipts.export.precompilata") == 2  # prospetto, donors left out
    no_org = client.get(f"/staff/receipts/exports/precompilata.csv?year={year}")
    assert no_org.status_code == 302


def test_a_stripe_refund_of_last_years_gift_is_in_this_years_precompilata(webhooks, client):
    """A 2025 card gift refunded in part through Stripe in 2026: the charge.refunded webhook
    records the dated refund once, however often Stripe delivers it."""
    campaign = factories.campaign()
    gift = factories.donation(
        campaign=campaign,
        donor=factories.donor(codice_fiscale=CF),
        amount_cents=6000,
        received_on=date(2025, 12, 20),
        stripe_payment_intent_id="pi_precompilata",
        stripe_charge_id="ch_precompilata",
    )
    refunded_at = datetime(2026, 2, 3, 9, 30, tzinfo=UTC)
    charge = {
        "id": "ch_precompilata",
        "object": "charge",
        "payment_intent": "pi_precompilata",
        "amount": 6000,
        "amount_refunded": 2500,
        "refunds": {
            "object": "list",
            "data": [
                {
                    "id": "re_precompilata",
                    "object": "refund",
                    "amount": 2500,
                    "charge": "ch_precompilata",
                    "created": int(refunded_at.timestamp()),
                    "reason": "requested_by_customer",
                    "status": "succeeded",
                }
            ],
        },
    }
    payload = event("charge.refunded", charge)
    for delivered in (payload, payload, event("charge.refunded", charge)):
        assert deliver(client, delivered).status_code == 200
        db.session.expire_all()
        [row] = db.session.scalars(select(Refund)).all()
        assert (row.donation_id, row.amount_cents, row.created_at) == (gift.id, 2500, refunded_at)
        assert row.stripe_refund_id == "re_precompilata"
        assert db.session.get(Donation, gift.id).refunded_cents == 2500

        org = campaign.organisation_id
        assert exports.precompilata_rows(2026, org) == [[CF, "rimborso", 2025, 2500]]
        assert exports.precompilata_rows(2025, org)[0] == [CF, "erogazione", 2025, 6000]


def test_only_the_treasurer_exports(client, login):
    login("staff")
    assert client.get("/staff/receipts/exports").status_code == 403
    assert client.get("/staff/receipts/exports/ledger.csv").status_code == 403
    with client.session_transaction() as session:
        session.clear()
    login("treasurer")
    page = client.get("/staff/receipts/exports")
    assert page.status_code == 200 and "receipts.zip" in page.text


def _stripe_refund(refund_id: str, amount: int, made: datetime, status: str) -> dict:
    """A refund object as Stripe publishes it (API 2024-06-20)."""
    return {
        "id": refund_id,
        "object": "refund",
        "amount": amount,
        "balance_transaction": f"txn_{refund_id}",
        "charge": "ch_failed_refund",
        "created": int(made.timestamp()),
        "currency": "eur",
        "destination_details": {"card": {"type": "refund"}, "type": "card"},
        "failure_balance_transaction": f"txn_back_{refund_id}" if status == "failed" else None,
        "failure_reason": "expired_or_canceled_card" if status == "failed" else None,
        "metadata": {},
        "payment_intent": "pi_failed_refund",
        "reason": "requested_by_customer",
        "receipt_number": None,
        "source_transfer_reversal": None,
        "status": status,
        "transfer_reversal": None,
    }


def test_a_failed_stripe_refund_does_not_reduce_the_precompilata(webhooks, client):
    """A 2025 card gift with a refund in 2025 and, in 2026, one refund that went through and
    one that Stripe reported pending and then failed: only the money that went back counts,
    in the gift's year and in the later year's refunds."""
    campaign = factories.campaign()
    gift = factories.donation(
        campaign=campaign,
        donor=factories.donor(codice_fiscale=CF),
        amount_cents=6000,
        received_on=date(2025, 12, 20),
        stripe_payment_intent_id="pi_failed_refund",
        stripe_charge_id="ch_failed_refund",
    )
    in_year = _stripe_refund("re_in_year", 1000, datetime(2025, 12, 28, tzinfo=UTC), "succeeded")
    later = _stripe_refund("re_later", 500, datetime(2026, 2, 3, tzinfo=UTC), "succeeded")
    failing = _stripe_refund("re_failing", 2500, datetime(2026, 3, 4, tzinfo=UTC), "pending")
    for payload in (
        event("refund.created", in_year),
        event("refund.created", later),
        event("refund.created", failing),
        event("refund.failed", {**failing, "status": "failed"}),
    ):
        assert deliver(client, payload).status_code == 200
    db.session.expire_all()
    statuses = dict(db.session.execute(select(Refund.stripe_refund_id, Refund.status)).all())
    assert statuses == {"re_in_year": "succeeded", "re_later": "succeeded", "re_failing": "failed"}
    assert db.session.get(Donation, gift.id).refunded_cents == 1500

    org = campaign.organisation_id
    assert exports.precompilata_rows(2025, org) == [[CF, "erogazione", 2025, 5000]]
    assert exports.precompilata_rows(2026, org) == [[CF, "rimborso", 2025, 500]]

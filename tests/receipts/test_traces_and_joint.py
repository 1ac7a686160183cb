"""The payment's trace on the receipt (typed by staff, or from the bank statement line that
confirmed a transfer) and gifts from joint account holders split in halves."""

from datetime import date

from sqlalchemy import func, select

from legami.audit import AuditEntry
from legami.extensions import db
from legami.models import EntityType
from legami.timeutil import today_rome
from payments.models import (
    BankStatement,
    Donation,
    LineStatus,
    Method,
    StatementLine,
)
from receipts import annual, content, exports, issuing, pdf
from receipts.models import Kind, Policy, Receipt
from tests import factories
from tests.receipts.conftest import pdf_text

YEAR = 2025
CF_A = "RSSMRA85T10A562S"
CF_B = "BNCGLI80A41D150R"


def test_staff_record_the_trace_and_the_receipt_prints_it(client, login):
    gift = factories.donation(method=Method.CHEQUE, amount_cents=12_000)
    other = factories.donor(email="coniuge@example.org")
    login("staff")
    page = client.get(f"/staff/donations/{gift.id}?lang=en")
    assert page.status_code == 200 and "Payment reference" in page.text
    answer = client.post(
        f"/staff/donations/{gift.id}/trace",
        data={
            "trace_reference": " 0001234567 ",
            "cheque_bank": "Banca Cremasca",
            "joint_email": "nessuno@example.org",
        },
    )
    assert answer.status_code == 422 and "No donor has this e-mail" in answer.text
    answer = client.post(
        f"/staff/donations/{gift.id}/trace",
        data={
            "trace_reference": " 0001234567 ",
            "cheque_bank": "Banca Cremasca",
            "joint_email": "Coniuge@example.org",
        },
    )
    assert answer.status_code == 302
    db.session.expire_all()
    saved = db.session.get(Donation, gift.id)
    assert (saved.trace_reference, saved.cheque_bank, saved.joint_donor_id) == (
        "0001234567",
        "Banca Cremasca",
        other.id,
    )
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "donation.trace"))
    assert entry.detail["changes"]["trace_reference"] == ["", "0001234567"]

    receipt = issuing.issue_for_gift(gift.id, requested=True)
    db.session.commit()
    text = pdf_text(pdf.render(receipt))
    assert "Assegno n. 0001234567 · Banca: Banca Cremasca" in text
    assert (
        "Erogazione da conto cointestato: imputata per metà a ciascun cointestatario"
        f" (60,00 € a {saved.donor.display_name}, 60,00 € a {other.display_name})" in text
    )


def test_a_transfer_prints_the_end_to_end_id_of_its_statement_line(app):
    gift = factories.donation(method=Method.BANK_TRANSFER)
    statement = BankStatement(organisation_id=gift.organisation_id, filename="c.xml", format="camt")
    db.session.add(statement)
    db.session.flush()
    for key, e2e, ref in (("a", "NOTPROVIDED", "BREF-1"), ("b", "E2E-2025-0042", "BREF-2")):
        db.session.add(
            StatementLine(
                statement_id=statement.id,
                organisation_id=gift.organisation_id,
                line_key=key,
                booked_on=gift.received_on,
                amount_cents=gift.amount_cents,
                end_to_end_id=e2e,
                bank_reference=ref,
                status=LineStatus.MATCHED if key == "b" else LineStatus.UNMATCHED,
                donation_id=gift.id,
            )
        )
    db.session.commit()
    assert content.trace(gift) == {"reference": "E2E-2025-0042", "bank": ""}
    text = pdf_text(pdf.render(issuing.issue_for_gift(gift.id, requested=True)))
    assert "CRO/TRN o identificativo end-to-end E2E-2025-0042" in text
    db.session.rollback()
    gift.trace_reference = "TRN 0306909606"  # what staff typed comes first
    assert content.trace(gift)["reference"] == "TRN 0306909606"


def test_a_joint_gift_counts_half_for_each_holder(app):
    org = factories.organisation(entity_type=EntityType.ODV, art83_eligible=True)
    issuing.settings_for(org.id).policy = Policy.ANNUAL
    campaign = factories.campaign(organisation=org)
    first = factories.donor(codice_fiscale=CF_A, first_name="Mario", last_name="Rossi")
    second = factories.donor(codice_fiscale=CF_B, first_name="Giulia", last_name="Bianchi")
    factories.donation(
        campaign=campaign,
        donor=first,
        joint_donor_id=second.id,
        amount_cents=10_001,
        method=Method.BANK_TRANSFER,
        received_on=date(YEAR, 4, 1),
    )
    factories.donation(
        campaign=campaign, donor=second, amount_cents=2_000, received_on=date(YEAR, 6, 1)
    )
    db.session.commit()

    assert exports.precompilata_rows(YEAR, org.id) == [
        [CF_B, "erogazione", YEAR, 5_000 + 2_000],
        [CF_A, "erogazione", YEAR, 5_001],
    ]
    for _ in annual.issue_batches(YEAR, org.id):
        pass
    receipts = {
        r.donor_id: r
        for r in db.session.scalars(select(Receipt).where(Receipt.kind == Kind.ANNUAL))
    }
    assert receipts[first.id].amount_cents == 5_001
    assert receipts[second.id].amount_cents == 7_000
    text = pdf_text(pdf.render(receipts[second.id]))
    assert "quota del 50% di un versamento da conto cointestato" in text
    assert "70,00 €" in text and "50,00 €" in text
    for _ in annual.issue_batches(YEAR, org.id):  # nothing more to issue
        pass
    assert db.session.scalar(select(func.count()).select_from(Receipt)) == 2


def test_the_precompilata_checks_every_codice_fiscale(client, login):
    org = factories.organisation(entity_type=EntityType.ONLUS)
    campaign = factories.campaign(organisation=org)
    good = factories.donor(codice_fiscale=CF_A)
    wrong = factories.donor(codice_fiscale="RSSMRA85T10A562X", last_name="Sbagliato")
    factories.donation(campaign=campaign, donor=good, amount_cents=3_000)
    factories.donation(campaign=campaign, donor=wrong, amount_cents=4_000)
    year = today_rome().year
    assert exports.precompilata_rows(year, org.id) == [[CF_A, "erogazione", year, 3_000]]
    left_out = exports.left_out_rows(year, org.id)
    assert [(row[1], row[3], row[4]) for row in left_out] == [
        (wrong.display_name, "RSSMRA85T10A562X", exports.BAD_TAX_CODE)
    ]
    login("treasurer")
    sheet = client.get(
        f"/staff/receipts/exports/precompilata-worksheet.csv?year={year}&organisation={org.id}"
    )
    data, totals = sheet.text.lstrip("\ufeff").split("\r\n\r\n")
    assert data.splitlines() == [
        ";".join(exports.WORKSHEET_HEADER),
        f"{CF_A};{good.display_name};erogazione;{year};30,00",
    ]
    assert totals.splitlines() == [
        ";".join(exports.TOTALS_HEADER),
        "Erogazioni;1;30,00",
        "Rimborsi;0;0,00",
    ]
    prospetto = client.get(
        f"/staff/receipts/exports/precompilata.csv?year={year}&organisation={org.id}"
    )
    assert f"{org.codice_fiscale};{org.name};{year};0" in prospetto.text  # ONLUS: tipologia 0
    assert "RSSMRA85T10A562X" not in prospetto.text
    page = client.get("/staff/receipts/exports?lang=en")
    assert "This is a prospetto, not the file for sending" in page.text


def test_the_treasurer_is_warned_of_an_onlus_without_runts_number(client, login):
    onlus = factories.organisation(entity_type=EntityType.ONLUS, runts_number=None)
    enrolled = factories.organisation(entity_type=EntityType.ONLUS, runts_number="RUNTS-9")
    login("treasurer")
    listing = client.get("/staff/receipts/settings?lang=en")
    assert listing.text.count("ONLUS without a RUNTS number") == 1
    page = client.get(f"/staff/receipts/settings/{onlus.id}?lang=en")
    assert "without a RUNTS number" in page.text and "from 2026" in page.text
    assert (
        "without a RUNTS number"
        not in client.get(f"/staff/receipts/settings/{enrolled.id}?lang=en").text
    )

"""camt.053 statements as banks emit them (.001.02 and .001.08): batch entries split into
their transactions, references in Ustrd and Strd/CdtrRefInf/Ref, currencies, identical
lines, entries not booked yet, the payer's date, long references, and files that must be
refused whole."""

from datetime import date

import pytest
from sqlalchemy import select

from campaigns.models import Campaign
from donors.models import DonorYearTotal
from legami.extensions import db
from legami.models import AuditEntry
from payments.models import BankStatement, StatementLine
from tests import factories
from tests.payments.statements import camt, gift, line_for, pledge, stored, upload


@pytest.fixture
def campaign():
    return factories.campaign(goal_cents=1_000_000)


@pytest.fixture
def treasurer(client, login):
    user = login("treasurer")
    client.get("/staff/statements?lang=en")  # the pages in English from now on
    return user


def _raised(campaign) -> int:
    db.session.expire_all()
    return db.session.get(Campaign, campaign.id).raised_cents


def test_camt_02_batch_structured_reference_currencies_twins_and_reimport(
    client, treasurer, campaign
):
    single = pledge(campaign, 5000)
    structured = pledge(campaign, 3000)
    batched = pledge(campaign, 5000)
    usd = pledge(campaign, 2500)
    converted = pledge(campaign, 4000)
    not_booked = pledge(campaign, 1500)
    data = camt(
        "camt053_v02.xml",
        ref_single=single.payment_reference.lower(),
        ref_structured=structured.payment_reference.replace("-", ""),
        ref_batch=batched.payment_reference,
        ref_usd=usd.payment_reference,
        ref_converted=converted.payment_reference,
        ref_pending=not_booked.payment_reference,
    )
    response = upload(client, campaign.organisation, data)
    assert response.status_code == 302
    assert "3 lines matched and confirmed, 4 to check" in client.get(response.location).text

    # The single credit and both transactions of the batch entry confirm their gifts, dated
    # by the payer's side: the interbank settlement date, else the value date.
    assert (gift(single).status, gift(single).received_on) == ("succeeded", date(2026, 12, 3))
    assert (gift(structured).status, gift(structured).received_on) == (
        "succeeded",
        date(2026, 12, 4),
    )
    assert gift(batched).status == "succeeded"
    assert line_for(structured).position == "2.1" and line_for(batched).position == "2.2"
    assert line_for(batched).payer == "VERDI MARIA"
    assert _raised(campaign) == 5000 + 3000 + 5000

    # Dollars never confirm a euro gift, sent as such or converted by the bank.
    for foreign in (usd, converted):
        line = line_for(foreign)
        assert gift(foreign).status == "pending"
        assert (line.status, line.reason, line.detail) == ("unmatched", "currency", "USD")
    assert line_for(usd).currency == "USD" and line_for(converted).currency == "EUR"

    # Two identical credits without a bank reference stay two lines.
    twins = db.session.scalars(
        select(StatementLine).where(StatementLine.description == "OFFERTA LIBERA")
    ).all()
    assert len(twins) == 2 and twins[0].line_key != twins[1].line_key
    assert {t.reason for t in twins} == {"no_reference"}

    # The bank fee and the entry not booked yet are noted, not stored; the gift waits.
    statement = db.session.scalar(select(BankStatement))
    assert {(n["row"], n["code"]) for n in statement.notes} == {("7", "debit"), ("8", "not_booked")}
    assert gift(not_booked).status == "pending"
    page = client.get(f"/staff/statements/{statement.id}").text
    assert "Paid in USD: only a payment in the gift&#39;s currency confirms it." in page
    assert "Not booked by the bank yet (PDNG): left out until it is." in page
    assert "A debit, not a gift: left out." in page

    again = upload(client, campaign.organisation, data)
    assert again.status_code == 302
    assert "7 already imported" in client.get(again.location).text
    assert stored() == (2, 7)
    assert _raised(campaign) == 13000
    confirmations = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "donation.confirm")
    ).all()
    assert len(confirmations) == 3


def test_camt_08_payer_date_batch_amounts_and_a_long_bank_reference(client, treasurer, campaign):
    new_year = pledge(campaign, 10000)
    first = pledge(campaign, 2000)
    second = pledge(campaign, 3500)
    long_ref = pledge(campaign, 1200)
    long_reference = "IT-CBI-" + "0123456789" * 15  # 157 characters, over every column
    data = camt(
        "camt053_v08.xml",
        ref_new_year=new_year.payment_reference,
        ref_batch_structured=first.payment_reference,
        ref_batch_plain=second.payment_reference,
        ref_long=long_ref.payment_reference,
        long_reference=long_reference,
    )
    assert upload(client, campaign.organisation, data).status_code == 302

    # Ordered on 31 December, booked on 2 January: the gift is the payer's, of last year.
    assert gift(new_year).received_on == date(2025, 12, 31)
    assert line_for(new_year).paid_on == date(2025, 12, 31)
    assert line_for(new_year).booked_on == date(2026, 1, 2)
    assert line_for(new_year).payer == "NERI PAOLO"
    year = db.session.scalar(
        select(DonorYearTotal).where(DonorYearTotal.donor_id == new_year.donor_id)
    )
    assert (year.year, year.net_cents) == (2025, 10000)
    assert gift(first).status == gift(second).status == "succeeded"
    assert gift(first).received_on == date(2026, 1, 2)
    line = line_for(long_ref)
    assert gift(long_ref).status == "succeeded"
    assert line.bank_reference == long_reference[:100] and len(line.line_key) <= 100
    assert _raised(campaign) == 10000 + 2000 + 3500 + 1200

    upload(client, campaign.organisation, data)
    assert stored() == (2, 4)


def _statement(entry: str, namespace: str = "camt.053.001.02") -> bytes:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><Document xmlns="urn:iso:std:iso:20022:tech:'
        f'xsd:{namespace}"><BkToCstmrStmt><GrpHdr><MsgId>M1</MsgId><CreDtTm>2026-12-05T06:00:00'
        f"</CreDtTm></GrpHdr><Stmt><Id>S1</Id><Acct><Id><IBAN>IT53X0503411400000000012345</IBAN>"
        f"</Id></Acct>{entry}</Stmt></BkToCstmrStmt></Document>"
    ).encode()


def _entry(amount: str = "50.00", ref: str = "1", booked: str = "<Dt>2026-12-04</Dt>") -> str:
    return (
        f'<Ntry><Amt Ccy="EUR">{amount}</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts>'
        f"<BookgDt>{booked}</BookgDt><AcctSvcrRef>{ref}</AcctSvcrRef>"
        f"<NtryDtls><TxDtls><RmtInf><Ustrd>DONO</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>"
    )


BILLION_LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">'
    b"]><Document><BkToCstmrStmt><Stmt><Ntry>&lol2;</Ntry></Stmt></BkToCstmrStmt></Document>"
)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"<not xml", "This is not a CAMT.053 XML statement."),
        (b"Data;Importo\n01/12/2026;10,00\n", "This is not a CAMT.053 XML statement."),
        (b'<?xml version="1.0"?><Invoice><Id>1</Id></Invoice>', "not a CAMT.053"),
        (BILLION_LAUGHS, "This is not a CAMT.053 XML statement."),
        (_statement(_entry("1E+30")), "Row 1: 1E+30 is not an amount."),
        (_statement(_entry("25000000.00")), "Row 1: the amount 25000000.00 is larger than"),
        (_statement(_entry("1000000000.00")), "Row 1: the amount 1000000000.00 is larger than"),
        (_statement(_entry("999999999999999999")), "is larger than Legami reads"),
        (_statement(_entry("-5.00")), "Row 1: -5.00 is not an amount."),
        (_statement(_entry("12.345")), "Row 1: 12.345 is not an amount in cents."),
        (_statement(_entry("0.00")), "Row 1: the amount must be more than zero."),
        (_statement(_entry(booked="<Dt>2026-13-45</Dt>")), "Row 1: 2026-13-45 is not a date."),
        (_statement(_entry(booked="")), "Row 1: the entry has no booking date."),
    ],
)
def test_a_broken_camt_file_gives_a_message_and_stores_nothing(
    client, treasurer, campaign, data, message
):
    response = upload(client, campaign.organisation, data)
    assert response.status_code == 422
    assert message in response.text
    assert stored() == (0, 0)


def test_a_good_entry_before_a_broken_one_is_not_stored_either(client, treasurer, campaign):
    good = pledge(campaign, 5000)
    entries = _entry(ref="A1").replace("DONO", good.payment_reference) + _entry("1E+30", "A2")
    response = upload(client, campaign.organisation, _statement(entries, "camt.053.001.08"))
    assert response.status_code == 422 and "Row 2: 1E+30 is not an amount." in response.text
    assert stored() == (0, 0) and gift(good).status == "pending"


def test_two_identical_credits_without_reference_import_as_two_lines(client, treasurer, campaign):
    twin = (
        '<Ntry><Amt Ccy="EUR">25.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>'
        "<BookgDt><Dt>2026-12-04</Dt></BookgDt><NtryDtls><TxDtls><RltdPties><Dbtr><Pty><Nm>"
        "BIANCHI</Nm></Pty></Dbtr></RltdPties><RmtInf><Ustrd>QUOTA</Ustrd></RmtInf></TxDtls>"
        "</NtryDtls></Ntry>"
    )
    data = _statement(twin * 2, "camt.053.001.08")
    assert upload(client, campaign.organisation, data).status_code == 302
    assert stored() == (1, 2)
    # A later statement holding the same day again (and a third such credit) adds only it.
    assert upload(client, campaign.organisation, _statement(twin * 3)).status_code == 302
    assert stored() == (2, 3)

"""Bank transfers: reference and bank details, manual confirmation, statement imports."""

import io
from datetime import date

import pytest
from sqlalchemy import func, select

from campaigns.models import Campaign
from legami.extensions import db
from legami.models import AuditEntry
from payments.models import Donation, StatementLine
from payments.references import find_references
from tests import factories
from tests.payments.test_card_gifts import _mails

CAMT = """<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02">
 <BkToCstmrStmt><Stmt><Id>2026-11</Id>
  {entries}
 </Stmt></BkToCstmrStmt>
</Document>"""

ENTRY = """<Ntry><NtryRef>{ref}</NtryRef><Amt Ccy="EUR">{amount}</Amt><CdtDbtInd>{side}</CdtDbtInd>
  <BookgDt><Dt>{day}</Dt></BookgDt><AcctSvcrRef>{ref}</AcctSvcrRef>
  <NtryDtls><TxDtls><RltdPties><Dbtr><Nm>{payer}</Nm></Dbtr></RltdPties>
  <RmtInf><Ustrd>{causale}</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>"""


def _pledge(client, campaign, amount="50", email="luca@example.org"):
    response = client.post(
        f"/campagne/{campaign.slug}/dona",
        data={
            "amount": "other",
            "other_amount": amount,
            "frequency": "one_off",
            "method": "bank_transfer",
            "donor_kind": "person",
            "first_name": "Luca",
            "last_name": "Bassi",
            "email": email,
        },
    )
    assert response.status_code == 302
    return db.session.scalar(
        select(Donation).where(Donation.id == db.session.scalar(select(func.max(Donation.id))))
    )


@pytest.fixture
def campaign():
    return factories.campaign(goal_cents=100_000)


def test_a_transfer_shows_and_mails_the_bank_details(app, client, campaign, smtp_server):
    donation = _pledge(client, campaign)
    assert donation.status == "pending" and donation.method == "bank_transfer"
    assert find_references(donation.payment_reference) == [donation.payment_reference]
    page = client.get(f"/dona/{donation.token}/bonifico").text
    assert donation.payment_reference in page
    assert "IT53 X050 3411 4000 0000 0012 345" in page
    assert campaign.organisation.name in page
    [mail] = _mails(app, smtp_server)
    assert "To: luca@example.org" in mail
    assert f"Subject: Come completare la tua donazione a {campaign.title}" in mail
    assert "IBAN: IT53 X050 3411 4000 0000 0012 345" in mail
    assert f"Causale: {donation.payment_reference} Donazione {campaign.title}" in mail
    assert "Importo: 50\xa0€" in mail


def test_treasurer_confirms_by_hand_once(app, client, login, campaign):
    donation = _pledge(client, campaign)
    user = login("treasurer")
    response = client.post(
        f"/staff/donations/{donation.id}/confirm",
        data={"received_on": "2026-11-20", "confirmed": "1"},
    )
    assert response.status_code == 302
    donation = db.session.get(Donation, donation.id)
    assert (donation.status, donation.received_on) == ("succeeded", date(2026, 11, 20))
    assert db.session.get(Campaign, campaign.id).raised_cents == 5000
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "donation.confirm"))
    assert entry.user_id == user.id and entry.detail["amount_cents"] == 5000
    client.post(
        f"/staff/donations/{donation.id}/confirm",
        data={"received_on": "2026-11-21", "confirmed": "1"},
    )
    assert db.session.get(Donation, donation.id).received_on == date(2026, 11, 20)
    assert db.session.get(Campaign, campaign.id).gift_count == 1


def _camt(entries) -> bytes:
    return CAMT.format(entries="".join(ENTRY.format(**e) for e in entries)).encode()


def _upload(client, org, data: bytes, fmt: str, **mapping):
    return client.post(
        "/staff/statements",
        data={
            "organisation_id": str(org.id),
            "format": fmt,
            "file": (io.BytesIO(data), f"estratto.{'xml' if fmt == 'camt053' else 'csv'}"),
            **mapping,
        },
        content_type="multipart/form-data",
    )


def test_camt053_matched_unmatched_wrong_amount_duplicate_and_reimport(client, login, campaign):
    good = _pledge(client, campaign, "50", "a@example.org")
    wrong = _pledge(client, campaign, "30", "b@example.org")
    twice = _pledge(client, campaign, "20", "c@example.org")
    login("treasurer")
    entries = [
        {
            "ref": "B1",
            "amount": "50.00",
            "side": "CRDT",
            "day": "2026-11-18",
            "payer": "ROSSI A",
            "causale": f"DONAZIONE {good.payment_reference.lower()} CAMPAGNA",
        },
        {
            "ref": "B2",
            "amount": "35.00",
            "side": "CRDT",
            "day": "2026-11-18",
            "payer": "B",
            "causale": f"dono {wrong.payment_reference}",
        },
        {
            "ref": "B3",
            "amount": "20.00",
            "side": "CRDT",
            "day": "2026-11-19",
            "payer": "C",
            "causale": twice.payment_reference.replace("-", " "),
        },
        {
            "ref": "B4",
            "amount": "20.00",
            "side": "CRDT",
            "day": "2026-11-19",
            "payer": "C",
            "causale": twice.payment_reference,
        },
        {
            "ref": "B5",
            "amount": "99.00",
            "side": "CRDT",
            "day": "2026-11-19",
            "payer": "D",
            "causale": "Quota associativa",
        },
        {
            "ref": "B6",
            "amount": "12.00",
            "side": "DBIT",
            "day": "2026-11-19",
            "payer": "Banca",
            "causale": "Commissioni",
        },
    ]
    response = _upload(client, campaign.organisation, _camt(entries), "camt053")
    assert response.status_code == 302
    lines = {line.bank_reference: line for line in db.session.scalars(select(StatementLine))}
    assert sorted(lines) == ["B1", "B2", "B3", "B4", "B5"]  # the debit is not a gift
    assert lines["B1"].status == "matched" and lines["B1"].donation_id == good.id
    assert (lines["B2"].status, lines["B2"].reason) == ("unmatched", "amount")
    assert lines["B3"].status == "matched"
    assert (lines["B4"].status, lines["B4"].reason) == ("unmatched", "already")
    assert (lines["B5"].status, lines["B5"].reason) == ("unmatched", "no_reference")
    assert db.session.get(Donation, good.id).received_on == date(2026, 11, 18)
    assert db.session.get(Donation, wrong.id).status == "pending"
    assert db.session.get(Campaign, campaign.id).raised_cents == 7000

    again = _upload(client, campaign.organisation, _camt(entries), "camt053")
    assert again.status_code == 302
    assert db.session.scalar(select(func.count()).select_from(StatementLine)) == 5
    assert db.session.get(Campaign, campaign.id).raised_cents == 7000

    # The treasurer matches the wrong-amount line by hand after checking with the donor.
    client.post(
        f"/staff/statements/lines/{lines['B2'].id}/match",
        data={"reference": wrong.payment_reference},
    )
    assert db.session.get(Donation, wrong.id).status == "succeeded"


def test_csv_with_saved_mapping(client, login, campaign):
    good = _pledge(client, campaign, "1.250,50")
    login("treasurer")
    csv_text = (
        "Data contabile;Importo EUR;Descrizione;Ordinante\n"
        f"18/11/2026;1.250,50;BONIFICO {good.payment_reference} DONO;Ditta Srl\n"
        "18/11/2026;-40,00;Canone conto;\n"
        "19/11/2026;10,00;Senza riferimento;Anna\n"
        "19/11/2026;10,00;Senza riferimento;Anna\n"
    ).encode()
    mapping = {
        "date_column": "Data contabile",
        "date_format": "%d/%m/%Y",
        "amount_column": "Importo EUR",
        "description_column": "Descrizione",
        "payer_column": "Ordinante",
        "delimiter": ";",
    }
    assert _upload(client, campaign.organisation, csv_text, "csv", **mapping).status_code == 302
    assert db.session.get(Donation, good.id).status == "succeeded"
    statuses = sorted(db.session.scalars(select(StatementLine.status)))
    assert statuses == ["matched", "unmatched", "unmatched"]  # two equal lines stay two
    form = client.get("/staff/statements").text
    assert 'value="Data contabile"' in form  # the mapping was saved
    _upload(client, campaign.organisation, csv_text, "csv", **mapping)
    assert db.session.scalar(select(func.count()).select_from(StatementLine)) == 3
    bad = _upload(
        client, campaign.organisation, csv_text, "csv", **{**mapping, "amount_column": "Nope"}
    )
    assert bad.status_code == 422 and "Nope" in bad.text


def test_a_broken_statement_is_refused(client, login, campaign):
    login("treasurer")
    response = _upload(client, campaign.organisation, b"<not xml", "camt053")
    assert response.status_code == 422
    assert db.session.scalar(select(func.count()).select_from(StatementLine)) == 0


def test_offline_cash_gift_is_not_deductible(client, login, campaign):
    login("staff")
    response = client.post(
        "/staff/donations/offline",
        data={
            "campaign_id": str(campaign.id),
            "method": "cash",
            "amount": "25",
            "received_on": "2026-11-22",
            "first_name": "Pia",
            "last_name": "Neri",
            "email": "pia@example.org",
        },
    )
    assert response.status_code == 302
    gift = db.session.scalar(select(Donation))
    assert (gift.method, gift.deductible, gift.status, gift.amount_cents) == (
        "cash",
        False,
        "succeeded",
        2500,
    )
    assert db.session.get(Campaign, campaign.id).raised_cents == 2500

"""Italian home-banking CSV exports: Dare/Avere columns, Windows-1252, UTF-16 (Excel's
"Unicode text", tab separated, with BOM), title rows and a closing balance row, value dates
across the year end, re-imports in another encoding, storno lines, hostile amounts."""

from datetime import date

import pytest
from sqlalchemy import select

from campaigns.models import Campaign
from legami.extensions import db
from payments.models import BankStatement, StatementLine
from tests import factories
from tests.payments.statements import (
    DARE_AVERE,
    csv_bytes,
    gift,
    line_for,
    pledge,
    stored,
    upload,
)

ENCODINGS = [("cp1252", ";"), ("utf-16", "\t"), ("utf-8-sig", ";")]
OFFER = "OFFERTA \u2013 grazie"  # an en dash: byte 0x96 in Windows-1252


@pytest.fixture
def campaign():
    return factories.campaign(goal_cents=1_000_000)


@pytest.fixture
def treasurer(client, login):
    user = login("treasurer")
    client.get("/staff/statements?lang=en")
    return user


def _export(year_end, gift_a, gift_b) -> list[list[str]]:
    """A December-January movements list as Italian home banking exports it."""
    return [
        ["Banca Popolare di Cremona - Movimenti conto corrente", "", "", "", ""],
        ["Conto: IT53 X050 3411 4000 0000 0012 345", "", "", "", ""],
        ["Periodo: dal 01/12/2025 al 05/01/2026", "", "", "", ""],
        ["", "", "", "", ""],
        ["Data contabile", "Data valuta", "Dare", "Avere", "Descrizione operazione"],
        ["Saldo iniziale al 01/12/2025", "", "", "10.000,00", ""],
        [
            "04/01/2026",
            "31/12/2025",
            "",
            "1.250,50",
            f"BONIFICO A VOSTRO FAVORE DA: Niccolò Pérez CAUSALE: {year_end.payment_reference}",
        ],
        ["05/01/2026", "05/01/2026", "-2,50", "", "Commissioni su bonifico — canone"],
        [
            "05/01/2026",
            "05/01/2026",
            "",
            "50,00",
            f"BONIFICO DA: Società Cooperativa Àncora CAUSALE: dono {gift_a.payment_reference}",
        ],
        [
            "05/01/2026",
            "05/01/2026",
            "",
            "20,00",
            f"Erogazione liberale {gift_b.payment_reference}",
        ],
        ["05/01/2026", "05/01/2026", "", "20,00", OFFER],
        ["05/01/2026", "05/01/2026", "", "20,00", OFFER],
        ["", "", "", "", ""],
        ["Saldo contabile finale", "", "", "11.318,00", ""],
        ["Saldo disponibile", "", "", "11.318,00", ""],
    ]


@pytest.mark.parametrize(("encoding", "delimiter"), ENCODINGS)
def test_dare_avere_export_in_any_encoding_then_again_in_the_others(
    client, treasurer, campaign, encoding, delimiter
):
    year_end, gift_a, gift_b = (
        pledge(campaign, 125050),
        pledge(campaign, 5000),
        pledge(campaign, 2000),
    )
    rows = _export(year_end, gift_a, gift_b)
    response = upload(
        client, campaign.organisation, csv_bytes(rows, encoding, delimiter), "csv", **DARE_AVERE
    )
    assert response.status_code == 302, response.text
    page = client.get(response.location).text
    assert "3 lines matched and confirmed, 2 to check" in page

    # Credited on 4 January with value date 31 December: the payer's year.
    assert (gift(year_end).status, gift(year_end).received_on) == ("succeeded", date(2025, 12, 31))
    assert gift(gift_a).received_on == date(2026, 1, 5) and gift(gift_b).status == "succeeded"
    assert "Società Cooperativa Àncora" in line_for(gift_a).description
    db.session.expire_all()
    assert db.session.get(Campaign, campaign.id).raised_cents == 125050 + 5000 + 2000
    twins = db.session.scalars(
        select(StatementLine).where(StatementLine.description == OFFER)
    ).all()
    assert len(twins) == 2

    statement = db.session.scalar(select(BankStatement))
    assert [(n["row"], n["code"]) for n in statement.notes] == [
        ("1-4", "preamble"),
        ("6", "summary"),
        ("8", "debit"),
        ("14", "summary"),
        ("15", "summary"),
    ]
    assert "A balance or total row, not a transaction: left out (Saldo contabile finale" in page

    # The same export saved in the other encodings (and delimiters) shows nothing again.
    for other, other_delimiter in ENCODINGS:
        if other == encoding:
            continue
        data = csv_bytes(rows, other, other_delimiter)
        again = upload(client, campaign.organisation, data, "csv", **DARE_AVERE)
        assert again.status_code == 302
        assert "5 already imported" in client.get(again.location).text
    assert stored() == (3, 5)
    db.session.expire_all()
    assert db.session.get(Campaign, campaign.id).raised_cents == 132050


def test_signed_amounts_storno_and_a_negative_naming_a_confirmed_gift(client, treasurer, campaign):
    mapping = {**DARE_AVERE, "amount_column": "Importo", "credit_column": "", "debit_column": ""}
    stornato, returned, refund_out = (
        pledge(campaign, 3000),
        pledge(campaign, 4000),
        pledge(campaign, 1500),
    )
    header = ["Data contabile", "Data valuta", "Importo", "Descrizione operazione"]
    credits = [
        header,
        ["01/12/2026", "01/12/2026", "30,00", f"BONIFICO {stornato.payment_reference}"],
        ["01/12/2026", "01/12/2026", "+40,00", f"BONIFICO {returned.payment_reference}"],
    ]
    upload(client, campaign.organisation, csv_bytes(credits, "cp1252"), "csv", **mapping)
    assert gift(stornato).status == gift(returned).status == "succeeded"

    reversals = [
        header,
        ["03/12/2026", "01/12/2026", "-30,00", f"STORNO BONIFICO {stornato.payment_reference}"],
        ["03/12/2026", "03/12/2026", "40,00-", f"RESTITUZIONE {returned.payment_reference}"],
        [
            "03/12/2026",
            "03/12/2026",
            "-15,00",
            f"Rimborso a donatore {refund_out.payment_reference}",
        ],
    ]
    response = upload(
        client, campaign.organisation, csv_bytes(reversals, "cp1252"), "csv", **mapping
    )
    assert response.status_code == 302
    assert "2 reversals" in client.get(response.location).text
    for taken_back in (stornato, returned):
        reversal = line_for(taken_back, "debit")
        assert (reversal.status, reversal.reason) == ("reversal", "reversed_pending")
        assert reversal.reverses_id == line_for(taken_back).id
        assert gift(taken_back).status == "pending" and gift(taken_back).received_on is None
    db.session.expire_all()
    assert db.session.get(Campaign, campaign.id).raised_cents == 0
    # A debit naming a gift no statement confirmed is not a reversal: noted, not stored.
    statement = db.session.scalars(select(BankStatement).order_by(BankStatement.id.desc())).first()
    assert [(n["row"], n["code"]) for n in statement.notes] == [("4", "debit")]


@pytest.mark.parametrize(
    ("cell", "message"),
    [
        ("1E+30", "Row 2: 1E+30 is not an amount."),
        ("25.000.000,00", "Row 2: the amount 25.000.000,00 is larger than Legami reads"),
        ("1.000.000.000,00", "Row 2: the amount 1.000.000.000,00 is larger than"),
        ("9" * 29, "is larger than Legami reads from a statement"),
        ("12,345", "Row 2: 12,345 is not an amount."),
        ("1_000", "Row 2: 1_000 is not an amount."),
        ("١٢٣", "Row 2: ١٢٣ is not an amount."),
        ("NaN", "Row 2: NaN is not an amount."),
    ],
)
def test_hostile_amounts_give_a_message_and_store_nothing(
    client, treasurer, campaign, cell, message
):
    good = pledge(campaign, 1000)
    rows = [
        ["Data", "Importo", "Causale"],
        ["01/12/2026", cell, "dono"],
        ["01/12/2026", "10,00", good.payment_reference],
    ]
    mapping = {**DARE_AVERE, "date_column": "Data", "amount_column": "Importo"}
    mapping.update(description_column="Causale", credit_column="", debit_column="")
    for encoding, delimiter in ENCODINGS:
        try:
            data = csv_bytes(rows, encoding, delimiter)
        except UnicodeEncodeError:
            continue  # Windows-1252 has no Arabic digits
        response = upload(client, campaign.organisation, data, "csv", **mapping)
        assert response.status_code == 422
        assert message in response.text
    assert stored() == (0, 0) and gift(good).status == "pending"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"PK\x03\x04\x14\x00\x06\x00", "This is an Excel workbook: save it as CSV"),
        (b"Data;Importo;Causale\r\n31/02/2026;10,00;dono\r\n", "Row 2: 31/02/2026 is not a date."),
        (b"Data;Importo;Causale\r\n;10,00;dono\r\n", "Row 2: — is not a date."),
        (b"Giorno;Soldi\r\n01/12/2026;10,00\r\n", "The file has no column Data, Causale, Importo."),
        (b"\xff\xfeD\x00a\x00", "The file has no column"),
        (b"\xff\xfe\x00", "The file is not readable text."),
    ],
)
def test_a_broken_csv_gives_a_message_and_stores_nothing(
    client, treasurer, campaign, data, message
):
    mapping = {**DARE_AVERE, "date_column": "Data", "amount_column": "Importo"}
    mapping.update(description_column="Causale", credit_column="", debit_column="")
    response = upload(client, campaign.organisation, data, "csv", **mapping)
    assert response.status_code == 422
    assert message.encode() in response.data
    assert stored() == (0, 0)


def test_a_paged_export_with_a_currency_column(client, treasurer, campaign):
    euros, dollars = pledge(campaign, 1000), pledge(campaign, 1000)
    titles = ["Data", "Valuta", "Importo", "Divisa", "Causale"]
    rows = [
        titles,
        ["01/12/2026", "30/11/2026", "10,00", "Euro", f"DONO {euros.payment_reference}"],
        titles,
        ["01/12/2026", "01/12/2026", "10,00", "USD", f"GIFT {dollars.payment_reference}"],
    ]
    mapping = {**DARE_AVERE, "date_column": "Data", "value_date_column": "Valuta"}
    mapping.update(amount_column="Importo", credit_column="", debit_column="")
    mapping.update(description_column="Causale", currency_column="Divisa")
    response = upload(client, campaign.organisation, csv_bytes(rows, "cp1252"), "csv", **mapping)
    assert response.status_code == 302
    assert (gift(euros).status, gift(euros).received_on) == ("succeeded", date(2026, 11, 30))
    assert (line_for(dollars).reason, gift(dollars).status) == ("currency", "pending")
    statement = db.session.scalar(select(BankStatement))
    assert [(n["row"], n["code"]) for n in statement.notes] == [("3", "titles")]

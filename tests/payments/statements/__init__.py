"""Bank statements as banks write them, for the statement tests.

The camt.053 files here are whole statements in the shapes banks emit (.001.02 and .001.08),
with `$name` where a gift's reference goes. Italian CSV exports are built as bytes in the
tests, in the encodings home banking and Excel save them in.
"""

import io
from pathlib import Path
from string import Template

from sqlalchemy import func, select

from legami.extensions import db
from payments.models import BankStatement, Donation, Method, StatementLine, Status
from payments.references import new_reference
from tests import factories

HERE = Path(__file__).parent

# The columns of an Italian home-banking export with Dare and Avere apart.
DARE_AVERE = {
    "date_column": "Data contabile",
    "value_date_column": "Data valuta",
    "date_format": "%d/%m/%Y",
    "amount_column": "",
    "credit_column": "Avere",
    "debit_column": "Dare",
    "description_column": "Descrizione operazione",
    "payer_column": "",
    "currency_column": "",
    "delimiter": ";",
}


def camt(name: str, **values) -> bytes:
    return Template((HERE / name).read_text()).substitute(values).encode()


def pledge(campaign, cents: int, **overrides) -> Donation:
    """A pending bank transfer promised through the form: its own donor and reference."""
    return factories.donation(
        campaign=campaign,
        method=Method.BANK_TRANSFER,
        status=Status.PENDING,
        received_on=None,
        amount_cents=cents,
        payment_reference=new_reference(),
        **overrides,
    )


def csv_bytes(rows: list[list[str]], encoding: str, delimiter: str = ";") -> bytes:
    """Rows joined as a bank's export does (CRLF), encoded; utf-16 carries its BOM."""
    text = "\r\n".join(delimiter.join(row) for row in rows) + "\r\n"
    return text.encode(encoding)


def upload(client, organisation, data: bytes, fmt: str = "camt053", name=None, **mapping):
    return client.post(
        "/staff/statements",
        data={
            "organisation_id": str(organisation.id),
            "format": fmt,
            "file": (io.BytesIO(data), name or f"estratto.{'xml' if fmt == 'camt053' else 'csv'}"),
            **mapping,
        },
        content_type="multipart/form-data",
    )


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def stored() -> tuple[int, int]:
    """(statements, lines) stored."""
    return count(BankStatement), count(StatementLine)


def gift(donation: Donation) -> Donation:
    db.session.expire_all()
    return db.session.get(Donation, donation.id)


def line_for(donation: Donation, direction: str = "credit") -> StatementLine | None:
    """The first line about the gift (a credit, unless told)."""
    db.session.expire_all()
    return db.session.scalars(
        select(StatementLine)
        .where(StatementLine.donation_id == donation.id, StatementLine.direction == direction)
        .order_by(StatementLine.id)
    ).first()

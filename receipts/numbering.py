"""Receipt numbers: per organisation and calendar year, gapless, never reused.

A number is taken in the transaction that creates the receipt: if that transaction rolls
back, so does the number, and the next receipt gets it. The sequence row is incremented by
one UPDATE ... RETURNING, which holds the row lock until commit on PostgreSQL (concurrent
issuers queue on it, then each sees the number the previous one committed); SQLite allows
one writer at a time. Never max(number) + 1, which two transactions would read alike.
"""

from sqlalchemy import bindparam, update

from legami.extensions import db
from legami.sql import upsert_insert
from receipts.models import DEFAULT_NUMBER_FORMAT, ReceiptSequence

_TAKE = (
    update(ReceiptSequence)
    .where(
        ReceiptSequence.organisation_id == bindparam("b_org"),
        ReceiptSequence.year == bindparam("b_year"),
    )
    .values(last_number=ReceiptSequence.last_number + 1)
    .returning(ReceiptSequence.last_number)
)


def next_number(organisation_id: int, year: int) -> int:
    """The next number of `organisation_id` in `year`, taken in the current transaction."""
    connection = db.session.connection()
    ensure = (
        upsert_insert(ReceiptSequence.__table__)
        .values(organisation_id=organisation_id, year=year, last_number=0)
        .on_conflict_do_nothing(index_elements=["organisation_id", "year"])
    )
    connection.execute(ensure)
    return connection.execute(_TAKE, {"b_org": organisation_id, "b_year": year}).scalar_one()


def display_number(number_format: str, year: int, number: int) -> str:
    """`2026/000123` by default; an organisation's own format uses {year} and {number}."""
    return (number_format or DEFAULT_NUMBER_FORMAT).format(year=year, number=number)

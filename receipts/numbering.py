"""Receipt numbers: per organisation and calendar year, gapless, never reused.

A number is taken in the transaction that creates the receipt: if that transaction rolls
back, so does the number, and the next receipt gets it. The sequence row is incremented by
one UPDATE ... RETURNING, which holds the row lock until commit on PostgreSQL (concurrent
issuers queue on it, then each sees the number the previous one committed); SQLite allows
one writer at a time. Never max(number) + 1, which two transactions would read alike.
"""

from string import Formatter

from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, update

from legami.extensions import db
from legami.sql import upsert_insert
from receipts.models import DEFAULT_NUMBER_FORMAT, ReceiptSequence

FIELDS = {"number", "year"}
# The longest display a format must fit: a year of four digits, a number of seven.
WIDEST = {"year": 9999, "number": 9_999_999}
MAX_LENGTH = 60  # Receipt.display_number

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


def format_problem(number_format: str):
    """Why an organisation's number format cannot be used, or None when it can.

    It must hold {number} (with an optional format spec, e.g. {number:06d}) and may hold
    {year}; nothing else is filled in, and the longest number it makes fits the column.
    """
    try:
        fields = [
            (name, spec, conversion)
            for _, name, spec, conversion in Formatter().parse(number_format)
            if name is not None
        ]
    except ValueError:
        return _l("Unbalanced braces: write {number} and {year}, and {{ or }} for a brace.")
    for name, spec, conversion in fields:
        if name not in FIELDS or conversion or "{" in spec:
            return _l(
                "Only {number} and {year} may appear in braces, not {%(field)s}.",
                field=name
                + (f"!{conversion}" if conversion else "")
                + (f":{spec}" if spec else ""),
            )
    if "number" not in {name for name, _, _ in fields}:
        return _l("The format must contain {number}.")
    try:
        widest = number_format.format(**WIDEST)
    except (ValueError, TypeError):
        return _l("A format spec does not suit a whole number, e.g. {number:06d}.")
    if len(widest) > MAX_LENGTH:
        return _l("Numbers in this format can be longer than %(max)s characters.", max=MAX_LENGTH)
    return None

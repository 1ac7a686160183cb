"""What a bank statement says, read from any format: its lines, and notes on what was skipped.

The readers (payments.camt, payments.bank_csv) give `Line`s in file order and `Note`s for
rows that are not transactions (balances, titles, entries not booked yet). They check every
amount against `MAX_CENTS` and refuse the whole file with a message naming the row, so a
misread file stores nothing.

A line's key (`keyed`) is what recognises it when a statement is imported again:
- when the bank gives the transaction its own reference (camt `AcctSvcrRef`), the reference
  with the direction, amount, currency and booking date;
- otherwise its whole normalised content (dates, amount, currency, causale, payer, any
  EndToEndId), so two different lines never share a key;
- in both cases followed by how many identical lines came before it in the same file, so two
  identical credits (two donors giving the same amount with the same causale on one day) stay
  two lines, and the same file imported again gives the same keys.
The key is a digest of the decoded, Unicode-normalised text (never of the file's bytes), so
the same export saved in another encoding or with another delimiter is recognised; long
references fit because they are hashed.
"""

import hashlib
import json
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from flask_babel import lazy_gettext as _l

from legami.timeutil import ROME
from legami.validation import Invalid
from payments.models import LineDirection

CREDIT, DEBIT = LineDirection.CREDIT, LineDirection.DEBIT
# The largest line Legami reads, ten million euros: a larger one is a misread file (and would
# not fit the 32-bit amount columns, whose limit is about 21 million).
MAX_CENTS = 1_000_000_000
# A payer's date earlier than this before the booking is not believed (see payer_day).
PAYER_DATE_WINDOW = timedelta(days=40)


@dataclass(frozen=True)
class Line:
    row: str  # where it is in the file: the CSV line ("12"), the camt entry ("3", "3.2")
    direction: str  # CREDIT or DEBIT
    reversal: bool  # the bank says it reverses an earlier entry (camt RvslInd, CSV "storno")
    amount_cents: int  # > 0; the direction says which way
    currency: str
    booked_on: date
    paid_on: date | None  # the payer's date, when the statement gives one (see payer_day)
    description: str
    payer: str
    bank_reference: str = ""  # the bank's own reference of the transaction (AcctSvcrRef)
    end_to_end_id: str = ""
    sent_currency: str = ""  # the currency the payer sent, when the bank converted it
    # What else identifies the line in its file (a batch entry's own reference).
    context: str = ""

    def identity(self) -> tuple:
        if self.bank_reference:
            return (
                "bank",
                fold(self.bank_reference),
                fold(self.end_to_end_id),
                self.direction,
                self.reversal,
                self.currency,
                self.amount_cents,
                self.booked_on.isoformat(),
            )
        return (
            "content",
            fold(self.context),
            fold(self.end_to_end_id),
            self.direction,
            self.reversal,
            self.currency,
            self.sent_currency,
            self.amount_cents,
            self.booked_on.isoformat(),
            fold(self.description),
            fold(self.payer),
        )


@dataclass(frozen=True)
class Note:
    """A row of the file that is not a transaction, and why it was left out."""

    row: str  # "12", or "1-4" for a run of rows
    code: str  # a key of payments.statements.NOTES
    detail: str = ""


@dataclass
class Parsed:
    lines: list[Line]
    notes: list[Note]


def normal(text: str | None) -> str:
    """NFC, one space between words, no control characters: the same text from any encoding."""
    text = unicodedata.normalize("NFC", text or "")
    text = "".join(" " if unicodedata.category(ch)[0] in "CZ" else ch for ch in text)
    return " ".join(text.split())


def fold(text: str) -> str:
    return normal(text).casefold()


def keyed(lines: list[Line]) -> list[tuple[str, Line]]:
    """Each line with its key (see the module's docstring)."""
    seen = Counter()
    result = []
    for line in lines:
        identity = json.dumps(line.identity(), ensure_ascii=False)
        digest = hashlib.sha256(identity.encode()).hexdigest()
        result.append((f"{digest}-{seen[identity]}", line))
        seen[identity] += 1
    return result


def refuse(row: str, message) -> Invalid:
    """The whole file is refused: a message naming the row (nothing is stored)."""
    return Invalid({"file": _l("Row %(row)s: %(message)s", row=row, message=message)})


def cents_of(value: Decimal, row: str, text: str) -> int:
    """Signed whole cents of a decimal within MAX_CENTS, or the file is refused."""
    if not value.is_finite():
        raise refuse(row, _l("%(amount)s is not an amount.", amount=text[:40]))
    if value.copy_abs() * 100 > MAX_CENTS:  # compared before scaling: no huge integers
        raise refuse(
            row,
            _l(
                "the amount %(amount)s is larger than Legami reads from a statement "
                "(10.000.000,00). Check that this is the right file.",
                amount=text[:40],
            ),
        )
    cents = value * 100
    if cents != cents.to_integral_value():
        raise refuse(row, _l("%(amount)s is not an amount in cents.", amount=text[:40]))
    return int(cents)


def rome_day(text: str) -> date:
    """An ISO date or date-time (any offset, or none: Italian time) -> the day in Rome."""
    text = text.strip()
    if len(text) == 10:
        return date.fromisoformat(text)
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        return moment.date()
    return moment.astimezone(ROME).date()


def payer_day(booked_on: date, *candidates: date | None) -> date | None:
    """The first of the payer's dates (most to least direct) that can be true: not after the
    booking, and not more than PAYER_DATE_WINDOW before it."""
    for day in candidates:
        if day is not None and booked_on - PAYER_DATE_WINDOW <= day <= booked_on:
            return day
    return None


_CURRENCY = re.compile(r"[A-Z]{3}")


_CURRENCY_NAMES = {"€": "EUR", "EURO": "EUR", "$": "USD", "US$": "USD", "£": "GBP"}


def currency_code(text: str, row: str) -> str:
    """An ISO 4217 code, as written or from the names banks print (`Euro`, `€`)."""
    code = normal(text).upper()
    code = _CURRENCY_NAMES.get(code, code)
    if not _CURRENCY.fullmatch(code):
        raise refuse(row, _l("%(code)s is not a currency code.", code=code[:20]))
    return code

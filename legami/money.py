"""Money is integer cents plus a currency code; never float.

Every amount a person types (forms) goes through `parse_amount`, and every amount a program
sends (the JSON API, integer cents) through `check_cents`: both give cents within the bounds
their caller states, or raise `AmountError` with a message to show. Nothing else turns text
into money, so `0.001` never becomes 1,00 € and `1e30` never reaches a database column.
"""

import re
import unicodedata
from decimal import Decimal
from functools import lru_cache

from babel import Locale
from babel.numbers import format_currency, format_decimal
from flask_babel import lazy_gettext as _l

# Amount columns are 32-bit INTEGER cents on every engine.
COLUMN_MAX_CENTS = 2_147_483_647
# The largest single gift, refund or receipt threshold anyone can type: 1.000.000,00 €.
MAX_GIFT_CENTS = 100_000_000
# The largest campaign goal: 10.000.000,00 € (a campaign's gifts must still fit a column).
MAX_GOAL_CENTS = 1_000_000_000


def cents_to_decimal(cents: int) -> Decimal:
    return Decimal(cents).scaleb(-2)


@lru_cache(maxsize=4096)
def format_money(cents: int, currency: str = "EUR", locale: str = "it_IT") -> str:
    """`1.234,50 €` by the locale's rules; whole amounts drop the `,00`."""
    amount = cents_to_decimal(cents)
    if cents % 100:
        return format_currency(amount, currency, locale=locale)
    pattern = Locale.parse(locale).currency_formats["standard"].pattern.replace(".00", "")
    return format_currency(amount, currency, format=pattern, locale=locale, currency_digits=False)


def format_amount(cents: int) -> str:
    """Cents as a form field shows them and `parse_amount` reads them back: `1.234,50`."""
    return format_decimal(cents_to_decimal(cents), format="#,##0.00", locale="it_IT")


class AmountError(ValueError):
    """Why a text or value is not an acceptable amount; `message` is for the person."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message


# Euros as Italians write them: digits, dots between groups of three, a comma before one
# or two decimals. Spaces may group thousands too (`1 000`). ASCII digits only.
_HUMAN = re.compile(
    r"(?P<units>[1-9][0-9]{0,2}(?:\.[0-9]{3})+|[1-9][0-9]{0,2}(?:[ \u00a0\u202f][0-9]{3})+|[0-9]+)"
    r"(?:,(?P<cents>[0-9]+))?"
)
_DOT_DECIMALS = re.compile(r"[0-9]+\.[0-9]{1,2}")
_CURRENCY = re.compile(r"(?:€\s*)?(.*?)(?:\s*€)?", re.DOTALL)
# More digits than any bound here has: refused as too large before Python reads them.
_MAX_DIGITS = 12


def _too_large(maximum: int) -> AmountError:
    return AmountError(_l("The amount can be at most %(max)s €.", max=format_amount(maximum)))


def _bounded(cents: int, maximum: int, allow_zero: bool) -> int:
    if cents > maximum:
        raise _too_large(maximum)
    if cents == 0 and not allow_zero:
        raise AmountError(_l("The amount must be more than zero."))
    return cents


def parse_amount(text: str, maximum: int, allow_zero: bool = False) -> int:
    """Euros typed by a person (`10`, `10,50`, `1.000`, `1.000,00`, `€ 25`) -> cents.

    Strict: a dot only groups thousands and a comma only marks the cents, at most two of
    them; no signs, exponents, underscores, NaN or digits other than 0-9. Raises
    AmountError (a ValueError) with a message saying what to write instead.
    """
    raw = _CURRENCY.fullmatch(text.strip()).group(1)
    if not raw:
        raise AmountError(_l("Write an amount in euros."))
    if any(not ch.isascii() and unicodedata.numeric(ch, None) is not None for ch in raw):
        raise AmountError(_l("Write the amount with the digits 0 to 9."))
    if raw.startswith("-"):
        raise AmountError(_l("The amount cannot be negative."))
    found = _HUMAN.fullmatch(raw)
    if found is None:
        if _DOT_DECIMALS.fullmatch(raw):
            raise AmountError(_l("Write the cents after a comma, e.g. 10,50."))
        raise AmountError(_l("Write an amount in euros, e.g. 25 or 1.250,50."))
    units = re.sub(r"[^0-9]", "", found["units"]).lstrip("0") or "0"
    decimals = found["cents"] or ""
    if len(decimals) > 2:
        raise AmountError(_l("Write at most two decimals (the cents), e.g. 10,50."))
    if len(units) > _MAX_DIGITS:
        raise _too_large(maximum)
    return _bounded(int(units) * 100 + int(decimals.ljust(2, "0")), maximum, allow_zero)


def check_cents(value, maximum: int, allow_zero: bool = False) -> int:
    """An amount a program sent as integer cents (JSON `2500`) -> the same cents, checked.

    Refuses booleans, floats (`1e30`, `25.0`), strings and anything out of bounds.
    """
    if not isinstance(value, int) or isinstance(value, bool):
        raise AmountError(_l("Give the amount as a whole number of cents, e.g. 2500."))
    if value < 0:
        raise AmountError(_l("The amount cannot be negative."))
    return _bounded(value, maximum, allow_zero)

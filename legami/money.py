"""Money is integer cents plus a currency code; never float."""

import re
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from babel import Locale
from babel.numbers import format_currency


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


_THOUSANDS = re.compile(r"^\d{1,3}(\.\d{3})+$")


def parse_decimal(text: str) -> int:
    """A machine-written amount ('1500.00', as in XML) -> cents."""
    try:
        value = Decimal(text.strip())
    except InvalidOperation as exc:
        raise ValueError(f"not a decimal amount: {text!r}") from exc
    if not value.is_finite() or value != value.quantize(Decimal("0.01")):
        raise ValueError(f"not an amount in cents: {text!r}")
    return int(value * 100)


def parse_euros(text: str) -> int:
    """'1.234,50', '5.000', '1234.50' or '1234' -> cents; ValueError on anything else.

    Italian first: a comma is the decimal mark and dots in groups of three separate thousands.
    """
    raw = text.strip().replace("€", "").replace(" ", "").replace("\xa0", "")
    if "," in raw or _THOUSANDS.match(raw):
        raw = raw.replace(".", "").replace(",", ".")
    try:
        value = Decimal(raw)
    except InvalidOperation as exc:
        raise ValueError(f"not an amount in euros: {text!r}") from exc
    if not value.is_finite() or value != value.quantize(Decimal("0.01")):
        raise ValueError(f"not an amount in euros: {text!r}")
    return int(value * 100)

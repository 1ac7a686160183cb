"""Money is integer cents plus a currency code; never float."""

from decimal import Decimal

from babel import Locale
from babel.numbers import format_currency


def cents_to_decimal(cents: int) -> Decimal:
    return Decimal(cents).scaleb(-2)


def format_money(cents: int, currency: str = "EUR", locale: str = "it_IT") -> str:
    """`1.234,50 €` by the locale's rules; whole amounts drop the `,00`."""
    amount = cents_to_decimal(cents)
    if cents % 100:
        return format_currency(amount, currency, locale=locale)
    pattern = Locale.parse(locale).currency_formats["standard"].pattern.replace(".00", "")
    return format_currency(amount, currency, format=pattern, locale=locale, currency_digits=False)


def parse_euros(text: str) -> int:
    """'1.234,50', '1234.50' or '1234' -> cents; ValueError on anything else."""
    raw = text.strip().replace("€", "").replace(" ", "")
    if "," in raw:
        raw = raw.replace(".", "").replace(",", ".")
    value = Decimal(raw)
    if not value.is_finite() or value != value.quantize(Decimal("0.01")):
        raise ValueError(f"not an amount in euros: {text!r}")
    return int(value * 100)

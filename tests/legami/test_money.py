import pytest

from legami.money import format_money, parse_euros


@pytest.mark.parametrize(
    ("text", "cents"),
    [
        ("5.000", 500_000),
        ("1.234,50", 123_450),
        ("1234.50", 123_450),
        ("12", 1_200),
        ("0,99", 99),
        ("€ 2.500", 250_000),
        ("5.00", 500),
        ("1.000.000", 100_000_000),
    ],
)
def test_parse_euros(text, cents):
    assert parse_euros(text) == cents


@pytest.mark.parametrize("text", ["", "dieci", "1,234,5", "0,001", "NaN", "Infinity", "1e3x"])
def test_parse_euros_refuses(text):
    with pytest.raises(ValueError):
        parse_euros(text)


def test_format_money_by_locale():
    assert format_money(123_450) == "1.234,50\xa0€"
    assert format_money(500_000) == "5.000\xa0€"
    assert format_money(123_450, locale="en_IE") == "€1,234.50"
    assert format_money(500_000, locale="en_IE") == "€5,000"
    assert format_money(5) == "0,05\xa0€"

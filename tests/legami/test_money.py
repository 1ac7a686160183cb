import re

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from legami.money import (
    COLUMN_MAX_CENTS,
    MAX_GIFT_CENTS,
    MAX_GOAL_CENTS,
    AmountError,
    check_cents,
    format_amount,
    format_money,
    parse_amount,
)


def test_format_money_by_locale():
    assert format_money(123_450) == "1.234,50\xa0€"
    assert format_money(500_000) == "5.000\xa0€"
    assert format_money(123_450, locale="en_IE") == "€1,234.50"
    assert format_money(500_000, locale="en_IE") == "€5,000"
    assert format_money(5) == "0,05\xa0€"


# The one parser of typed amounts (legami.money.parse_amount) and the API's cents.

HOSTILE = [
    ("1e30", "amount in euros"),
    ("9" * 29, "at most"),
    ("1E2", "amount in euros"),
    ("1e9", "amount in euros"),
    ("1_000", "amount in euros"),
    ("0.001", "amount in euros"),
    ("0,001", "two decimals"),
    ("10.50", "after a comma"),
    ("1,000", "two decimals"),
    ("NaN", "amount in euros"),
    ("Infinity", "amount in euros"),
    ("-5", "negative"),
    ("0", "more than zero"),
    ("0,00", "more than zero"),
    ("1.000.000,01", "at most"),
    ("0.500", "amount in euros"),
    ("\u0661\u0662", "digits 0 to 9"),  # Arabic-Indic: int() reads it as 12
    ("\u06f1\u06f2", "digits 0 to 9"),  # Extended Arabic-Indic (Persian)
    ("\uff11\uff12", "digits 0 to 9"),  # fullwidth
    ("1\u00b2", "digits 0 to 9"),  # superscript two: str.isdigit() says True
    ("\u0967\u0968", "digits 0 to 9"),  # Devanagari
    ("\u00bd", "digits 0 to 9"),  # one half
    ("", "Write an amount"),
    ("€", "Write an amount"),
    ("1 0", "amount in euros"),
    ("10,", "amount in euros"),
    ("+10", "amount in euros"),
]


@pytest.mark.parametrize(
    ("text", "cents"),
    [
        ("10", 1_000),
        ("10,50", 1_050),
        ("10,5", 1_050),
        ("0,99", 99),
        ("1.000", 100_000),
        ("1.000,00", 100_000),
        ("1.234.567,89", 123_456_789),
        ("€ 25", 2_500),
        ("25 €", 2_500),
        (" 25,00€ ", 2_500),
        ("1 000", 100_000),
        ("1\xa0000,50", 100_050),
        ("007", 700),
        ("1.000.000", MAX_GIFT_CENTS),
    ],
)
def test_parse_amount(text, cents):
    assert parse_amount(text, MAX_GOAL_CENTS) == cents


@pytest.mark.parametrize(("text", "message"), HOSTILE)
def test_parse_amount_refuses_with_a_message(app, text, message):
    with pytest.raises(AmountError) as refused:
        parse_amount(text, MAX_GIFT_CENTS)
    with app.test_request_context("/?lang=en"):
        assert message in str(refused.value.message)


def test_zero_only_where_allowed_and_the_bound_is_inclusive():
    assert parse_amount("0", MAX_GIFT_CENTS, allow_zero=True) == 0
    assert parse_amount("10.000.000", MAX_GOAL_CENTS) == MAX_GOAL_CENTS
    with pytest.raises(AmountError):
        parse_amount("10.000.000,01", MAX_GOAL_CENTS)


def test_the_bounds_fit_a_32_bit_column():
    assert MAX_GIFT_CENTS < MAX_GOAL_CENTS < COLUMN_MAX_CENTS == 2**31 - 1


@pytest.mark.parametrize(
    "value", [True, 1e30, 25.0, "2500", None, [], -1, 0, MAX_GOAL_CENTS + 1, 10**40]
)
def test_check_cents_refuses(value):
    with pytest.raises(AmountError):
        check_cents(value, MAX_GOAL_CENTS)


def test_check_cents_takes_whole_cents():
    assert check_cents(2_500, MAX_GOAL_CENTS) == 2_500
    assert check_cents(MAX_GOAL_CENTS, MAX_GOAL_CENTS) == MAX_GOAL_CENTS


@given(st.integers(min_value=1, max_value=MAX_GOAL_CENTS))
def test_what_a_form_shows_reads_back_the_same(cents):
    assert parse_amount(format_amount(cents), MAX_GOAL_CENTS) == cents


@given(st.integers(min_value=0, max_value=MAX_GOAL_CENTS))
def test_grouped_or_bare_italian_text_reads_as_written(cents):
    euros, rest = divmod(cents, 100)
    bare = f"{euros},{rest:02d}"
    assert parse_amount(bare, MAX_GOAL_CENTS, allow_zero=True) == cents
    assert parse_amount(f"€ {format_amount(cents)}", MAX_GOAL_CENTS, allow_zero=True) == cents


@given(st.text())
@example("1" + "0" * 5000)
@example("0" * 5000 + "1")
@example("\u0663" * 5000)
def test_any_text_is_an_amount_in_bounds_or_an_amount_error(text):
    try:
        cents = parse_amount(text, MAX_GIFT_CENTS)
    except AmountError:
        return
    assert 1 <= cents <= MAX_GIFT_CENTS
    assert re.fullmatch(r"[0-9., \u00a0\u202f€]+", text.strip())


@given(st.from_regex(r"\A[0-9.,eE_+\- €]{1,16}\Z"))
def test_number_like_text_is_an_amount_in_bounds_or_an_amount_error(text):
    try:
        cents = parse_amount(text, MAX_GIFT_CENTS)
    except AmountError:
        return
    assert 1 <= cents <= MAX_GIFT_CENTS

import pytest

from receipts.amount_words import euro_words, number_words


@pytest.mark.parametrize(
    ("n", "words"),
    [
        (0, "zero"),
        (1, "uno"),
        (3, "tre"),
        (16, "sedici"),
        (21, "ventuno"),
        (23, "ventitré"),
        (28, "ventotto"),
        (80, "ottanta"),
        (99, "novantanove"),
        (100, "cento"),
        (101, "centouno"),
        (103, "centotré"),
        (108, "centootto"),
        (180, "centottanta"),
        (188, "centottantotto"),
        (200, "duecento"),
        (333, "trecentotrentatré"),
        (1000, "mille"),
        (1003, "milletré"),
        (1234, "milleduecentotrentaquattro"),
        (2000, "duemila"),
        (3000, "tremila"),
        (21000, "ventunomila"),
        (23000, "ventitremila"),
        (100000, "centomila"),
        (999999, "novecentonovantanovemilanovecentonovantanove"),
        (1_000_000, "un milione"),
        (1_200_000, "un milione duecentomila"),
        (3_000_003, "tre milioni tre"),
        (23_000_000, "ventitré milioni"),
        (2_000_000_000, "due miliardi"),
    ],
)
def test_number_words(n, words):
    assert number_words(n) == words


@pytest.mark.parametrize(
    ("cents", "words"),
    [
        (123450, "milleduecentotrentaquattro euro e cinquanta centesimi"),
        (100, "un euro"),
        (1, "un centesimo"),
        (50, "cinquanta centesimi"),
        (0, "zero euro"),
        (2500, "venticinque euro"),
        (2301, "ventitré euro e un centesimo"),
        (100_000_000, "un milione di euro"),
        (300_000_000, "tre milioni di euro"),
        (120_000_000, "un milione duecentomila euro"),
        (5_000_000, "cinquantamila euro"),
    ],
)
def test_euro_words(cents, words):
    assert euro_words(cents) == words


def test_negative_amounts_are_refused():
    with pytest.raises(ValueError):
        euro_words(-1)

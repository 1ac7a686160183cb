"""Amounts in Italian words for receipts: 1234,50 -> "milleduecentotrentaquattro euro e
cinquanta centesimi". num2words gets Italian money wrong (reads integers as cents, "un milione
euro", drops accents), hence this small formatter."""

_UNITS = [
    "zero",
    "uno",
    "due",
    "tre",
    "quattro",
    "cinque",
    "sei",
    "sette",
    "otto",
    "nove",
    "dieci",
    "undici",
    "dodici",
    "tredici",
    "quattordici",
    "quindici",
    "sedici",
    "diciassette",
    "diciotto",
    "diciannove",
]
_TENS = [
    "_",
    "_",
    "venti",
    "trenta",
    "quaranta",
    "cinquanta",
    "sessanta",
    "settanta",
    "ottanta",
    "novanta",
]


def _below_hundred(n: int) -> str:
    if n < 20:
        return _UNITS[n]
    tens, unit = divmod(n, 10)
    word = _TENS[tens]
    if unit in (1, 8):  # venti + uno -> ventuno, trenta + otto -> trentotto
        word = word[:-1]
    return word + (_UNITS[unit] if unit else "")


def _below_thousand(n: int) -> str:
    hundreds, rest = divmod(n, 100)
    head = "" if hundreds == 0 else "cento" if hundreds == 1 else _UNITS[hundreds] + "cento"
    if not rest:
        return head
    tail = _below_hundred(rest)
    if head and tail.startswith("ottant"):  # cento + ottanta -> centottanta
        head = head[:-1]
    return head + tail


def _accent_final_tre(word: str) -> str:
    """A compound ending in "tre" takes the accent: ventitré, centotré, milletré."""
    return word[:-3] + "tré" if word.endswith("tre") and word != "tre" else word


def number_words(n: int) -> str:
    """A non-negative integer in Italian words, as written on cheques and receipts."""
    if n < 0:
        raise ValueError("negative amount")
    if n == 0:
        return "zero"
    parts = []
    for size, one, many in ((10**9, "un miliardo", "miliardi"), (10**6, "un milione", "milioni")):
        count, n = divmod(n, size)
        if count:
            parts.append(one if count == 1 else f"{_accent_final_tre(number_words(count))} {many}")
    thousands, n = divmod(n, 1000)
    word = ""
    if thousands:
        word = "mille" if thousands == 1 else _below_thousand(thousands) + "mila"
    if n:
        word += _below_thousand(n)
    if word:
        parts.append(_accent_final_tre(word))
    return " ".join(parts)


def euro_words(cents: int) -> str:
    """An amount of money in cents in Italian words: "un milione di euro e cinque centesimi"."""
    if cents < 0:
        raise ValueError("negative amount")
    euros, rest = divmod(cents, 100)
    words = []
    if euros or not rest:
        if euros == 1:
            words.append("un euro")
        elif euros % 10**6 == 0 and euros:
            words.append(f"{number_words(euros)} di euro")  # un milione di euro
        else:
            words.append(f"{number_words(euros)} euro")
    if rest:
        words.append("un centesimo" if rest == 1 else f"{number_words(rest)} centesimi")
    return " e ".join(words)

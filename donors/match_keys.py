"""Keys under which two donor records may be one person: the mailbox an address reaches and a
phone number in E.164 form.

Pure functions of a stored (already normalised) value; the donor model keeps their results
in indexed columns, so the duplicate finder compares them in SQL.
"""

import re
import unicodedata

GMAIL_DOMAINS = {"gmail.com", "googlemail.com"}
_PHONE_PUNCTUATION = re.compile(r"[\s().\-/]+")


def mailbox_key(email: str) -> str:
    """The mailbox an address reaches: `+tag` sub-addresses dropped (most providers deliver
    them to the plain address), and at Gmail the dots of the local part too, with
    googlemail.com read as gmail.com. `email` is normalised (NFKC, case-folded)."""
    local, at, domain = email.rpartition("@")
    if not at or not local:
        return email
    local = local.split("+", 1)[0] or local
    if domain in GMAIL_DOMAINS:
        local, domain = local.replace(".", "") or local, "gmail.com"
    return f"{local}@{domain}"


def phone_key(phone: str, country: str = "IT") -> str:
    """The number in E.164 form (`+393331234567`), or "" when it cannot be told.

    Spaces, dots, dashes, slashes and brackets are dropped; `00` becomes `+`. A number
    without a country prefix is Italian when the donor lives in Italy (landlines keep their
    leading 0: `0372 111222` is `+390372111222`; mobiles are 3 and 8-9 digits, or those
    after a bare `39`); elsewhere its country is unknown.
    """
    text = _PHONE_PUNCTUATION.sub("", unicodedata.normalize("NFKC", phone))
    if text.startswith("00"):
        text = "+" + text[2:]
    italian = (country or "IT") == "IT"
    if text.startswith("+"):
        digits = text[1:]
    elif italian and text.startswith("0"):
        digits = "39" + text  # a landline
    elif italian and text.startswith("3") and len(text) in (9, 10):
        digits = "39" + text  # a mobile
    elif italian and text.startswith("39") and len(text) in (11, 12):
        digits = text  # a mobile written with the country code but no `+`
    else:
        return ""
    if not digits.isascii() or not digits.isdigit() or not 8 <= len(digits) <= 15:
        return ""
    return "+" + digits

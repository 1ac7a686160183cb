"""How a gift was paid, and the one rule of what follows from it.

Art. 83 D.Lgs. 117/2017 gives a tax benefit only for money paid through traceable means
(a bank, the post office, cards, the payment services of art. 23 D.Lgs. 241/1997 such as
PayPal and Satispay, cheques), and the data set for the pre-filled tax return reports only
such gifts. Cash and any other means nobody can trace give neither. Receipts (the
deductible wording), the treasurer's exports, the offline-gift form and the schema's check
on `donations.deductible` all read `is_traceable` / `is_deductible`, never a list of their own.
"""

import enum


class Method(enum.StrEnum):
    CARD = "card"
    BANK_TRANSFER = "bank_transfer"
    POSTAL = "postal"  # bollettino or vaglia postale
    PAYPAL = "paypal"
    SATISPAY = "satispay"
    CHEQUE = "cheque"
    CASH = "cash"
    OTHER_UNTRACEABLE = "other_untraceable"


UNTRACEABLE = frozenset({Method.CASH, Method.OTHER_UNTRACEABLE})
TRACEABLE = tuple(m for m in Method if m not in UNTRACEABLE)


def is_traceable(method: str) -> bool:
    """Money whose path a bank or payment service records (False for unknown methods)."""
    return method in TRACEABLE


def is_deductible(method: str) -> bool:
    """Whether a gift paid this way can give the donor a tax benefit."""
    return is_traceable(method)


def deductible_check() -> str:
    """The SQL CHECK that keeps `donations.deductible` equal to `is_deductible(method)`."""
    untraceable = ", ".join(f"'{m.value}'" for m in Method if m in UNTRACEABLE)
    return f"deductible = (method NOT IN ({untraceable}))"

"""ISO 20022 bank statements (camt.053, any version: .001.02 to .001.08 and later; the same
entries in a camt.052 report or camt.054 notification read alike) -> payments.bank_lines.

How the standard is read:
- Every `Ntry` of every `Stmt` (`Rpt`, `Ntfctn`) whose status (`Sts`, or `Sts/Cd` from .08)
  is booked (BOOK, or absent); pending and information entries are noted and left out, as
  they come again once booked.
- An entry with several transactions (`NtryDtls/TxDtls`, a batch) gives one line per
  transaction, each with its own amount: `TxDtls/Amt` (.08) or `TxDtls/AmtDtls/TxAmt/Amt`
  (.02), and its own `CdtDbtInd` when it has one. An entry with one transaction or none is
  one line with the entry's amount.
- Currency: the `Ccy` of the amount. When `AmtDtls/InstdAmt` shows the payer sent another
  currency (the bank converted it), the line says so and never confirms a gift.
- Reversal: `RvslInd` true (or 1). A debit so marked takes back an earlier credit.
- References: the causale is every `RmtInf/Ustrd`, each `RmtInf/Strd/CdtrRefInf/Ref` and
  `Strd/AddtlRmtInf`, else `AddtlTxInf`, else (one transaction) `AddtlNtryInf`. The bank's
  reference is the transaction's `Refs/AcctSvcrRef`, or the entry's `AcctSvcrRef` when the
  entry holds one transaction. `NtryRef` is never used: banks reuse it from day to day.
- Payer: `RltdPties/Dbtr/Nm` (.02) or `RltdPties/Dbtr/Pty/Nm` (.08), else the ultimate
  debtor, else (a debit) the creditor.
- Dates: `BookgDt` is when the bank booked the entry on our account. The payer's date, the day
  the gift was made, is the first of these that the statement gives and that is plausible
  (payments.bank_lines.payer_day): `RltdDts/AccptncDtTm` (the payer's bank accepted the
  order: the day the payer gave it), `RltdDts/TxDtTm`, `RltdDts/IntrBkSttlmDt` (the day
  the payer's bank paid ours), then the entry's `ValDt` (value date: for a credit, the day the
  money counts as ours, the settlement date). So a transfer ordered on 31 December and booked
  on 2 January belongs to the payer's year. `Dt` or `DtTm` alike; times are read in their
  own offset (none: Italian time) and taken as the day in Rome.
- Amounts must be plain decimals (no exponent), whole cents, at most MAX_CENTS.
A file with a DOCTYPE, or that is not such a document, is refused as a whole.
"""

import re
from datetime import date
from decimal import Decimal
from xml.etree import ElementTree

from flask_babel import lazy_gettext as _l

from legami.validation import Invalid
from payments.bank_lines import (
    CREDIT,
    DEBIT,
    Line,
    Note,
    Parsed,
    cents_of,
    currency_code,
    normal,
    payer_day,
    refuse,
    rome_day,
)

CONTAINERS = {"Stmt", "Rpt", "Ntfctn"}
_DECIMAL = re.compile(r"[0-9]{1,18}(\.[0-9]{1,5})?")
_NOT_PROVIDED = "NOTPROVIDED"


def _local(tag) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _children(element, name: str) -> list:
    return [c for c in element if _local(c.tag) == name] if element is not None else []


def _find(element, *path):
    """The first element along `path`, whatever the version's namespace."""
    current = [element] if element is not None else []
    for name in path:
        current = [c for e in current for c in _children(e, name)]
        if not current:
            return None
    return current[0]


def _text(element, *path) -> str:
    found = _find(element, *path)
    return normal(found.text) if found is not None else ""


def _all_texts(element, *path) -> list[str]:
    """The text of every element along `path` (each step may repeat)."""
    current = [element] if element is not None else []
    for name in path:
        current = [c for e in current for c in _children(e, name)]
    return [normal(c.text) for c in current if normal(c.text)]


def _amount(element, row: str, currency_default: str = "") -> tuple[int, str] | None:
    """(cents, currency) of an `Amt`-like element, or None when absent."""
    if element is None:
        return None
    text = (element.text or "").strip()
    if not _DECIMAL.fullmatch(text):
        raise refuse(row, _l("%(amount)s is not an amount.", amount=text[:40]))
    cents = cents_of(Decimal(text), row, text)
    currency = element.get("Ccy") or currency_default
    return cents, currency_code(currency, row) if currency else ""


def _day(element, row: str) -> date | None:
    """A `Dt`/`DtTm` choice, or a bare ISO date or date-time, as the day in Rome."""
    if element is None:
        return None
    text = _text(element, "Dt") or _text(element, "DtTm") or normal(element.text)
    if not text:
        return None
    try:
        return rome_day(text)
    except ValueError as exc:
        raise refuse(row, _l("%(date)s is not a date.", date=text[:40])) from exc


def _direction(text: str, row: str) -> str:
    if text == "CRDT":
        return CREDIT
    if text == "DBIT":
        return DEBIT
    raise refuse(row, _l("the entry is neither a credit nor a debit (CdtDbtInd)."))


def _description(tx, entry, single: bool) -> str:
    info = tx if tx is not None else entry
    parts = _all_texts(info, "RmtInf", "Ustrd")
    for strd in _children(_find(info, "RmtInf"), "Strd"):
        parts += _all_texts(strd, "CdtrRefInf", "Ref") + _all_texts(strd, "AddtlRmtInf")
    if parts:
        return " ".join(parts)
    return _text(tx, "AddtlTxInf") or (_text(entry, "AddtlNtryInf") if single else "")


def _party(tx, role: str) -> str:
    party = _find(tx, "RltdPties", role)
    return _text(party, "Nm") or _text(party, "Pty", "Nm")


def _line(entry, tx, row: str, single: bool, account_currency: str) -> Line:
    direction = _direction(_text(tx, "CdtDbtInd") or _text(entry, "CdtDbtInd"), row)
    if single:
        amount = _amount(_find(entry, "Amt"), row, account_currency)
    else:
        amount = _amount(_find(tx, "Amt"), row, account_currency) or _amount(
            _find(tx, "AmtDtls", "TxAmt", "Amt"), row, account_currency
        )
    if amount is None:
        raise refuse(row, _l("a transaction of a batch entry has no amount."))
    cents, currency = amount
    if cents <= 0:
        raise refuse(row, _l("the amount must be more than zero."))
    instructed = _amount(_find(tx, "AmtDtls", "InstdAmt", "Amt"), row)
    sent_currency = instructed[1] if instructed and instructed[1] != currency else ""
    booked_on = _day(_find(entry, "BookgDt"), row) or _day(_find(entry, "ValDt"), row)
    if booked_on is None:
        raise refuse(row, _l("the entry has no booking date."))
    related = _find(tx, "RltdDts")
    paid_on = payer_day(
        booked_on,
        _day(_find(related, "AccptncDtTm"), row),
        _day(_find(related, "TxDtTm"), row),
        _day(_find(related, "IntrBkSttlmDt"), row),
        _day(_find(entry, "ValDt"), row),
    )
    end_to_end = _text(tx, "Refs", "EndToEndId")
    reference = _text(tx, "Refs", "AcctSvcrRef") or (_text(entry, "AcctSvcrRef") if single else "")
    payer = (
        _party(tx, "Dbtr")
        or _party(tx, "UltmtDbtr")
        or (_party(tx, "Cdtr") if direction == DEBIT else "")
    )
    return Line(
        row=row,
        direction=direction,
        reversal=_text(entry, "RvslInd").lower() in ("true", "1"),
        amount_cents=cents,
        currency=currency or "EUR",
        booked_on=booked_on,
        paid_on=paid_on,
        description=_description(tx, entry, single),
        payer=payer,
        bank_reference=reference,
        end_to_end_id="" if end_to_end.upper() == _NOT_PROVIDED else end_to_end,
        sent_currency=sent_currency,
        context=_text(entry, "AcctSvcrRef") if not single else "",
    )


def _status(entry) -> str:
    return (_text(entry, "Sts", "Cd") or _text(entry, "Sts") or "BOOK").upper()


def read(data: bytes) -> Parsed:
    """The booked lines of a camt statement, in file order, or Invalid (nothing is read)."""
    if b"<!DOCTYPE" in data.replace(b"\x00", b"").upper():  # no entities, no external files
        raise Invalid({"file": _l("This is not a CAMT.053 XML statement.")})
    try:
        root = ElementTree.fromstring(data)
    except ElementTree.ParseError as exc:
        raise Invalid({"file": _l("This is not a CAMT.053 XML statement.")}) from exc
    statements = [c for message in root for c in message if _local(c.tag) in CONTAINERS]
    if _local(root.tag) != "Document" or not statements:
        raise Invalid({"file": _l("This is not a CAMT.053 XML statement.")})
    lines, notes, number = [], [], 0
    for statement in statements:
        account_currency = _text(statement, "Acct", "Ccy")
        for entry in _children(statement, "Ntry"):
            number += 1
            if _status(entry) != "BOOK":
                notes.append(Note(str(number), "not_booked", _status(entry)))
                continue
            txs = [t for d in _children(entry, "NtryDtls") for t in _children(d, "TxDtls")]
            if len(txs) <= 1:
                tx = txs[0] if txs else None
                lines.append(_line(entry, tx, str(number), True, account_currency))
                continue
            for index, tx in enumerate(txs, start=1):
                lines.append(_line(entry, tx, f"{number}.{index}", False, account_currency))
    return Parsed(lines, notes)

"""Italian home-banking CSV exports -> payments.bank_lines, with the organisation's mapping.

What it reads:
- Encodings: UTF-8 (with or without BOM), UTF-16 with BOM (Excel's "Unicode text", tab
  separated) or without, and Windows-1252 (Excel's "CSV" on Windows; Latin-1 for the few
  bytes Windows-1252 leaves undefined). Text is NFC-normalised before anything else.
- The delimiter of the mapping, else tab, semicolon or comma: the first with which a row holds
  the mapped column titles. Rows before that row (bank name, account, period) are noted.
- One signed amount column (`Importo`, negative for debits), or separate `Avere` (credits)
  and `Dare` (debits, with or without a minus) columns. Amounts are Italian (`1.250,50`,
  `-40,00`, `40,00-`) or plain (`1250.50`), with or without `€`; never exponents or other
  digits; at most MAX_CENTS.
- Dates in the mapping's format, else dd/mm/yyyy, dd/mm/yy, dd.mm.yyyy, dd-mm-yyyy or ISO; a
  time after the date is ignored. "Data contabile" is the booking date; "Data valuta", when
  mapped, is the value date, taken as the payer's date when plausible
  (payments.bank_lines.payer_day): a transfer the payer made on 31 December and booked on 2
  January carries value date 31 December.
- Rows without a date: blank ones are skipped; balance and total rows ("Saldo contabile
  finale", "Totale movimenti"), the column titles repeated (a paged export) and rows without
  an amount are noted and left out. A row with an amount but an unreadable date refuses the
  file, as does an unreadable amount.
- A currency column, when mapped, may say `EUR`, `Euro` or `€`; else the currency in the
  amount column's title (`Importo EUR`), else euros.
- A debit whose causale says "storno" (or "reversal") is a reversal of an earlier credit.
"""

import codecs
import csv
import io
import re
from datetime import date, datetime
from decimal import Decimal

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
    fold,
    normal,
    payer_day,
    refuse,
)
from payments.models import CsvMapping

DELIMITERS = ("\t", ";", ",")
DATE_FORMATS = ("%d/%m/%Y", "%d/%m/%y", "%d.%m.%Y", "%d-%m-%Y", "%Y-%m-%d")
_SUMMARY = re.compile(
    r"\b(saldo|saldi|totale|totali|total|totals|balance|disponibile|disponibilità|giacenza)\b",
    re.IGNORECASE,
)
_REVERSAL = re.compile(r"\b(storn[a-z]*|revers[a-z]*)\b", re.IGNORECASE)
_ITALIAN = re.compile(r"[0-9]{1,3}(\.[0-9]{3})+(,[0-9]{1,2})?|[0-9]+(,[0-9]{1,2})?")
_PLAIN = re.compile(r"[0-9]+\.[0-9]{1,2}")
_CURRENCY_IN_TITLE = re.compile(r"\b(EUR|USD|GBP|CHF)\b", re.IGNORECASE)


def decode(data: bytes) -> str:
    """The file's text, whatever of the encodings above it was saved in."""
    if data.startswith(b"PK\x03\x04") or data.startswith(b"\xd0\xcf\x11\xe0"):
        raise Invalid(
            {"file": _l("This is an Excel workbook: save it as CSV or Unicode text first.")}
        )
    try:
        if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            text = data.decode("utf-16")
        elif data.startswith(codecs.BOM_UTF8):
            text = data.decode("utf-8-sig")
        elif b"\x00" in data[:400]:
            even_nuls = data[:400:2].count(0)
            text = data.decode("utf-16-be" if even_nuls > data[1:400:2].count(0) else "utf-16-le")
        else:
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError:
                try:
                    text = data.decode("cp1252")
                except UnicodeDecodeError:
                    text = data.decode("latin-1")
    except UnicodeDecodeError as exc:
        raise Invalid({"file": _l("The file is not readable text.")}) from exc
    if "\x00" in text:
        raise Invalid({"file": _l("The file is not readable text.")})
    return text


def _amount(text: str, row: str) -> int | None:
    """Signed cents of a bank's amount, None when the cell is empty."""
    raw = normal(text).replace("€", "").replace("EUR", "").replace(" ", "")
    if not raw:
        return None
    sign = 1
    if raw[0] in "+-":
        sign, raw = (-1 if raw[0] == "-" else 1), raw[1:]
    elif raw.endswith("-"):
        sign, raw = -1, raw[:-1]
    if _ITALIAN.fullmatch(raw):
        value = Decimal(raw.replace(".", "").replace(",", "."))
    elif _PLAIN.fullmatch(raw):
        value = Decimal(raw)
    else:
        raise refuse(row, _l("%(amount)s is not an amount.", amount=normal(text)[:40]))
    return sign * cents_of(value, row, normal(text))


def _date(text: str, date_format: str) -> date | None:
    words = normal(text).split(" ")
    for fmt in dict.fromkeys((date_format, *DATE_FORMATS)):
        try:
            return datetime.strptime(words[0], fmt).date()
        except ValueError:
            continue
    return None


def _columns(mapping: CsvMapping) -> dict[str, str]:
    names = {
        "date": mapping.date_column,
        "value_date": mapping.value_date_column,
        "amount": mapping.amount_column,
        "credit": mapping.credit_column,
        "debit": mapping.debit_column,
        "description": mapping.description_column,
        "payer": mapping.payer_column,
        "currency": mapping.currency_column,
    }
    return {role: name for role, name in names.items() if normal(name)}


def _required(columns: dict[str, str]) -> list[str]:
    """The roles whose columns must be in the file (payer, currency, value date may lack)."""
    amounts = ["amount"] if "amount" in columns else ["credit", "debit"]
    return ["date", "description", *(role for role in amounts if role in columns)]


def _table(text: str, mapping: CsvMapping, columns: dict[str, str]):
    """(rows, index of the title row, column positions by role), trying each delimiter."""
    wanted = {role: fold(name) for role, name in columns.items()}
    required = _required(columns)
    seen = set()
    for delimiter in dict.fromkeys((mapping.delimiter or ";", *DELIMITERS)):
        try:
            rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
        except csv.Error as exc:
            raise Invalid({"file": _l("The file is not a readable CSV file.")}) from exc
        for index, row in enumerate(rows):
            titles = [fold(cell) for cell in row]
            seen.update(titles)
            positions = {
                role: titles.index(name) for role, name in wanted.items() if name in titles
            }
            if all(role in positions for role in required):
                return rows, index, positions
    missing = [columns[role] for role in required if wanted[role] not in seen]
    raise Invalid(
        {
            "file": _l(
                "The file has no column %(columns)s.",
                columns=", ".join(missing or [columns[role] for role in required]),
            )
        }
    )


def read(data: bytes, mapping: CsvMapping) -> Parsed:
    """The lines of a CSV export, in file order, or Invalid (nothing is read)."""
    columns = _columns(mapping)
    if "amount" not in columns and "credit" not in columns:
        raise Invalid({"amount_column": _l("Name the amount column, or the Avere column.")})
    text = decode(data)
    rows, title_row, at = _table(text, mapping, columns)
    notes = [Note(f"1-{title_row}" if title_row > 1 else "1", "preamble")] if title_row else []
    lines = []
    default_currency = "EUR"
    title = columns.get("amount") or columns.get("credit", "")
    if found := _CURRENCY_IN_TITLE.search(title):
        default_currency = found.group(1).upper()
    titles = [fold(cell) for cell in rows[title_row]]
    for number, row in enumerate(rows[title_row + 1 :], start=title_row + 2):
        cells = [normal(cell) for cell in row]
        if not any(cells):
            continue
        if [fold(cell) for cell in cells] == titles:  # an export split into pages
            notes.append(Note(str(number), "titles"))
            continue

        def cell(role: str, cells=cells) -> str:
            position = at.get(role)
            return cells[position] if position is not None and position < len(cells) else ""

        label = str(number)
        booked_on = _date(cell("date"), mapping.date_format)
        amount_cells = [cell(role) for role in ("amount", "credit", "debit") if role in at]
        if booked_on is None:
            joined = " ".join(c for c in cells if c)
            if _SUMMARY.search(joined):
                notes.append(Note(label, "summary", joined[:80]))
            elif not any(amount_cells):
                notes.append(Note(label, "no_date", joined[:80]))
            else:
                raise refuse(label, _l("%(date)s is not a date.", date=cell("date")[:40] or "—"))
            continue
        if "amount" in at:
            signed = _amount(cell("amount"), label)
        else:
            credit, debit = _amount(cell("credit"), label), _amount(cell("debit"), label)
            if credit and debit:
                raise refuse(label, _l("the row has an amount both in Dare and in Avere."))
            signed = credit if credit else (-abs(debit) if debit else None)
        if not signed:
            notes.append(Note(label, "no_amount", cell("description")[:80]))
            continue
        description = cell("description")
        direction = CREDIT if signed > 0 else DEBIT
        currency = cell("currency")
        lines.append(
            Line(
                row=label,
                direction=direction,
                reversal=direction == DEBIT and bool(_REVERSAL.search(description)),
                amount_cents=abs(signed),
                currency=currency_code(currency, label) if currency else default_currency,
                booked_on=booked_on,
                paid_on=payer_day(booked_on, _date(cell("value_date"), mapping.date_format)),
                description=description,
                payer=cell("payer"),
            )
        )
    return Parsed(lines, notes)

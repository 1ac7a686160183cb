"""CSV for spreadsheets: UTF-8 with BOM (Excel), semicolons (Italian locale), and cells that
would start a formula escaped, so an exported name like `=HYPERLINK(...)` stays text.
XLSX exports escape their text cells the same way (`safe_value`)."""

import csv
import io
from collections.abc import Iterable, Iterator
from itertools import chain
from typing import IO

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def safe_value(value):
    """For typed cells (XLSX): text escaped as `safe_cell` does; numbers and dates kept.
    Control characters cannot be stored in XLSX: they are dropped first."""
    if isinstance(value, str):
        return safe_cell(ILLEGAL_CHARACTERS_RE.sub("", value))
    return value


def write_xlsx(title: str, header: list[str], rows: Iterable, out: IO[bytes]) -> None:
    """One sheet written row by row (openpyxl's write-only workbook), cells escaped."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title)
    sheet.append(header)
    for row in rows:
        sheet.append([safe_value(v) for v in row])
    book.save(out)


def iter_csv(header: list[str], rows: Iterable) -> Iterator[str]:
    """The CSV a line at a time, to stream a large export."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    yield "\ufeff"
    for row in chain([header], ([safe_cell(v) for v in row] for row in rows)):
        writer.writerow(row)
        yield out.getvalue()
        out.seek(0)
        out.truncate()


def to_csv(header: list[str], rows) -> str:
    return "".join(iter_csv(header, rows))

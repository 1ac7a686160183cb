"""CSV for spreadsheets: UTF-8 with BOM (Excel), semicolons (Italian locale), and cells that
would start a formula escaped, so an exported name like `=HYPERLINK(...)` stays text.
XLSX exports escape their text cells the same way (`safe_value`)."""

import csv
import io
from collections.abc import Iterable, Iterator
from itertools import chain

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def safe_value(value):
    """For typed cells (XLSX): text escaped as `safe_cell` does; numbers and dates kept."""
    return safe_cell(value) if isinstance(value, str) else value


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

"""Reading an uploaded donor file, CSV or XLSX, as rows of text cells, streamed: a file of
any size is read row by row, never held in memory whole.

A CSV's encoding is found before it is read: a UTF-16 byte order mark means UTF-16;
otherwise the body (after a UTF-8 BOM, if any) is UTF-8 when all of it decodes strictly as
UTF-8, else Windows-1252 (as Excel saves CSV in Italy; a BOM in front of such a body is a
spreadsheet's mistake, not a promise). A body that is neither is refused. Decoding never
replaces a byte, so no U+FFFD is ever made here. The delimiter (`,`, `;` or tab) is the one
that splits the header into the most columns. XLSX cells are read as their text: a formula
is its text, never evaluated.
"""

import codecs
import csv
import io
from collections.abc import Iterator
from datetime import date, datetime, time
from itertools import chain
from pathlib import Path

CHUNK = 1 << 20
UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


class UnreadableFile(Exception):
    pass


def _decodes(handle, start: int, encoding: str) -> bool:
    """Whether everything from `start` decodes strictly in `encoding`, read in chunks."""
    handle.seek(start)
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    try:
        while chunk := handle.read(CHUNK):
            decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def encoding_of(path: Path) -> tuple[str, int]:
    """The encoding of a CSV and where its text starts (after a UTF-8 BOM)."""
    with path.open("rb") as handle:
        head = handle.read(4)
        if head.startswith(UTF16_BOMS):
            encoding, start = "utf-16", 0  # the codec reads the BOM and its byte order
            if _decodes(handle, start, encoding):
                return encoding, start
            raise UnreadableFile("not UTF-16 after a UTF-16 byte order mark")
        start = len(codecs.BOM_UTF8) if head.startswith(codecs.BOM_UTF8) else 0
        for encoding in ("utf-8", "cp1252"):
            if _decodes(handle, start, encoding):
                return encoding, start
    raise UnreadableFile("neither UTF-8 nor Windows-1252")


def _delimiter(header: str) -> str:
    return max(",;\t", key=lambda d: len(next(csv.reader([header], delimiter=d), [])))


def _csv_rows(path: Path) -> Iterator[list[str]]:
    encoding, start = encoding_of(path)
    with path.open("rb") as raw:
        raw.seek(start)
        text = io.TextIOWrapper(raw, encoding=encoding, newline="")
        header = text.readline()
        yield from csv.reader(chain([header], text), delimiter=_delimiter(header))


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date | time):
        return value.isoformat(sep=" ") if isinstance(value, datetime) else value.isoformat()
    return str(value)


def _xlsx_rows(path: Path) -> Iterator[list[str]]:
    from openpyxl import load_workbook

    # read_only streams the sheet; data_only=False reads a formula as its text.
    workbook = load_workbook(path, read_only=True, data_only=False)
    try:
        for row in workbook.worksheets[0].iter_rows(values_only=True):
            yield [_cell_text(value) for value in row]
    finally:
        workbook.close()


def _records(path: Path) -> Iterator[list[str]]:
    """Every record of the file, the header first, as text cells."""
    if path.suffix.lower() == ".xlsx":
        return _xlsx_rows(path)
    return _csv_rows(path)


def read_file(path: Path) -> tuple[list[str], Iterator[tuple[int, list[str]]]]:
    """The headers, and the non-blank data rows with their row number in the file (the
    header is row 1), as a spreadsheet numbers them. Raises UnreadableFile."""
    records = _records(path)
    try:
        headers = [h.strip() for h in next(records)]
    except StopIteration:
        return [], iter(())
    except Exception as exc:  # a damaged or foreign file: openpyxl and zipfile raise many kinds
        raise UnreadableFile(str(exc)) from exc
    while headers and not headers[-1]:
        headers.pop()
    return headers, _data_rows(records)


def _data_rows(records: Iterator[list[str]]) -> Iterator[tuple[int, list[str]]]:
    try:
        for number, cells in enumerate(records, start=2):
            if any(cell.strip() for cell in cells):
                yield number, cells
    except Exception as exc:  # as above, and csv.Error for a broken CSV
        raise UnreadableFile(str(exc)) from exc

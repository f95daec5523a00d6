"""Tables the bot hands out (CSV, XLSX): every cell passes through `safe_cell` on the way out.

A spreadsheet runs a cell that starts with ``=``, ``+``, ``-`` or ``@`` as a formula (and a
leading tab or carriage return can hide one), so a school name, a comment or an event title
typed by a user could become a live formula in a coordinator's Excel ("CSV injection"). The
OWASP rule applied here: such text gets a leading ``'``, which spreadsheets read as "this is
text". Real numbers (``int``/``float`` values, or text that is just a number such as ``-5`` or
``-1,5``) stay numbers. Every writer of a table for people to open must use this module.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TextIO

__all__ = ["SafeCsvWriter", "csv_bytes", "csv_writer", "safe_cell", "safe_text", "xlsx_bytes"]

#: first characters that make a spreadsheet read a cell as a formula (or hide one); the
#: full-width forms are read as formulas by some East Asian spreadsheet setups
FORMULA_TRIGGERS = frozenset("=+-@\t\r\n\uff1d\uff0b\uff0d\uff20")
_NUMBER = re.compile(r"[+-]?(?:\d+(?:[.,]\d*)?|[.,]\d+)(?:[eE][+-]?\d+)?")


def safe_text(text: str) -> str:
    """`text` that no spreadsheet runs as a formula: a leading ``'`` when it could be one."""
    if not text or _NUMBER.fullmatch(text):
        return text
    if text[0] in FORMULA_TRIGGERS or text.lstrip(" \u00a0")[:1] in FORMULA_TRIGGERS:
        return "'" + text
    return text


def safe_cell(value: object) -> object:
    """A cell value for export: text is neutralised by `safe_text`, numbers and dates kept."""
    if isinstance(value, str):
        return safe_text(value)
    if value is None or isinstance(value, int | float | Decimal | date | datetime):
        return value
    return safe_text(str(value))


class SafeCsvWriter:
    """`csv.writer` with ";" between columns and CRLF rows; every cell through `safe_cell`."""

    def __init__(self, stream: TextIO, *, delimiter: str = ";") -> None:
        self._writer = csv.writer(stream, delimiter=delimiter, lineterminator="\r\n")

    def writerow(self, row: Iterable[object]) -> None:
        self._writer.writerow([safe_cell(value) for value in row])

    def writerows(self, rows: Iterable[Iterable[object]]) -> None:
        for row in rows:
            self.writerow(row)


def csv_writer(stream: TextIO, *, delimiter: str = ";") -> SafeCsvWriter:
    return SafeCsvWriter(stream, delimiter=delimiter)


def csv_bytes(rows: Iterable[Iterable[object]], *, delimiter: str = ";") -> bytes:
    """UTF-8 with a BOM (Excel in Russia opens it right), ";" between columns."""
    buffer = io.StringIO()
    csv_writer(buffer, delimiter=delimiter).writerows(rows)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def xlsx_bytes(rows: Iterable[Iterable[object]], *, title: str = "Sheet1") -> bytes:
    """One sheet, the first row bold. Text is stored as text: nothing becomes a formula.

    openpyxl turns any string starting with ``=`` into a formula; here every string cell is
    forced to the string type, and the ones `safe_text` would prefix get Excel's own "quote
    prefix" flag instead of a visible apostrophe, so the text reads exactly as typed.
    """
    from openpyxl import Workbook
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.styles import Font

    workbook = Workbook()
    sheet: Any = workbook.active
    sheet.title = title[:31]
    bold = Font(bold=True)
    for row_number, row in enumerate(rows, start=1):
        for column, value in enumerate(row, start=1):
            cell = sheet.cell(row=row_number, column=column)
            if isinstance(value, str):
                cell.value = ILLEGAL_CHARACTERS_RE.sub("", value)
                cell.data_type = "s"
                if safe_text(value) != value:
                    cell.quotePrefix = True
            else:
                cell.value = safe_cell(value)
            if row_number == 1:
                cell.font = bold
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()

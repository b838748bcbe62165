"""Office tables in and out: read CSV or Excel into rows of text, write rows to an Excel sheet."""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterable, Sequence

from django.utils.translation import gettext as _
from openpyxl import Workbook, load_workbook
from openpyxl.utils.exceptions import InvalidFileException


class TableError(ValueError):
    """The file cannot be read as a table at all (the message says why, for people)."""


def read_rows(name: str, data: bytes) -> list[list[str]]:
    """Rows of stripped text from an .xlsx (first sheet) or a UTF-8 CSV (BOM or not)."""
    try:
        if name.lower().endswith((".xlsx", ".xlsm")):
            sheet = load_workbook(io.BytesIO(data), read_only=True, data_only=True).worksheets[0]
            return [
                ["" if v is None else str(v).strip() for v in row]
                for row in sheet.iter_rows(values_only=True)
            ]
        text = data.decode("utf-8-sig")
        return [[cell.strip() for cell in row] for row in csv.reader(io.StringIO(text))]
    except (
        UnicodeDecodeError,
        ValueError,
        OSError,
        KeyError,
        zipfile.BadZipFile,
        InvalidFileException,
    ) as exc:
        raise TableError(_("Cannot read the file: %(e)s") % {"e": exc}) from None


def xlsx_bytes(title: str, headers: Sequence[str], rows: Iterable[Sequence]) -> tuple[bytes, int]:
    """One sheet with a header row; returns the file and the number of data rows."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title[:31])
    sheet.append(list(headers))
    count = 0
    for row in rows:
        sheet.append(list(row))
        count += 1
    out = io.BytesIO()
    book.save(out)
    return out.getvalue(), count

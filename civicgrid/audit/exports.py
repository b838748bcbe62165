"""Audit records out to CSV or Excel, streamed, in chain order, with their hashes.

Rows carry ``prev_hash`` and ``hash`` and ``at`` in the canonical UTC form, so an auditor can
re-check the chain of an export away from the system (see docs/audit.md). Every export is
itself put on the trail.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from typing import IO, Any

from django.db.models import QuerySet
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from civicgrid.audit.models import SEALED_FIELDS, AuditRecord, canonical_at
from civicgrid.audit.services import audit_record

# Everything the hash seals, then the hash, so an export can be re-verified outside the system.
COLUMNS = (*SEALED_FIELDS, "hash")
FORMATS = ("csv", "xlsx")
# A cell starting with one of these is a formula to Excel (CSV injection); usernames tried at
# the login form are written by strangers.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
XLSX_CELL_MAX = 32_767


def export_rows(records: QuerySet[AuditRecord]) -> Iterator[list[Any]]:
    """Rows in id (chain) order, fetched in chunks so a long trail never loads at once."""
    fields = list(COLUMNS)
    for row in records.order_by("id").values_list(*fields).iterator(chunk_size=2000):
        values = dict(zip(fields, row, strict=True))
        values["at"] = canonical_at(values["at"])
        values["ip"] = values["ip"] or ""
        values["detail"] = json.dumps(values["detail"], sort_keys=True, ensure_ascii=False)
        yield [values[c] for c in COLUMNS]


def _csv_safe(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


class _Line:
    def write(self, text: str) -> str:
        return text


def csv_lines(records: QuerySet[AuditRecord]) -> Iterator[str]:
    """The CSV text line by line, header first, for a streaming response."""
    writer = csv.writer(_Line())
    yield writer.writerow(COLUMNS)
    for row in export_rows(records):
        yield writer.writerow([_csv_safe(v) for v in row])


def write_csv(records: QuerySet[AuditRecord], out: IO[str]) -> int:
    lines = csv_lines(records)
    out.write(next(lines))
    count = 0
    for line in lines:
        out.write(line)
        count += 1
    return count


def write_xlsx(records: QuerySet[AuditRecord], out: IO[bytes]) -> int:
    # write_only mode spools rows to a temporary file instead of holding every cell in memory.
    book = Workbook(write_only=True)
    sheet = book.create_sheet("audit")
    sheet.append(list(COLUMNS))
    count = 0
    for row in export_rows(records):
        cells = []
        for value in row:
            if isinstance(value, str):
                cell = WriteOnlyCell(sheet, value=ILLEGAL_CHARACTERS_RE.sub("", value)[:XLSX_CELL_MAX])
                cell.data_type = "s"  # text, even when it starts with "=": never a formula
            else:
                cell = WriteOnlyCell(sheet, value=value)
            cells.append(cell)
        sheet.append(cells)
        count += 1
    book.save(out)
    return count


def audit_export(
    *,
    records: QuerySet[AuditRecord],
    fmt: str,
    out: IO,
    actor=None,
    request=None,
    context: dict[str, Any] | None = None,
) -> int:
    """Write ``records`` to ``out`` (text for csv, bytes for xlsx), record the export, return the count.

    ``context`` says how and with which filters it was asked for; it goes into the record.
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}")
    count = write_csv(records, out) if fmt == "csv" else write_xlsx(records, out)
    audit_record(
        action=f"export.audit_{fmt}",
        actor=actor,
        request=request,
        object_type="audit.trail",
        detail={"rows": count, **(context or {})},
    )
    return count

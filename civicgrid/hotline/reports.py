"""A batch's per-row report as an Excel file: what became of each row, and why when it did not
become a case (for the office that sent the batch)."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from civicgrid.hotline.models import HotlineBatch, HotlineBatchLine, Outcome
from civicgrid.tables import xlsx_bytes


def batch_report_xlsx(lines: QuerySet[HotlineBatchLine], *, batch: HotlineBatch) -> bytes:
    labels = dict(Outcome.choices)
    headers = [_("Row"), _("Order number"), _("Outcome"), _("Case"), _("Reason code"), _("Reason")]
    rows = (
        [
            line.row,
            line.external_number,
            str(labels.get(line.outcome, line.outcome)),
            line.case_number,
            line.code,
            line.message,
        ]
        for line in lines.iterator(chunk_size=5000)
    )
    content, _count = xlsx_bytes(f"batch {batch.pk}", [str(h) for h in headers], rows)
    return content

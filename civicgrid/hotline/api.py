"""/api/v1/hotline: send a batch of orders, follow its import, read its report, export the status.

For the hotline's own system (an API token of an operator's account: ``cases:write`` to send,
``cases:read`` to read) as well as for pages. Thin: parse, call a service or selector, render.
"""

from __future__ import annotations

from datetime import date, datetime

from django.db import transaction
from django.http import HttpResponse
from django.utils.translation import gettext as _
from ninja import File, Form, Query, Router, Schema
from ninja.files import UploadedFile
from ninja.responses import Status
from ninja.security import django_auth

from civicgrid.accounts.scopes import request_scope
from civicgrid.accounts.tokens import TokenAuth
from civicgrid.errors import DomainError
from civicgrid.hotline import exports, formats, selectors, services, tasks
from civicgrid.hotline.models import BatchFormat, HotlineBatch, Outcome

router = Router(tags=["hotline"])
# The bearer token first (see cases/api.py: a session POST without CSRF would refuse first).
READ = [TokenAuth("cases:read"), django_auth]
WRITE = [TokenAuth("cases:write"), django_auth]
LINES_MAX = 500


class BatchOut(Schema):
    id: int
    file_name: str
    format: str
    status: str
    total: int
    done: int
    percent: int
    created: int
    updated: int
    unchanged: int
    triaged: int
    rejected: int
    error_code: str
    error_message: str
    created_at: datetime
    finished_at: datetime | None


class LineOut(Schema):
    row: int
    external_number: str
    outcome: str
    case_number: str
    code: str
    message: str


class LinesOut(Schema):
    count: int
    lines: list[LineOut]


class BatchIn(Schema):
    again: bool = False


def _batch(batch: HotlineBatch) -> dict:
    return {
        **{k: getattr(batch, k) for k in BatchOut.model_fields if k not in ("id", "percent")},
        "id": batch.pk,
        "percent": batch.percent,
    }


@router.post("/batches", response={202: BatchOut}, auth=WRITE, summary="Send a file of orders")
def batch_send(request, file: File[UploadedFile], data: Form[BatchIn]):
    """JSON, CSV or Excel (docs/hotline.md). Answers 202 at once; the import runs in the
    background (follow ``GET /batches/{id}``). A file sent before is refused (409
    ``duplicate_batch``) unless ``again`` is true."""
    fits = file.size is None or file.size <= services.upload_max_bytes()
    batch = services.batch_receive(
        user=request.user,
        name=file.name or "",
        data=file.read() if fits else b"",
        size=file.size,
        again=data.again,
    )
    transaction.on_commit(lambda: tasks.import_batch(batch.pk))
    return Status(202, _batch(batch))


@router.get("/batches/{batch_id}", response=BatchOut, auth=READ, summary="A batch: progress and counts")
def batch_read(request, batch_id: int):
    return _batch(selectors.batch_get(scope=request_scope(request), batch_id=batch_id))


@router.get("/batches/{batch_id}/lines", response=LinesOut, auth=READ, summary="A batch's per-row report")
def batch_lines(request, batch_id: int, outcome: str = "", offset: int = 0, limit: int = 100):
    if outcome and outcome not in Outcome.values:
        raise DomainError(
            "bad_outcome", _("Outcome must be one of %(o)s.") % {"o": ", ".join(Outcome.values)}
        )
    scope = request_scope(request)
    lines = selectors.batch_lines(
        scope=scope, batch=selectors.batch_get(scope=scope, batch_id=batch_id), outcome=outcome
    )
    offset, limit = max(0, offset), min(max(1, limit), LINES_MAX)
    return {"count": lines.count(), "lines": list(lines[offset : offset + limit])}


class ExportQuery(Schema):
    batch: int | None = None
    received_from: date | None = None
    received_to: date | None = None
    format: str = BatchFormat.JSON
    headers: str = ""


@router.get("/export", auth=READ, summary="Orders with their handling status, in the import format")
def export(request, params: Query[ExportQuery]):
    if params.format not in BatchFormat.values:
        raise DomainError("bad_format", _("Export as json, csv or xlsx."))
    scope = request_scope(request)
    batch = selectors.batch_get(scope=scope, batch_id=params.batch) if params.batch else None
    query = selectors.export_query(
        scope=scope, batch=batch, received_from=params.received_from, received_to=params.received_to
    )
    content, _count = exports.orders_export(query, fmt=params.format, chinese=params.headers == "zh")
    response = HttpResponse(content, content_type=formats.CONTENT_TYPES[params.format])
    response["Content-Disposition"] = f'attachment; filename="hotline-orders.{params.format}"'
    return response

"""/api/v1/enforcement: the item list, tasks, inspections and raising a case from one.

Thin: parse, call a service or selector, render. Recording an inspection takes JSON or
``multipart/form-data`` (the fields, ``answers`` as a JSON string, and files ``photos``), so the
phone sends the answers and their photos in one request that is stored whole or not at all.
Tokens use the case scopes (inspections raise cases): ``cases:read`` to read, ``cases:write`` to act.
"""

from __future__ import annotations

import json

import pydantic
from django.utils.translation import gettext as _
from ninja import Query, Router
from ninja.responses import Status
from ninja.security import django_auth

from civicgrid.accounts.scopes import request_scope
from civicgrid.accounts.tokens import TokenAuth
from civicgrid.cases.api import actor_for, submitter, uploads
from civicgrid.cases.models import AttachmentPurpose
from civicgrid.enforcement import presenters, selectors, services
from civicgrid.enforcement.schemas import (
    CaseRaiseIn,
    InspectionIn,
    InspectionListOut,
    InspectionOut,
    ItemOut,
    RaisedOut,
    RecordedOut,
    TaskIn,
    TaskOut,
)
from civicgrid.errors import DomainError

router = Router(tags=["enforcement"])
# The bearer token first (see cases.api: session auth refuses a token POST without CSRF).
READ = [TokenAuth("cases:read"), django_auth]
WRITE = [TokenAuth("cases:write"), django_auth]
LIST_MAX = selectors.LIST_MAX
# Multipart fields that mean "not given" when sent empty.
_OPTIONAL = ("task", "lon", "lat", "accuracy", "at")


def _staff_only(request) -> None:
    if not selectors.may_read_items(request_scope(request)):
        raise DomainError("enforcement_forbidden", _("Enforcement is not part of your work."), status=403)


@router.get("items", response=list[ItemOut], auth=READ, summary="The enforcement item list (执法事项清单)")
def item_list(request, q: str = ""):
    _staff_only(request)
    return [presenters.item_out(i) for i in selectors.item_search(q=q)]


@router.get("tasks/mine", response=list[TaskOut], auth=READ, summary="Inspection tasks given to me")
def tasks_mine(request, state: str = "open"):
    return [presenters.task_out(t) for t in selectors.tasks_mine(scope=request_scope(request), state=state)]


@router.get("tasks", response=list[TaskOut], auth=READ, summary="Inspection tasks in your scope")
def task_list(request, state: str = "open", grid: str = ""):
    found = selectors.task_list(scope=request_scope(request), state=state, grid=grid)
    return [presenters.task_out(t) for t in found[:LIST_MAX]]


@router.post("tasks", response={201: TaskOut}, auth=WRITE, summary="Give an inspection task")
def task_create(request, payload: TaskIn):
    actor = actor_for(request)
    task = services.task_create(actor=actor, **payload.dict())
    return Status(
        201, presenters.task_out(selectors.task_list(scope=actor.scope, state="all").get(pk=task.pk))
    )


def _invalid(errors: list[dict]) -> DomainError:
    return DomainError("invalid_input", _("The request is not valid."), {"errors": errors}, status=422)


def _inspection_payload(request) -> tuple[InspectionIn, list]:
    """The body as JSON, or as multipart fields (``answers`` a JSON string) with ``photos``."""
    if request.content_type in ("multipart/form-data", "application/x-www-form-urlencoded"):
        raw: dict = {k: request.POST.get(k) for k in request.POST}
        try:
            raw["answers"] = json.loads(raw.get("answers") or "null")
        except ValueError:
            raise _invalid(
                [{"loc": ["answers"], "msg": "answers is not JSON", "type": "json_invalid"}]
            ) from None
        raw.update({k: None for k in _OPTIONAL if raw.get(k) == ""})
        files = uploads(request.FILES.getlist("photos"), AttachmentPurpose.REPORT)
    else:
        try:
            raw = json.loads(request.body or b"null")
        except ValueError:
            raise _invalid(
                [{"loc": ["body"], "msg": "the body is not JSON", "type": "json_invalid"}]
            ) from None
        files = []
    if not isinstance(raw, dict):
        raise _invalid([{"loc": ["body"], "msg": "expected an object", "type": "dict_type"}])
    try:
        payload = InspectionIn.model_validate(raw)
    except pydantic.ValidationError as exc:
        raise _invalid(
            [
                {"loc": [str(p) for p in e["loc"]], "msg": str(e["msg"]), "type": e["type"]}
                for e in exc.errors()
            ]
        ) from None
    return payload, files


def _json_schema() -> dict:
    """InspectionIn's JSON schema with its answers' schema inlined (it is not a component)."""
    schema = InspectionIn.model_json_schema()
    answer = schema.pop("$defs")["AnswerIn"]
    schema["properties"]["answers"]["items"] = answer
    return schema


_MULTIPART = {
    "type": "object",
    "required": ["item", "grid", "answers", "lon", "lat"],
    "properties": {
        "task": {"type": "integer"},
        "item": {"type": "string"},
        "grid": {"type": "string"},
        "answers": {
            "type": "string",
            "description": 'JSON: [{"checkpoint", "result", "note", "raise_case"}]',
        },
        "lon": {"type": "number"},
        "lat": {"type": "number"},
        "accuracy": {"type": "number"},
        "crs": {"type": "string"},
        "note": {"type": "string"},
        "client_key": {"type": "string"},
        "at": {"type": "string", "format": "date-time"},
        "photos": {"type": "array", "items": {"type": "string", "format": "binary"}},
    },
}


@router.post(
    "inspections",
    response={201: RecordedOut, 200: RecordedOut},
    auth=WRITE,
    summary="Record an inspection (JSON, or multipart with photos)",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": _json_schema()},
                "multipart/form-data": {"schema": _MULTIPART},
            },
        }
    },
)
def inspection_record(request):
    payload, files = _inspection_payload(request)
    data = services.InspectionInput(
        **payload.dict(exclude={"answers", "client_key"}),
        answers=[services.AnswerInput(**a.dict()) for a in payload.answers],
        client_key=payload.client_key or request.headers.get("Idempotency-Key", ""),
    )
    recorded = services.inspection_record(
        actor=actor_for(request), data=data, photos=files, submitted_by=submitter(request)
    )
    body = {
        "id": recorded.inspection.pk,
        "replayed": recorded.replayed,
        "failed": recorded.inspection.failed,
        "cases": recorded.cases,
    }
    return Status(200 if recorded.replayed else 201, body)


@router.get("inspections", response=InspectionListOut, auth=READ, summary="Inspections in your scope")
def inspection_list(
    request,
    grid: str = "",
    item: str = "",
    date_from: str = Query("", alias="from"),
    date_to: str = Query("", alias="to"),
    limit: int = 50,
    offset: int = 0,
):
    if not 1 <= limit <= LIST_MAX or offset < 0:
        raise DomainError("bad_page", _("limit must be 1–%(n)d and offset ≥ 0.") % {"n": LIST_MAX})
    filters = selectors.InspectionFilter(grid=grid, item=item, date_from=date_from, date_to=date_to)
    found = selectors.inspection_list(scope=request_scope(request), filters=filters)
    return {
        "count": found.count(),
        "items": [
            presenters.inspection_summary(i, [a.case.number for a in i.raised])
            for i in found[offset : offset + limit]
        ],
    }


@router.get("inspections/{inspection_id}", response=InspectionOut, auth=READ, summary="One inspection")
def inspection_detail(request, inspection_id: int):
    inspection = selectors.inspection_get(scope=request_scope(request), inspection_id=inspection_id)
    return presenters.inspection_detail(inspection)


@router.post(
    "inspections/{inspection_id}/cases",
    response={201: RaisedOut},
    auth=WRITE,
    summary="Raise a case from a failed checkpoint",
)
def inspection_case_raise(request, inspection_id: int, payload: CaseRaiseIn):
    case = services.inspection_case_raise(
        actor=actor_for(request),
        inspection_id=inspection_id,
        checkpoint_id=payload.checkpoint,
        submitted_by=submitter(request),
    )
    return Status(201, {"number": case.number})

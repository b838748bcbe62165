"""/api/v1/whistles: list, detail, blow, report in, meeting record, close, figures, limits.

Thin: parse, call a service or selector, render. Tokens use the case scopes (a whistle is part
of a case's handling): ``cases:read`` to read, ``cases:write`` to act.
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from ninja import Query, Router, Schema
from ninja.responses import Status
from ninja.security import django_auth

from civicgrid.accounts.scopes import request_scope
from civicgrid.accounts.tokens import TokenAuth
from civicgrid.cases.api import actor_for, submitter
from civicgrid.errors import DomainError
from civicgrid.whistles import presenters, selectors, services
from civicgrid.whistles.models import WhistleKind
from civicgrid.whistles.schemas import (
    BlownOut,
    CloseIn,
    FiguresOut,
    LimitOut,
    MeetingIn,
    ReportInIn,
    WhistleIn,
    WhistleListOut,
    WhistleOut,
)

router = Router(tags=["whistles"])
# The bearer token first (see cases.api: session auth refuses a token POST without CSRF).
READ = [TokenAuth("cases:read"), django_auth]
WRITE = [TokenAuth("cases:write"), django_auth]
LIST_MAX = 200


def _user_may_use(request) -> None:
    if not selectors.may_use(request_scope(request)):
        raise DomainError("whistles_forbidden", _("Whistles are not part of your work."), status=403)


class ListQuery(Schema):
    kind: str = ""
    state: str = ""
    street: str = ""
    department: str = ""
    late: bool | None = None
    date_from: str | None = None
    date_to: str | None = None
    q: str = ""
    limit: int = 50
    offset: int = 0


@router.get("/", response=WhistleListOut, auth=READ, summary="Whistles in your scope, newest first")
def whistle_list(request, query: Query[ListQuery]):
    _user_may_use(request)
    if not 1 <= query.limit <= LIST_MAX or query.offset < 0:
        raise DomainError("bad_page", _("limit must be 1–%(n)d and offset ≥ 0.") % {"n": LIST_MAX})
    found = selectors.whistle_list(
        scope=request_scope(request), filters=selectors.WhistleFilter.from_params(query.dict())
    )
    return {
        "count": found.count(),
        "items": [presenters.whistle_summary(w) for w in found[query.offset : query.offset + query.limit]],
    }


@router.get("/limits", response=list[LimitOut], auth=READ, summary="The report-in limit of each kind")
def limits(request):
    out = []
    for kind in WhistleKind:
        limit = services.report_in_limit(kind)
        out.append(
            {"kind": kind, "label": str(kind.label), "limit": limit.label(), "working_time": limit.working}
        )
    return out


@router.get("/figures", response=FiguresOut, auth=READ, summary="Figures for the dashboards")
def figures(request, date_from: str | None = None, date_to: str | None = None):
    _user_may_use(request)
    return selectors.whistle_figures(scope=request_scope(request), date_from=date_from, date_to=date_to)


@router.post("/", response={201: BlownOut, 200: BlownOut}, auth=WRITE, summary="Blow a whistle")
def whistle_blow(request, payload: WhistleIn):
    actor = actor_for(request)
    blown = services.whistle_blow(
        actor=actor,
        data=services.WhistleInput(**payload.dict(exclude={"idempotency_key"})),
        idempotency_key=request.headers.get("Idempotency-Key") or payload.idempotency_key,
        submitted_by=submitter(request),
    )
    whistle = selectors.whistle_get(scope=actor.scope, number=blown.whistle.number)
    body = {"replayed": blown.replayed, "whistle": presenters.whistle_detail(whistle)}
    return Status(200 if blown.replayed else 201, body)


@router.get("/{number}", response=WhistleOut, auth=READ, summary="One whistle with its report-ins")
def whistle_detail(request, number: str):
    return presenters.whistle_detail(selectors.whistle_get(scope=request_scope(request), number=number))


@router.post("/{number}/report-in", response=WhistleOut, auth=WRITE, summary="Report in (报到)")
def report_in(request, number: str, payload: ReportInIn):
    actor = actor_for(request)
    services.summons_report_in(actor=actor, number=number, **payload.dict())
    return presenters.whistle_detail(selectors.whistle_get(scope=actor.scope, number=number))


@router.post("/{number}/meetings", response={201: WhistleOut}, auth=WRITE, summary="Record a meeting")
def meeting_add(request, number: str, payload: MeetingIn):
    actor = actor_for(request)
    services.meeting_record_add(
        actor=actor,
        number=number,
        held_at=payload.held_at,
        place=payload.place,
        attendees=payload.attendees,
        agreed=payload.agreed,
        tasks=[services.TaskInput(**t.dict()) for t in payload.tasks],
    )
    return Status(201, presenters.whistle_detail(selectors.whistle_get(scope=actor.scope, number=number)))


@router.post("/{number}/close", response=WhistleOut, auth=WRITE, summary="Close a standalone whistle")
def close(request, number: str, payload: CloseIn):
    actor = actor_for(request)
    services.whistle_close(actor=actor, number=number, result=payload.result)
    return presenters.whistle_detail(selectors.whistle_get(scope=actor.scope, number=number))

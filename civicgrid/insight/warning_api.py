"""/api/v1/insight/warnings/ — the early warnings the reader may see — and
/api/v1/insight/warnings/hotspots — each visible grid's Gi* over the last 30 days and the repeat places.

Thin: parse, call ``warnings`` / ``hotspots``, shape. Tokens need the ``insight:read`` scope.
"""

from __future__ import annotations

from datetime import date

from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Router, Schema
from ninja.security import django_auth

from civicgrid.accounts.scopes import request_scope
from civicgrid.accounts.tokens import TokenAuth
from civicgrid.errors import DomainError
from civicgrid.insight import access, hotspots, warnings

router = Router(tags=["insight"])
READ = [TokenAuth("insight:read"), django_auth]
LIMIT = 500


class AlertOut(Schema):
    id: int
    kind: str
    key: str
    severity: int
    status: str
    day: date
    street: str | None
    grid: str | None
    major_class: str | None
    case_class: str | None
    term: str
    observed: float
    expected: float
    score: float | None
    explanation: str
    link: str


class WarningsOut(Schema):
    total: int
    items: list[AlertOut]


def _scope(request):
    """The reader's scope; the command centre's roles only (``access.may_use``)."""
    scope = request_scope(request)
    if not access.may_use(scope):
        raise DomainError("forbidden", _("Your roles give you no area to watch."), status=403)
    return scope


def _code(region_or_class) -> str | None:
    return region_or_class.code if region_or_class is not None else None


@router.get("/", response=WarningsOut, auth=READ, summary="Early warnings in your scope")
def warnings_list(request, kind: str = "", severity: str = "", status: str = "active", limit: int = 100):
    """Warnings in the reader's area, newest day first: ``status`` is active (open or
    acknowledged, the default), open, acknowledged, closed or all."""
    alerts = warnings.alerts_list(_scope(request), kind=kind, severity=severity, status=status)
    rows = alerts[: max(1, min(limit, LIMIT))]
    return {
        "total": alerts.count(),
        "items": [
            {
                "id": a.pk,
                "kind": a.kind,
                "key": a.key,
                "severity": a.severity,
                "status": a.status,
                "day": a.day,
                "street": _code(a.street),
                "grid": _code(a.grid),
                "major_class": _code(a.major_class),
                "case_class": _code(a.case_class),
                "term": a.term,
                "observed": a.observed,
                "expected": a.expected,
                "score": a.score,
                "explanation": a.explanation,
                "link": a.link,
            }
            for a in rows
        ],
    }


class HotspotOut(Schema):
    grid: str
    name: str
    cases: int
    z: float
    level: str


class RepeatOut(Schema):
    grid: str
    case_class: str
    cases: int
    first: str
    last: str
    link: str


class HotspotsOut(Schema):
    date_from: date
    date_to: date
    grids: list[HotspotOut]
    repeat_places: list[RepeatOut]


@router.get("/hotspots", response=HotspotsOut, auth=READ, summary="Gi* hotspots and repeat places")
def hotspots_get(request):
    """Gi* of the reader's grids over the last 30 days (hot/cold at 95 and 99 %), and the repeat
    places in their area."""
    scope = _scope(request)
    result = hotspots.hotspots(last=timezone.localdate())
    return {
        "date_from": result.first,
        "date_to": result.last,
        "grids": [
            {"grid": r.code, "name": r.name, "cases": r.cases, "z": r.z, "level": r.level}
            for r in hotspots.hotspots_visible(result, scope)
        ],
        "repeat_places": [
            {
                "grid": p.grid_code,
                "case_class": p.class_code,
                "cases": p.cases,
                "first": timezone.localtime(p.first).isoformat(),
                "last": timezone.localtime(p.last).isoformat(),
                "link": p.link,
            }
            for p in hotspots.repeat_places(scope=scope)
        ],
    }

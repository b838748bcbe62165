"""/api/v1/insight/screen/…: the big screen's blocks as JSON (the /command/ page polls them).

Thin: check the reader may use the screen, call ``insight.screen``, return. Every figure carries
``link``, the case list behind it. Tokens need the ``insight:read`` scope. docs/command.md.
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from ninja import Router, Schema
from ninja.security import django_auth

from civicgrid.accounts.scopes import Scope, request_scope
from civicgrid.accounts.tokens import TokenAuth
from civicgrid.errors import DomainError
from civicgrid.insight import access, screen

router = Router(tags=["insight"])
READ = [TokenAuth("insight:read"), django_auth]


def reader_scope(request) -> Scope:
    scope = request_scope(request)
    if not access.may_use(scope):
        raise DomainError(
            "screen_forbidden",
            _("The command centre is for staff with a territory or a department."),
            status=403,
        )
    return scope


class FigureOut(Schema):
    key: str
    value: int | float | None  # a count, or a rate from 0 to 1
    link: str


class SummaryOut(Schema):
    scope: str
    today: str
    month_start: str
    figures: list[FigureOut]


class GridOut(Schema):
    code: str
    open: int
    overdue: int
    link: str
    overdue_link: str


class MapOut(Schema):
    scope: str
    grids: list[GridOut]
    only: list[str] | None
    max_open: int
    max_overdue: int


class FeedItemOut(Schema):
    key: str
    kind: str
    at: str
    number: str
    title: str
    state: str
    state_label: str
    case_class: str
    grid: str
    street: str
    link: str


class FeedOut(Schema):
    cursor: str
    items: list[FeedItemOut]


class TrendOut(Schema):
    days: list[str]
    reported: list[int]
    closed: list[int] | None
    links: list[str]


class ClassOut(Schema):
    code: str
    name: str
    cases: int
    link: str


class ClassesOut(Schema):
    month_start: str
    major: list[ClassOut]
    minor: list[ClassOut]


class UnitOut(Schema):
    code: str
    name: str
    cases: int
    open: int
    overdue: int
    on_time_closure: float | None
    score: float | None
    grade: str
    link: str


class RankingOut(Schema):
    unit: str
    month_start: str
    rows: list[UnitOut]


class WhistleOut(Schema):
    number: str
    kind: str
    kind_label: str
    title: str
    region: str
    lead: str
    opened_at: str
    summoned: int
    reported: int
    late: int
    link: str


class WhistlesOut(Schema):
    available: bool
    count: int
    link: str
    rows: list[WhistleOut]


class WarningOut(Schema):
    id: int
    kind: str
    kind_label: str
    severity: int
    day: str
    place: str
    explanation: str
    observed: float
    expected: float
    link: str


class WarningsOut(Schema):
    count: int
    rows: list[WarningOut]


@router.get("/summary", response=SummaryOut, auth=READ, summary="Today, this month, open and overdue")
def summary(request):
    scope = reader_scope(request)
    return screen.cached("summary", scope, lambda: screen.summary(scope))


@router.get("/map", response=MapOut, auth=READ, summary="Open and overdue cases per grid")
def grid_map(request):
    scope = reader_scope(request)
    return screen.cached("map", scope, lambda: screen.grid_map(scope))


@router.get("/feed", response=FeedOut, auth=READ, summary="New and newly overdue cases since a cursor")
def feed(request, after: str = ""):
    scope = reader_scope(request)
    return screen.feed(scope, after=screen.parse_cursor(after))


@router.get("/trend", response=TrendOut, auth=READ, summary="Reported and closed per day, 30 days")
def trend(request):
    scope = reader_scope(request)
    return screen.cached("trend", scope, lambda: screen.trend(scope))


@router.get("/classes", response=ClassesOut, auth=READ, summary="This month's top 大类 and 小类")
def classes(request):
    scope = reader_scope(request)
    return screen.cached("classes", scope, lambda: screen.classes(scope))


@router.get(
    "/streets", response=RankingOut, auth=READ, summary="This month's ranking of streets (or communities)"
)
def streets(request):
    scope = reader_scope(request)
    return screen.cached("streets", scope, lambda: screen.ranking(scope))


@router.get("/whistles", response=WhistlesOut, auth=READ, summary="Open whistles")
def whistles(request):
    scope = reader_scope(request)
    return screen.cached("whistles", scope, lambda: screen.whistles(scope))


@router.get("/warnings", response=WarningsOut, auth=READ, summary="Open early warnings")
def warnings(request):
    scope = reader_scope(request)
    return screen.cached("warnings", scope, lambda: screen.warnings(scope))

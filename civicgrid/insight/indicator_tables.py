"""The monthly indicator tables and the "网格+" index explained, as the pages, the API and the Excel
export show them (docs/indicators.md).

``insight.indicators`` computes; this module reads what a reader asked for (a unit kind and a
period), names the units, ranks them, keeps each rate's numerator and denominator beside it, and
links every figure back to the case list it was counted from. Who sees what is decided by the
reader's scope (``indicators.scope_q``): a street its street's cases, a department its own cases.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from urllib.parse import urlencode

from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from civicgrid.accounts.models import COMMAND_ROLES, Department, GridStaffing, Role, User
from civicgrid.accounts.scopes import Scope
from civicgrid.cases.models import CaseState, Channel
from civicgrid.errors import DomainError, NotFound, OutOfScope
from civicgrid.insight import indicators as ind
from civicgrid.insight.links import case_list_url
from civicgrid.insight.models import InsightSettings, ScoreKind, ScoreSet
from civicgrid.insight.periods import month_span, quarter_span
from civicgrid.regions.models import Level, Region

S = CaseState
MAX_DAYS = 366  # a custom range longer than a year is a request for a yearly report, not a table

# The unit kinds a reader picks; "person" is the grid worker who made the reports.
UNIT_KINDS = {
    "district": "district",
    "street": "street",
    "community": "community",
    "grid": "grid",
    "department": "department",
    "person": "worker",
    "worker": "worker",
}
UNIT_CHOICES = ("street", "community", "grid", "department", "person")
PERSON_READERS = frozenset(COMMAND_ROLES - {Role.DEPARTMENT_HANDLER})

# The figures shown beside the rates (the Excel export holds every measure).
SHOWN_FIGURES = ("cases", "registered", "dispatched", "handled", "closed", "overdue_handle", "visited")
MEASURE_LABELS = {
    "cases": gettext_lazy("Reports"),
    "worker_reports": gettext_lazy("Reports by grid workers"),
    "worker_valid": gettext_lazy("Valid reports"),
    "registered": gettext_lazy("Registered"),
    "registered_on_time": gettext_lazy("Registered on time"),
    "dispatched": gettext_lazy("Dispatched (to be handled)"),
    "dispatched_ok": gettext_lazy("Dispatched accurately"),
    "handled": gettext_lazy("Handled"),
    "handled_on_time": gettext_lazy("Handled on time"),
    "closed": gettext_lazy("Closed"),
    "closed_on_time": gettext_lazy("Closed on time"),
    "reworked": gettext_lazy("Reworked"),
    "extended": gettext_lazy("Extended"),
    "open": gettext_lazy("Open"),
    "overdue": gettext_lazy("Overdue"),
    "overdue_handle": gettext_lazy("Overdue awaiting handling"),
    "visited": gettext_lazy("Valid follow-ups"),
    "contacted": gettext_lazy("Contacted"),
    "resolved": gettext_lazy("Resolved"),
    "satisfied": gettext_lazy("Satisfied"),
    "basic": gettext_lazy("Basically satisfied"),
    "close_minutes": gettext_lazy("Minutes to closure (sum)"),
}
_AFTER_REGISTRATION = [S.REGISTERED, S.DISPATCHED, S.HANDLING, S.SUSPENDED, S.CHECKING, S.CHECKED, S.CLOSED]
_AFTER_DISPATCH = [S.DISPATCHED, S.HANDLING, S.SUSPENDED, S.CHECKING, S.CHECKED, S.CLOSED]
# How the case list narrows to a measure's cases, where its filters can say it. Exact for
# "closed", "overdue_handle", "open" and the reports by grid workers; the registered and
# dispatched lists hold the cases in those states now (a case sent back before dispatch again is
# counted as dispatched but listed as registered). A measure not here links to its unit's cases.
MEASURE_FILTERS: dict[str, dict[str, str]] = {
    "worker_reports": {"channel": Channel.GRID_WORKER},
    "registered": {"state": ",".join(_AFTER_REGISTRATION)},
    "dispatched": {"state": ",".join(_AFTER_DISPATCH)},
    "closed": {"state": S.CLOSED},
    "open": {"state": ",".join(s for s in S.values if s not in (S.CLOSED, S.VOIDED))},
    "overdue": {"overdue": "1"},
    "overdue_handle": {"state": f"{S.DISPATCHED},{S.HANDLING}", "overdue": "1"},
}


# -- what a reader asks for ------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """The days ``start``–``end`` (inclusive): a month, a quarter or a custom range."""

    kind: str  # "month", "quarter" or "range"
    start: date
    end: date

    @property
    def label(self) -> str:
        if self.kind == "month":
            return f"{self.start:%Y-%m}"
        if self.kind == "quarter":
            return f"{self.start.year}-Q{(self.start.month - 1) // 3 + 1}"
        return f"{self.start.isoformat()}~{self.end.isoformat()}"

    def params(self) -> dict[str, str]:
        """The query parameters that ask for this period again."""
        if self.kind == "month":
            return {"month": self.label}
        if self.kind == "quarter":
            return {"quarter": self.label}
        return {"date_from": self.start.isoformat(), "date_to": self.end.isoformat()}

    def cases_params(self) -> dict[str, str]:
        """The case list's dates for this period (cases are counted by the day they were reported)."""
        return {"date_from": self.start.isoformat(), "date_to": self.end.isoformat()}

    @property
    def previous(self) -> Period | None:
        if self.kind == "range":
            return None
        return _calendar(self.kind, self.start - timedelta(days=1))

    @property
    def following(self) -> Period | None:
        if self.kind == "range":
            return None
        return _calendar(self.kind, self.end + timedelta(days=1))


def _calendar(kind: str, day: date) -> Period:
    """The month or quarter holding ``day``."""
    return Period(kind, *(month_span(day) if kind == "month" else quarter_span(day)))


def period_parse(
    *, month: str = "", quarter: str = "", date_from: str = "", date_to: str = "", today: date | None = None
) -> Period:
    """A range (``date_from`` and ``date_to``, YYYY-MM-DD), else a quarter (YYYY-Qn), else a month
    (YYYY-MM); nothing: the current month."""
    month, quarter = (month or "").strip(), (quarter or "").strip().upper()
    date_from, date_to = (date_from or "").strip(), (date_to or "").strip()
    if date_from or date_to:
        try:
            start, end = date.fromisoformat(date_from), date.fromisoformat(date_to)
        except ValueError:
            raise DomainError(
                "bad_period",
                _("Give both dates of a range as YYYY-MM-DD."),
                {"date_from": date_from, "date_to": date_to},
            ) from None
        if end < start or (end - start).days >= MAX_DAYS:
            raise DomainError(
                "bad_period",
                _("A range runs forwards and spans at most %(n)d days.") % {"n": MAX_DAYS},
                {"date_from": date_from, "date_to": date_to},
            )
        return Period("range", start, end)
    if quarter:
        year, _sep, number = quarter.replace("-", "").partition("Q")
        if not (year.isdigit() and len(year) == 4 and number in ("1", "2", "3", "4")):
            raise DomainError("bad_quarter", _("Give the quarter as YYYY-Qn."), {"quarter": quarter})
        return _calendar("quarter", date(int(year), 3 * int(number) - 2, 1))
    if not month:
        return _calendar("month", today or timezone.localdate())
    try:
        year, number = (int(part) for part in month.split("-"))
        first = date(year, number, 1)
    except ValueError:
        raise DomainError("bad_month", _("Give the month as YYYY-MM."), {"month": month}) from None
    return _calendar("month", first)


def unit_parse(unit: str) -> str:
    """The rollup's unit kind for a reader's choice (empty: street)."""
    found = UNIT_KINDS.get((unit or "street").strip().lower())
    if found is None:
        raise DomainError(
            "bad_unit",
            _("Pick the unit as one of: %(u)s.") % {"u": ", ".join(UNIT_CHOICES)},
            {"unit": unit},
        )
    return found


def readable(scope: Scope, unit: str = "") -> None:
    """The command centre's roles with a territory or a department read the indicators; residents,
    grid workers (their phone app), deputies, auditors and the administrators are refused. A
    person's figures are for those who manage grid workers, not for the departments."""
    if not (
        scope.has_role(*COMMAND_ROLES) and (scope.everything or scope.region_ids or scope.department_ids)
    ):
        raise DomainError(
            "indicators_forbidden",
            _("The indicators are for the command centre, the streets, communities and departments."),
            status=403,
        )
    if unit == "worker" and not (scope.everything or scope.has_role(*PERSON_READERS)):
        raise DomainError(
            "indicators_forbidden", _("Grid workers' figures are for those who manage them."), status=403
        )


# -- the table -------------------------------------------------------------------------------------


@dataclass
class Cell:
    """One rate of one unit, with what it was computed from."""

    code: str
    value: float | None
    numerator: float
    denominator: int


@dataclass
class Line:
    rank: int
    unit_id: int
    code: str
    name: str
    link: str  # the unit's cases of the period
    figures: dict
    cells: list[Cell]
    composite: ind.Score
    hotline: ind.Score
    grid_index: ind.Score | None = None
    index_link: str = ""  # the grid's "网格+" index explained


@dataclass
class Table:
    unit: str  # as the reader named it ("person", not "worker")
    period: Period
    lines: list[Line]
    basic_weight: float
    score_sets: dict[str, list[tuple[str, float]]] = field(default_factory=dict)


def numerator_of(code: str, figures: dict, basic_weight: float) -> float:
    item = ind.INDICATORS[code]
    return sum(figures.get(m, 0) * (basic_weight if m == "basic" else 1) for m in item.numerator)


def _names(unit: str, ids: list[int]) -> dict[int, tuple[str, str]]:
    """(code, name) of each unit id."""
    if unit == "department":
        rows = Department.objects.filter(id__in=ids).values_list("id", "code", "name")
    elif unit == "worker":
        rows = User.objects.filter(id__in=ids).values_list("id", "username", "display_name")
    else:
        rows = Region.objects.filter(id__in=ids).values_list("id", "code", "name")
    return {i: (code, name or code) for i, code, name in rows}


def _worker_grids(ids: list[int], day: date) -> dict[int, str]:
    """Each worker's grid on ``day`` (their reports' cases are listed by it: the case list has no
    filter by reporter)."""
    posts = GridStaffing.objects.filter(user_id__in=ids, start__lte=day).filter(
        Q(end__isnull=True) | Q(end__gte=day)
    )
    return dict(posts.order_by("-start").values_list("user_id", "grid__code"))


def _unit_link(unit: str, code: str, period: Period, worker_grid: str = "") -> str:
    dates = period.cases_params()
    if unit == "department":
        return case_list_url(department=code, **dates)
    if unit == "worker":
        return case_list_url(channel=Channel.GRID_WORKER, region=worker_grid, **dates) if worker_grid else ""
    if unit == "district":
        return case_list_url(**dates)
    return case_list_url(region=code, **dates)


def indicator_table(*, scope: Scope, unit: str, period: Period) -> Table:
    """Every unit of the kind in the reader's scope with its figures, rates and scores, ranked by
    the composite score (units without one last)."""
    kind = unit_parse(unit)
    readable(scope, kind)
    weight = InsightSettings.current().basic_weight
    rows = ind.unit_table(scope=scope, unit=kind, start=period.start, end=period.end)
    ids = [r.unit_id for r in rows]
    names = _names(kind, ids)
    grids = _worker_grids(ids, period.end) if kind == "worker" else {}
    index_query = urlencode(period.params())
    lines = []
    for rank, row in enumerate(rows, 1):
        code, name = names.get(row.unit_id, (str(row.unit_id), str(row.unit_id)))
        cells = [
            Cell(
                c,
                row.rates[c],
                numerator_of(c, row.figures, weight),
                row.figures[ind.INDICATORS[c].denominator],
            )
            for c in ind.RATES
        ]
        line = Line(
            rank,
            row.unit_id,
            code,
            name,
            _unit_link(kind, code, period, grids.get(row.unit_id, "")),
            row.figures,
            cells,
            row.composite,
            row.hotline,
            row.grid_index,
        )
        if kind == "grid":
            line.index_link = reverse("insight:grid-index", args=[code]) + "?" + index_query
        lines.append(line)
    sets = {
        ScoreKind.COMPOSITE: ind.score_items(ScoreKind.COMPOSITE),
        ScoreKind.HOTLINE: ind.score_items(ScoreKind.HOTLINE),
    }
    if kind == "grid":
        sets[ScoreKind.GRID_INDEX] = ind.score_items(ScoreKind.GRID_INDEX)
    return Table("person" if kind == "worker" else kind, period, lines, weight, sets)


# -- one grid's "网格+" index, item by item --------------------------------------------------------


@dataclass
class Part:
    """A measure behind an item: its count and the cases it was counted from."""

    measure: str
    count: float
    link: str


@dataclass
class IndexItem:
    code: str
    name: str
    source: str
    lower_is_better: bool
    weight: float
    share: float  # the weight's share once items without data are left out (0 for those)
    value: float | None
    points: float | None
    numerator: float | None
    denominator: int | None
    numerator_parts: list[Part]
    denominator_part: Part | None
    formula: str


@dataclass
class GridIndex:
    code: str
    name: str
    period: Period
    set_name: str
    items: list[IndexItem]
    score: ind.Score
    link: str  # the grid's cases of the period
    basic_weight: float


def _formula(item: ind.Indicator, basic_weight: float) -> str:
    if item.code == "patrol_coverage":
        return _("mean over the period's weeks of the best worker's weekly patrol coverage of the grid")
    terms = [
        f"{basic_weight:g} × {MEASURE_LABELS[m]}" if m == "basic" else str(MEASURE_LABELS[m])
        for m in item.numerator
    ]
    above = terms[0] if len(terms) == 1 else f"({' + '.join(terms)})"
    rate = f"{above} ÷ {MEASURE_LABELS[item.denominator]}"
    return f"1 − {rate}" if item.lower_is_better else rate


def _grid_for(scope: Scope, code: str) -> Region:
    grid = Region.objects.filter(code=code, level=Level.GRID).first()
    if grid is None:
        raise NotFound("unknown_grid", _("There is no grid %(c)s.") % {"c": code})
    # A department's staff read any grid's index counted from their own cases only (scope_q).
    if not (scope.everything or grid.id in scope.region_ids or scope.department_ids):
        raise OutOfScope(
            "unknown_grid",
            _("There is no grid %(c)s.") % {"c": code},
            object_type="insight.grid_index",
            object_id=code,
        )
    return grid


def grid_index(*, scope: Scope, code: str, period: Period) -> GridIndex:
    """The grid's "网格+" index for the period, explained item by item (the active set)."""
    readable(scope)
    grid = _grid_for(scope, code)
    weight = InsightSettings.current().basic_weight
    score_set = ScoreSet.objects.filter(kind=ScoreKind.GRID_INDEX, active=True).order_by("code").first()
    items = ind.score_items(ScoreKind.GRID_INDEX)
    figs = ind.figures(
        scope=scope, unit="grid", start=period.start, end=period.end, extra=Q(grid_id=grid.id)
    ).get(grid.id, dict.fromkeys(ind.MEASURES, 0))
    values = ind.rates(figs, weight)
    if any(c == "patrol_coverage" for c, _w in items):
        values["patrol_coverage"] = ind.patrol_coverage(
            grid_ids=[grid.id], start=period.start, end=period.end
        ).get(grid.id)
    result = ind.score(values, items)
    base = {"region": grid.code, **period.cases_params()}

    def part(measure: str, count: float) -> Part:
        return Part(measure, count, case_list_url(**base, **MEASURE_FILTERS.get(measure, {})))

    explained = []
    for p in result.parts:
        item = ind.INDICATORS[p.indicator]
        has_rate = bool(item.denominator)
        explained.append(
            IndexItem(
                code=item.code,
                name=str(item.name),
                source=item.source,
                lower_is_better=item.lower_is_better,
                weight=p.weight,
                share=p.share,
                value=p.value,
                points=None if p.points is None else round(p.points, 2),
                numerator=numerator_of(item.code, figs, weight) if has_rate else None,
                denominator=figs[item.denominator] if has_rate else None,
                numerator_parts=[part(m, figs[m]) for m in item.numerator],
                denominator_part=part(item.denominator, figs[item.denominator]) if has_rate else None,
                formula=_formula(item, weight),
            )
        )
    return GridIndex(
        code=grid.code,
        name=grid.name,
        period=period,
        set_name=score_set.name if score_set else "",
        items=explained,
        score=result,
        link=case_list_url(**base),
        basic_weight=weight,
    )

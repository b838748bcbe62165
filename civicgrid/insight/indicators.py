"""The standard rates, the 12345 three rates, composite scores with grades, and the "网格+" index.

Every figure is read from the rollups (``CaseDay``), summed over a period for one kind of unit —
district, street, community, grid, department or person (the reporting grid worker) — and always
through the reader's scope. Formulas, with their sources, are in docs/indicators.md; the weights of
each score are configuration (``ScoreSet``/``ScoreItem``, edited in the back office).

A rate whose denominator is 0 is ``None`` ("no data"), never 0 or 100%: it is left out of a score,
whose other items' weights then count in proportion (a unit is not rewarded or punished for work
it never had). A score with no item that has data is ``None`` too.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

from django.db.models import Max, Q, Sum
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from civicgrid.accounts.scopes import Scope
from civicgrid.insight.models import MEASURES, CaseDay, InsightSettings, ScoreKind, ScoreSet

UNITS = {  # unit kind -> the rollup column that names it
    "district": "district_id",
    "street": "street_id",
    "community": "community_id",
    "grid": "grid_id",
    "department": "department_id",
    "worker": "worker_id",
}
UNIT_LABELS = {
    "district": _("District"),
    "street": _("Street"),
    "community": _("Community"),
    "grid": _("Grid"),
    "department": _("Department"),
    "worker": _("Person (grid worker)"),
}


@dataclass(frozen=True)
class Indicator:
    code: str
    name: Promise
    numerator: tuple[str, ...]  # measures summed ("basic" counts at the configured weight)
    denominator: str
    lower_is_better: bool = False
    source: str = ""
    units: tuple[str, ...] = tuple(UNITS)

    def value(self, figures: Mapping[str, float], basic_weight: float) -> float | None:
        below = figures.get(self.denominator, 0)
        if not below:
            return None
        above = sum(figures.get(m, 0) * (basic_weight if m == "basic" else 1) for m in self.numerator)
        return above / below


_CJT292 = "CJ/T 292 绩效评价; Chengdu Jinniu rules (cn-grid-domain §1.6)"
_12345 = "Beijing 接诉即办 three rates (cn-grid-domain §2)"
INDICATORS: dict[str, Indicator] = {
    i.code: i
    for i in (
        Indicator(
            "on_time_registration",
            _("On-time registration rate"),
            ("registered_on_time",),
            "registered",
            source=_CJT292,
        ),
        Indicator(
            "accurate_dispatch", _("Accurate dispatch rate"), ("dispatched_ok",), "dispatched", source=_CJT292
        ),
        Indicator("handling", _("Handling rate"), ("handled",), "dispatched", source=_CJT292),
        Indicator(
            "on_time_handling", _("On-time handling rate"), ("handled_on_time",), "dispatched", source=_CJT292
        ),
        Indicator("closure", _("Closure rate"), ("closed",), "registered", source=_CJT292),
        Indicator(
            "on_time_closure", _("On-time closure rate"), ("closed_on_time",), "registered", source=_CJT292
        ),
        Indicator("rework", _("Rework rate"), ("reworked",), "registered", True, _CJT292),
        Indicator(
            "overdue_pending", _("Overdue-pending rate"), ("overdue_handle",), "dispatched", True, _CJT292
        ),
        Indicator("extension", _("Extension rate"), ("extended",), "dispatched", True, _CJT292),
        Indicator(
            "valid_reports", _("Valid report rate"), ("worker_valid",), "worker_reports", source=_CJT292
        ),
        Indicator("response", _("Response rate"), ("contacted",), "visited", source=_12345),
        Indicator("resolution", _("Resolution rate"), ("resolved",), "visited", source=_12345),
        Indicator("satisfaction", _("Satisfaction rate"), ("satisfied", "basic"), "visited", source=_12345),
        # Not from cases: the grids' weekly patrol coverage (civicgrid.patrol), averaged.
        Indicator(
            "patrol_coverage", _("Patrol coverage"), (), "", source="civicgrid.patrol", units=("grid",)
        ),
    )
}
RATES = [c for c in INDICATORS if c != "patrol_coverage"]


def grade(score: float | None) -> str:
    """A ≥ 90, B ≥ 75, C ≥ 60, D ≥ 40, else E (cn-grid-domain §1.6)."""
    if score is None:
        return ""
    for letter, floor in (("A", 90), ("B", 75), ("C", 60), ("D", 40)):
        if score >= floor:
            return letter
    return "E"


@dataclass
class ScorePart:
    indicator: str
    weight: float
    value: float | None  # the rate (0–1) or None
    points: float | None = None  # what it adds to the score (of 100)
    share: float = 0.0  # its weight's share once items without data are left out


@dataclass
class Score:
    value: float | None
    grade: str
    parts: list[ScorePart] = field(default_factory=list)


def score(values: Mapping[str, float | None], items: list[tuple[str, float]]) -> Score:
    """A weighted score of 100 from rates; lower-is-better rates count as 1 − rate."""
    parts = [ScorePart(code, weight, values.get(code)) for code, weight in items]
    counted = sum(p.weight for p in parts if p.value is not None)
    if counted <= 0:
        return Score(None, "", parts)
    total = 0.0
    for p in parts:
        if p.value is None:
            continue
        good = 1 - p.value if INDICATORS[p.indicator].lower_is_better else p.value
        p.share = p.weight / counted
        p.points = 100 * good * p.share
        total += p.points
    return Score(round(total, 2), grade(round(total, 2)), parts)


# -- reading the rollups ---------------------------------------------------------------------------


def scope_q(scope: Scope) -> Q:
    """The rollup rows a reader may count: their territory's grids, their departments' cases."""
    if scope.everything:
        return Q()
    q = Q(pk__in=[])
    if scope.region_ids:
        q |= Q(grid_id__in=scope.region_ids)
    if scope.department_ids:
        q |= Q(department_id__in=scope.department_ids)
    return q


def figures(*, scope: Scope, unit: str, start: date, end: date, extra: Q | None = None) -> dict[int, dict]:
    """Each unit's summed measures for the days ``start``–``end`` (inclusive)."""
    column = UNITS[unit]
    query = CaseDay.objects.filter(scope_q(scope), day__gte=start, day__lte=end)
    if extra is not None:
        query = query.filter(extra)
    rows = query.values(column).annotate(**{m: Sum(m) for m in MEASURES}).order_by()
    return {r[column]: {m: r[m] or 0 for m in MEASURES} for r in rows if r[column]}


def totals(*, scope: Scope, start: date, end: date) -> dict:
    """The measures summed over everything the reader sees in the period."""
    row = CaseDay.objects.filter(scope_q(scope), day__gte=start, day__lte=end).aggregate(
        **{m: Sum(m) for m in MEASURES}
    )
    return {m: row[m] or 0 for m in MEASURES}


def rates(fig: Mapping[str, float], basic_weight: float | None = None) -> dict[str, float | None]:
    w = InsightSettings.current().basic_weight if basic_weight is None else basic_weight
    return {code: INDICATORS[code].value(fig, w) for code in RATES}


def patrol_coverage(*, grid_ids: list[int] | None, start: date, end: date) -> dict[int, float]:
    """Each grid's patrol coverage in the period: the mean over its ISO weeks of the best
    worker's coverage that week (a week that started in the period counts)."""
    from civicgrid.patrol.models import CoverageWeek  # the patrol app is optional to this one

    query = CoverageWeek.objects.filter(week__gte=start, week__lte=end)
    if grid_ids is not None:
        query = query.filter(grid_id__in=grid_ids)
    weeks: dict[int, list[float]] = {}
    for grid_id, _week, best in (
        query.values("grid_id", "week").annotate(best=Max("coverage")).values_list("grid_id", "week", "best")
    ):
        weeks.setdefault(grid_id, []).append(min(1.0, best))
    return {g: sum(v) / len(v) for g, v in weeks.items()}


def score_items(kind: str) -> list[tuple[str, float]]:
    """The active set of this kind (the first by code), as (indicator, weight)."""
    found = ScoreSet.objects.filter(kind=kind, active=True).order_by("code").first()
    if found is None:
        return []
    return [(i.indicator, i.weight) for i in found.items.all() if i.indicator in INDICATORS]


@dataclass
class UnitRow:
    unit_id: int
    figures: dict
    rates: dict[str, float | None]
    composite: Score
    hotline: Score
    grid_index: Score | None = None


def unit_table(*, scope: Scope, unit: str, start: date, end: date) -> list[UnitRow]:
    """Every unit's figures, rates and scores for the period: the monthly indicators."""
    weight = InsightSettings.current().basic_weight
    composite_items, hotline_items = score_items(ScoreKind.COMPOSITE), score_items(ScoreKind.HOTLINE)
    index_items = score_items(ScoreKind.GRID_INDEX) if unit == "grid" else []
    figs = figures(scope=scope, unit=unit, start=start, end=end)
    coverage = (
        patrol_coverage(grid_ids=list(figs), start=start, end=end)
        if any(code == "patrol_coverage" for code, _w in index_items)
        else {}
    )
    rows = []
    for unit_id, fig in figs.items():
        values = rates(fig, weight)
        values["patrol_coverage"] = coverage.get(unit_id)
        rows.append(
            UnitRow(
                unit_id,
                fig,
                values,
                score(values, composite_items),
                score(values, hotline_items),
                score(values, index_items) if index_items else None,
            )
        )
    rows.sort(key=lambda r: (-(r.composite.value if r.composite.value is not None else -1), r.unit_id))
    return rows

"""/api/v1/insight/indicators: the monthly indicator table and one grid's "网格+" index explained.

``GET /api/v1/insight/indicators/?unit=street&month=YYYY-MM`` (or ``quarter=YYYY-Qn`` or
``date_from``/``date_to``) lists every unit in the reader's scope with its figures, rates (each
with numerator and denominator; ``value`` null when the denominator is 0) and scores, ranked;
``GET /api/v1/insight/indicators/grids/{code}?month=`` explains the grid's index item by item.
Thin: parse, call ``indicator_tables``, shape. Tokens need ``insight:read``.
"""

from __future__ import annotations

from ninja import Router
from ninja.security import django_auth
from pydantic import BaseModel

from civicgrid.accounts.scopes import request_scope
from civicgrid.accounts.tokens import TokenAuth
from civicgrid.audit.services import audit_record_denial
from civicgrid.errors import DomainError
from civicgrid.insight import indicators as ind
from civicgrid.insight.indicator_tables import (
    GridIndex,
    Line,
    Period,
    grid_index,
    indicator_table,
    period_parse,
)

router = Router(tags=["insight"])
# The shapes are plain pydantic models: ninja's Schema reads every nested value through an
# attribute getter meant for ORM objects, which took 1 of the 1.1 s of a 613-grid table.
READ = [TokenAuth("insight:read"), django_auth]


class PeriodOut(BaseModel):
    kind: str
    label: str
    start: str
    end: str


class RateOut(BaseModel):
    value: float | None
    numerator: float
    denominator: int


class PartOut(BaseModel):
    indicator: str
    weight: float
    share: float
    value: float | None
    points: float | None


class ScoreOut(BaseModel):
    value: float | None
    grade: str
    parts: list[PartOut]


class RowOut(BaseModel):
    rank: int
    code: str
    name: str
    cases_url: str
    figures: dict[str, int]
    rates: dict[str, RateOut]
    composite: ScoreOut
    hotline: ScoreOut
    grid_index: ScoreOut | None = None


class TableOut(BaseModel):
    unit: str
    period: PeriodOut
    basic_weight: float
    weights: dict[str, dict[str, float]]
    rows: list[RowOut]


class MeasureOut(BaseModel):
    measure: str
    count: float
    cases_url: str


class ItemOut(BaseModel):
    indicator: str
    name: str
    source: str
    lower_is_better: bool
    formula: str
    value: float | None
    numerator: float | None
    denominator: int | None
    numerator_parts: list[MeasureOut]
    denominator_part: MeasureOut | None
    weight: float
    share: float
    points: float | None


class IndexOut(BaseModel):
    code: str
    name: str
    period: PeriodOut
    score_set: str
    basic_weight: float
    value: float | None
    grade: str
    cases_url: str
    items: list[ItemOut]


def _rate(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def _period(period: Period) -> dict:
    return {"kind": period.kind, "label": period.label, "start": str(period.start), "end": str(period.end)}


def _score(score: ind.Score) -> dict:
    return {
        "value": score.value,
        "grade": score.grade,
        "parts": [
            {
                "indicator": p.indicator,
                "weight": p.weight,
                "share": round(p.share, 4),
                "value": _rate(p.value),
                "points": None if p.points is None else round(p.points, 2),
            }
            for p in score.parts
        ],
    }


def _row(line: Line) -> dict:
    return {
        "rank": line.rank,
        "code": line.code,
        "name": line.name,
        "cases_url": line.link,
        "figures": line.figures,
        "rates": {
            c.code: {"value": _rate(c.value), "numerator": c.numerator, "denominator": c.denominator}
            for c in line.cells
        },
        "composite": _score(line.composite),
        "hotline": _score(line.hotline),
        "grid_index": _score(line.grid_index) if line.grid_index is not None else None,
    }


def _parse(month: str, quarter: str, date_from: str, date_to: str) -> Period:
    return period_parse(month=month, quarter=quarter, date_from=date_from, date_to=date_to)


def _denied(request, error: DomainError) -> None:
    # OutOfScope is recorded by the API's handler; a reader with no scope at all is recorded here.
    if error.status == 403:
        audit_record_denial(request=request, object_type="insight.indicators")


@router.get("/", response=TableOut, auth=READ, summary="Every unit's figures, rates and scores for a period")
def indicators_list(
    request, unit: str = "street", month: str = "", quarter: str = "", date_from: str = "", date_to: str = ""
):
    try:
        table = indicator_table(
            scope=request_scope(request), unit=unit, period=_parse(month, quarter, date_from, date_to)
        )
    except DomainError as error:
        _denied(request, error)
        raise
    return {
        "unit": table.unit,
        "period": _period(table.period),
        "basic_weight": table.basic_weight,
        "weights": {kind: dict(items) for kind, items in table.score_sets.items()},
        "rows": [_row(line) for line in table.lines],
    }


def _measure(part) -> dict:
    return {"measure": part.measure, "count": part.count, "cases_url": part.link}


def _index(found: GridIndex) -> dict:
    return {
        "code": found.code,
        "name": found.name,
        "period": _period(found.period),
        "score_set": found.set_name,
        "basic_weight": found.basic_weight,
        "value": found.score.value,
        "grade": found.score.grade,
        "cases_url": found.link,
        "items": [
            {
                "indicator": item.code,
                "name": item.name,
                "source": item.source,
                "lower_is_better": item.lower_is_better,
                "formula": item.formula,
                "value": _rate(item.value),
                "numerator": item.numerator,
                "denominator": item.denominator,
                "numerator_parts": [_measure(p) for p in item.numerator_parts],
                "denominator_part": _measure(item.denominator_part) if item.denominator_part else None,
                "weight": item.weight,
                "share": round(item.share, 4),
                "points": item.points,
            }
            for item in found.items
        ],
    }


@router.get("/grids/{code}", response=IndexOut, auth=READ, summary="One grid's “网格+” index, item by item")
def indicators_grid(
    request, code: str, month: str = "", quarter: str = "", date_from: str = "", date_to: str = ""
):
    try:
        found = grid_index(
            scope=request_scope(request), code=code, period=_parse(month, quarter, date_from, date_to)
        )
    except DomainError as error:
        _denied(request, error)
        raise
    return _index(found)

"""Pages of the command centre: the indicator table (/command/indicators/), its Excel export, and
one grid's "网格+" index explained (/command/grids/<code>/index/).

Thin: parse, call ``indicator_tables``, shape for the template. Who sees which units is decided
there (through the reader's scope); a reader with no scope at all gets 403.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.urls import path, reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from civicgrid.accounts.scopes import request_scope
from civicgrid.audit.services import audit_record, audit_record_denial
from civicgrid.errors import DomainError, OutOfScope
from civicgrid.insight import indicators as ind
from civicgrid.insight.indicator_tables import (
    MEASURE_LABELS,
    SHOWN_FIGURES,
    UNIT_CHOICES,
    Cell,
    Line,
    Table,
    grid_index,
    indicator_table,
    period_parse,
)
from civicgrid.insight.models import MEASURES, ScoreKind
from civicgrid.responses import excel_response
from civicgrid.tables import xlsx_bytes

PERIOD_KEYS = ("month", "quarter", "date_from", "date_to")
HOTLINE_RATES = ("response", "resolution", "satisfaction")
STANDARD_RATES = [c for c in ind.RATES if c not in HOTLINE_RATES]


def percent(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.1f}%"


def _number(value: float) -> str:
    return f"{value:g}"


def _params(request) -> dict[str, str]:
    return {k: request.GET.get(k, "").strip() for k in ("unit", *PERIOD_KEYS)}


def _period(params: dict[str, str]):
    return period_parse(**{k: params[k] for k in PERIOD_KEYS})


def _refused(request, template: str, context: dict, error: DomainError):
    if error.status == 403 or isinstance(error, OutOfScope):
        audit_record_denial(request=request, object_type="insight.indicators")
    return render(request, template, context | {"error": error}, status=error.status)


def _cell(cell: Cell) -> dict:
    item = ind.INDICATORS[cell.code]
    return {
        "code": cell.code,
        "label": str(item.name),
        "text": percent(cell.value),
        "fraction": f"{_number(cell.numerator)}/{cell.denominator}",
        "empty": cell.value is None,
        "lower": item.lower_is_better,
    }


def _line(line: Line) -> dict:
    cells = {c.code: _cell(c) for c in line.cells}
    return {
        "line": line,
        "figures": [(m, MEASURE_LABELS[m], line.figures[m]) for m in SHOWN_FIGURES],
        "rates": [cells[c] for c in (*STANDARD_RATES, *HOTLINE_RATES)],
    }


def _columns(codes) -> list[tuple[str, str]]:
    return [(c, str(ind.INDICATORS[c].name)) for c in codes]


@login_required
def indicators_page(request):
    params = _params(request)
    context = {"params": params, "units": [(u, _unit_label(u)) for u in UNIT_CHOICES]}
    try:
        table = indicator_table(scope=request_scope(request), unit=params["unit"], period=_period(params))
    except DomainError as error:
        return _refused(request, "insight/indicators.html", context, error)
    query = {"unit": table.unit, **table.period.params()}
    moves = [
        (p, {"unit": table.unit, **p.params()}) for p in (table.period.previous, table.period.following) if p
    ]
    return render(
        request,
        "insight/indicators.html",
        context
        | {
            "table": table,
            "lines": [_line(line) for line in table.lines],
            "figure_columns": [(m, str(MEASURE_LABELS[m])) for m in SHOWN_FIGURES],
            "standard_columns": _columns(STANDARD_RATES),
            "hotline_columns": _columns(HOTLINE_RATES),
            "is_grid": table.unit == "grid",
            "moves": [(p.label, "?" + urlencode(q)) for p, q in moves],
            "export_url": reverse("insight:indicators-export") + "?" + urlencode(query),
            "score_sets": _score_sets(table),
        },
    )


def _unit_label(unit: str) -> str:
    return str(ind.UNIT_LABELS["worker" if unit == "person" else unit])


def _score_sets(table: Table) -> list[dict]:
    labels = dict(ScoreKind.choices)
    return [
        {
            "kind": kind,
            "label": str(labels[kind]),
            "items": [(str(ind.INDICATORS[c].name), w) for c, w in items],
        }
        for kind, items in table.score_sets.items()
    ]


def _score_text(value: float | None) -> str | float:
    return "" if value is None else value


def _rate_cell(value: float | None) -> str | float:
    return "" if value is None else round(100 * value, 1)


def export_headers(table: Table) -> list[str]:
    headers = [_("Rank"), _("Code"), pgettext("of a unit", "Name")]
    headers += [str(MEASURE_LABELS[m]) for m in MEASURES]
    headers += [f"{ind.INDICATORS[c].name} (%)" for c in ind.RATES]
    headers += [_("Composite score"), _("Grade"), _("12345 composite"), _("12345 grade")]
    if table.unit == "grid":
        headers += [_("“网格+” index"), _("“网格+” grade")]
    return headers


def export_row(table: Table, line: Line) -> list:
    rates = {c.code: c.value for c in line.cells}
    row = [line.rank, line.code, line.name]
    row += [line.figures[m] for m in MEASURES]
    row += [_rate_cell(rates[c]) for c in ind.RATES]
    row += [
        _score_text(line.composite.value),
        line.composite.grade,
        _score_text(line.hotline.value),
        line.hotline.grade,
    ]
    if table.unit == "grid":
        index = line.grid_index
        row += [_score_text(index.value), index.grade] if index else ["", ""]
    return row


@login_required
def indicators_export(request):
    params = _params(request)
    try:
        table = indicator_table(scope=request_scope(request), unit=params["unit"], period=_period(params))
    except DomainError as error:
        context = {"params": params, "units": [(u, _unit_label(u)) for u in UNIT_CHOICES]}
        return _refused(request, "insight/indicators.html", context, error)
    label = table.period.label
    content, count = xlsx_bytes(
        f"{table.unit} {label}"[:31], export_headers(table), (export_row(table, line) for line in table.lines)
    )
    # A bulk read of units' (and, for persons, people's) figures: on the audit trail like every export.
    audit_record(
        action="export.xlsx",
        request=request,
        object_type="insight.indicators",
        object_id=f"{table.unit}:{label}",
        detail={
            "rows": count,
            "unit": table.unit,
            "from": str(table.period.start),
            "to": str(table.period.end),
        },
    )
    return excel_response(content, f"indicators-{table.unit}-{label.replace('~', '_')}.xlsx")


@login_required
def grid_index_page(request, code: str):
    params = _params(request)
    context = {"params": params, "code": code}
    try:
        explained = grid_index(scope=request_scope(request), code=code, period=_period(params))
    except DomainError as error:
        return _refused(request, "insight/indicators_grid.html", context, error)
    period = explained.period
    moves = [(p.label, "?" + urlencode(p.params())) for p in (period.previous, period.following) if p]
    back = reverse("insight:indicators") + "?" + urlencode({"unit": "grid", **period.params()})
    return render(
        request,
        "insight/indicators_grid.html",
        context
        | {
            "index": explained,
            "items": [
                {
                    "item": item,
                    "value": percent(item.value),
                    "share": f"{100 * item.share:.1f}%" if item.value is not None else "—",
                    "numerator": "" if item.numerator is None else _number(item.numerator),
                    "parts": [(str(MEASURE_LABELS[p.measure]), p) for p in item.numerator_parts],
                    "denominator": (
                        (str(MEASURE_LABELS[item.denominator_part.measure]), item.denominator_part)
                        if item.denominator_part
                        else None
                    ),
                }
                for item in explained.items
            ],
            "moves": moves,
            "back": back,
        },
    )


# Included by civicgrid/insight/urls.py (namespace "insight").
urlpatterns = [
    path("indicators/", indicators_page, name="indicators"),
    path("indicators/export/", indicators_export, name="indicators-export"),
    path("grids/<str:code>/index/", grid_index_page, name="grid-index"),
]

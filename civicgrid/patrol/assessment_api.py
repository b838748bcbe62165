"""/api/v1/assessment: the grid workers' monthly figures for the dashboards (docs/assessment.md).

``GET /api/v1/assessment?month=YYYY-MM&region=CODE`` lists every worker the reader may see;
``GET /api/v1/assessment/{username}?month=`` gives one worker's figures item by item, each with its
numerator, denominator and formula. Thin: parse, call ``assessment``, shape. Tokens need the
``patrol:read`` scope.
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from ninja import Router, Schema
from ninja.security import django_auth

from civicgrid.accounts.scopes import request_scope
from civicgrid.accounts.tokens import TokenAuth
from civicgrid.patrol.assessment import ITEMS, Assessment, Month, Share, WorkerRow, assessment

router = Router(tags=["assessment"])
READ = [TokenAuth("patrol:read"), django_auth]


class PostOut(Schema):
    grid: str
    grid_name: str
    post: str


class ShareOut(Schema):
    done: int
    due: int
    rate: float | None


class ResponseOut(ShareOut):
    median_minutes: float | None


class RowOut(Schema):
    username: str
    name: str
    posts: list[PostOut]
    patrols: int
    patrol_hours: float
    rounds_made: int
    rounds: ShareOut
    coverage: float | None
    coverage_score: float | None
    places: ShareOut
    reports: int
    reports_valid: int
    reports_invalid: int
    reports_pending: int
    valid_rate: float | None
    verify: ShareOut
    check: ShareOut
    task_response: ResponseOut
    resident_response: ResponseOut
    score: float | None
    grade: str


class LimitsOut(Schema):
    task: str
    resident: str


class AssessmentOut(Schema):
    month: str
    weights: dict[str, float]
    limits: LimitsOut
    rows: list[RowOut]


class ItemOut(Schema):
    key: str
    label: str
    value: float | None
    numerator: float | None
    denominator: float | None
    unit: str
    weight: float | None
    formula: str


class WorkerOut(Schema):
    month: str
    username: str
    name: str
    posts: list[PostOut]
    items: list[ItemOut]
    score: float | None
    grade: str


def _rate(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def _share(share: Share) -> dict:
    out = {"done": share.done, "due": share.due, "rate": _rate(share.rate)}
    if hasattr(share, "median_minutes"):
        out["median_minutes"] = share.median_minutes
    return out


def _posts(row: WorkerRow) -> list[dict]:
    return [{"grid": p.grid_code, "grid_name": p.grid_name, "post": p.post} for p in row.posts]


def row_out(row: WorkerRow) -> dict:
    return {
        "username": row.username,
        "name": row.name,
        "posts": _posts(row),
        "patrols": row.patrols,
        "patrol_hours": row.patrol_hours,
        "rounds_made": row.rounds_made,
        "rounds": _share(row.rounds),
        "coverage": _rate(row.coverage),
        "coverage_score": _rate(row.coverage_score),
        "places": _share(row.places),
        "reports": row.reports,
        "reports_valid": row.valid_reports.done,
        "reports_invalid": row.reports_invalid,
        "reports_pending": row.reports_pending,
        "valid_rate": _rate(row.valid_reports.rate),
        "verify": _share(row.verify),
        "check": _share(row.check),
        "task_response": _share(row.task_response),
        "resident_response": _share(row.resident_response),
        "score": row.score,
        "grade": row.grade,
    }


def row_items(row: WorkerRow, result: Assessment) -> list[dict]:
    """One worker's figures item by item, with the formula each follows (docs/assessment.md)."""
    weight = result.weights.get
    task, resident = (result.limits[k].label() for k in ("task", "resident"))

    def share(key, share: Share, formula: str) -> dict:
        value = row.item(key)
        return {
            "key": key,
            "label": str(ITEMS[key]),
            "value": _rate(value),
            "numerator": share.done,
            "denominator": share.due,
            "unit": "share",
            "weight": weight(key),
            "formula": formula,
        }

    def figure(key: str, label: str, value, unit: str, formula: str) -> dict:
        return {
            "key": key,
            "label": label,
            "value": value,
            "numerator": None,
            "denominator": None,
            "unit": unit,
            "weight": None,
            "formula": formula,
        }

    coverage = figure(
        "patrol",
        str(ITEMS["patrol"]),
        _rate(row.coverage_score),
        "share",
        _("mean over the month's weeks of min(1, weekly coverage ÷ the plan's coverage target)"),
    )
    coverage["weight"] = weight("patrol")
    return [
        figure(
            "patrols", _("Patrols"), row.patrols, "count", _("ended patrols begun in the month's periods")
        ),
        figure(
            "patrol_hours", _("Patrol hours"), row.patrol_hours, "hours", _("sum of the patrols' durations")
        ),
        share("rounds", row.rounds, _("per period min(rounds ≥ the plan's minimum length, rounds required)")),
        figure(
            "coverage",
            _("Coverage"),
            _rate(row.coverage),
            "share",
            _(
                "mean of the weekly coverage of the month's weeks (by Monday); a week without patrols counts 0"
            ),
        ),
        coverage,
        share("places", row.places, _("per place and period min(accepted check-ins, visits required)")),
        figure(
            "reports", _("Reports made"), row.reports, "count", _("cases the worker reported in the month")
        ),
        share(
            "valid_reports",
            row.valid_reports,
            _("valid reports ÷ (valid + voided reports); reports not yet decided are left out"),
        ),
        share("verify_on_time", row.verify, _("verifications done on time ÷ verifications due")),
        share("check_on_time", row.check, _("checks done on time ÷ checks due")),
        share(
            "task_response",
            row.task_response,
            _("verify and check tasks answered within %(l)s") % {"l": task},
        ),
        figure(
            "task_response_minutes",
            _("Median minutes to answer a task"),
            row.task_response.median_minutes,
            "minutes",
            _("from the stage's start to the worker's move"),
        ),
        share(
            "resident_response",
            row.resident_response,
            _("residents' reports answered within %(l)s") % {"l": resident},
        ),
        figure(
            "resident_response_minutes",
            _("Median minutes to answer a resident"),
            row.resident_response.median_minutes,
            "minutes",
            _("from the report to the worker's first word or move"),
        ),
    ]


def _limits(result: Assessment) -> dict:
    return {k: result.limits[k].label() for k in ("task", "resident")}


@router.get(
    "", response=AssessmentOut, auth=READ, summary="The month's assessment of the workers in your scope"
)
def assessment_list(request, month: str = "", region: str = ""):
    result = assessment(scope=request_scope(request), month=Month.parse(month), region=region.strip())
    return {
        "month": str(result.month),
        "weights": result.weights,
        "limits": _limits(result),
        "rows": [row_out(r) for r in result.rows],
    }


@router.get("/{username}", response=WorkerOut, auth=READ, summary="One worker's figures, item by item")
def assessment_worker(request, username: str, month: str = ""):
    result = assessment(scope=request_scope(request), month=Month.parse(month), username=username)
    row = result.rows[0]
    return {
        "month": str(result.month),
        "username": row.username,
        "name": row.name,
        "posts": _posts(row),
        "items": row_items(row, result),
        "score": row.score,
        "grade": row.grade,
    }

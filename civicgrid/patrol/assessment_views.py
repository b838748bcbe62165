"""The monthly assessment page (/patrol/assessment/?month=YYYY-MM) and its Excel export.

Thin: parse, call ``assessment``, render. Who sees which rows is decided in ``assessment`` (the
grid chief their community's workers, street and district staff their scope, a grid worker their
own row); anyone else gets 403.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.urls import path, reverse
from django.utils.translation import gettext as _

from civicgrid.accounts.models import GridPost
from civicgrid.accounts.scopes import request_scope
from civicgrid.audit.services import audit_record, audit_record_denial
from civicgrid.errors import DomainError
from civicgrid.patrol.assessment import ITEMS, Assessment, Month, WorkerRow, assessment
from civicgrid.regions.models import Level, Region
from civicgrid.responses import excel_response
from civicgrid.tables import xlsx_bytes


def _percent(value: float | None) -> str | float:
    return "" if value is None else round(100 * value, 1)


def _params(request) -> dict:
    return {k: request.GET.get(k, "").strip() for k in ("month", "region")}


def _regions(scope) -> list[Region]:
    """The streets and communities the reader may narrow the table to (none for one community)."""
    regions = Region.objects.filter(level__in=(Level.STREET, Level.COMMUNITY), statistical_only=False)
    if not scope.everything:
        regions = regions.filter(id__in=scope.region_ids)
    found = list(regions.order_by("code"))
    return found if len(found) > 1 else []


def _load(request) -> tuple[dict, Assessment]:
    params = _params(request)
    month = Month.parse(params["month"])
    params["month"] = str(month)
    return params, assessment(scope=request_scope(request), month=month, region=params["region"])


def _refused(request, template: str, context: dict, error: DomainError):
    if error.status == 403:
        audit_record_denial(request=request, object_type="patrol.assessment")
    return render(request, template, context | {"error": error}, status=error.status)


@login_required
def assessment_page(request):
    try:
        params, result = _load(request)
    except DomainError as error:
        return _refused(request, "patrol/assessment.html", {"params": _params(request)}, error)
    query = f"month={result.month}" + (f"&region={params['region']}" if params["region"] else "")
    return render(
        request,
        "patrol/assessment.html",
        {
            "params": params,
            "result": result,
            "rows": result.rows,
            "regions": _regions(request_scope(request)),
            "weights": [(str(ITEMS[k]), w) for k, w in result.weights.items()],
            "limits": {k: v.label() for k, v in result.limits.items()},
            "previous": str(result.month.previous),
            "following": str(result.month.following),
            "export_url": reverse("patrol:assessment-export") + "?" + query,
        },
    )


def _headers() -> list[str]:
    return [
        _("Username"),
        _("Name"),
        _("Grid code"),
        _("Grid"),
        _("Post"),
        _("Patrols"),
        _("Patrol hours"),
        _("Rounds counted"),
        _("Rounds required"),
        _("Coverage (%)"),
        _("Coverage against target (%)"),
        _("Key-place visits"),
        _("Key-place visits required"),
        _("Reports made"),
        _("Valid reports"),
        _("Voided reports"),
        _("Reports not yet decided"),
        _("Valid-report rate (%)"),
        _("Verifications due"),
        _("Verified on time"),
        _("On-time verification rate (%)"),
        _("Checks due"),
        _("Checked on time"),
        _("On-time check rate (%)"),
        _("Tasks due"),
        _("Tasks answered in time"),
        _("Median minutes to answer a task"),
        _("Residents' reports due"),
        _("Residents answered in time"),
        _("Median minutes to answer a resident"),
        _("Score"),
        _("Grade"),
    ]


def _line(row: WorkerRow) -> list:
    posts = dict(GridPost.choices)
    return [
        row.username,
        row.name,
        "、".join(p.grid_code for p in row.posts),
        "、".join(p.grid_name for p in row.posts),
        "、".join(str(posts[p.post]) for p in row.posts),
        row.patrols,
        row.patrol_hours,
        row.rounds.done,
        row.rounds.due,
        _percent(row.coverage),
        _percent(row.coverage_score),
        row.places.done,
        row.places.due,
        row.reports,
        row.valid_reports.done,
        row.reports_invalid,
        row.reports_pending,
        _percent(row.valid_reports.rate),
        row.verify.due,
        row.verify.done,
        _percent(row.verify.rate),
        row.check.due,
        row.check.done,
        _percent(row.check.rate),
        row.task_response.due,
        row.task_response.done,
        "" if row.task_response.median_minutes is None else row.task_response.median_minutes,
        row.resident_response.due,
        row.resident_response.done,
        "" if row.resident_response.median_minutes is None else row.resident_response.median_minutes,
        "" if row.score is None else row.score,
        row.grade,
    ]


@login_required
def assessment_export(request):
    try:
        params, result = _load(request)
    except DomainError as error:
        return _refused(request, "patrol/assessment.html", {"params": _params(request)}, error)
    content, count = xlsx_bytes(f"assessment {result.month}", _headers(), (_line(r) for r in result.rows))
    # A bulk read of people's figures: on the audit trail like every export.
    audit_record(
        action="export.xlsx",
        request=request,
        object_type="patrol.assessment",
        object_id=str(result.month),
        detail={"rows": count, "region": params["region"]},
    )
    return excel_response(content, f"assessment-{result.month}.xlsx")


# Included by civicgrid/patrol/urls.py (namespace "patrol").
urlpatterns = [
    path("assessment/", assessment_page, name="assessment"),
    path("assessment/export/", assessment_export, name="assessment-export"),
]

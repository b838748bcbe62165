"""Pages of the reviews (月点评 · 季调度 · 周提醒 runs): the archive /command/reviews/, one review as
a print-ready page, its Excel workbook and its PDF, and the on-demand button.

Thin: parse, call ``insight.reviews``, render. What a reader sees of a review is decided in
``reviews.review_view`` (their scope's rows); downloads are audited like every export.
"""

from __future__ import annotations

from collections import OrderedDict

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path, reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from civicgrid.accounts.scopes import request_scope
from civicgrid.audit.services import audit_record, audit_record_denial
from civicgrid.errors import DomainError
from civicgrid.insight import reviews
from civicgrid.insight.models import ReviewKind
from civicgrid.insight.reviews_pdf import PRINTED, review_pdf
from civicgrid.insight.reviews_xlsx import FIGURES, indicator_names, percent, review_xlsx
from civicgrid.responses import excel_response


def _refused(request, error: DomainError, template: str = "insight/review_list.html"):
    if error.status == 403:
        audit_record_denial(request=request, object_type="insight.review")
    return render(request, template, {"error": error}, status=error.status)


@login_required
def review_list(request):
    scope = request_scope(request)
    try:
        found = list(reviews.review_list(scope=scope))
    except DomainError as error:
        return _refused(request, error)
    reviews.titles(found)
    by_year: OrderedDict[int, list] = OrderedDict()
    for review in found:
        by_year.setdefault(review.period_start.year, []).append(review)
    return render(
        request,
        "insight/review_list.html",
        {
            "by_year": by_year,
            "may_generate": reviews.may_generate(scope),
            "kinds": [(k, ReviewKind(k).label) for k in (ReviewKind.MONTHLY, ReviewKind.QUARTERLY)],
        },
    )


@login_required
@require_POST
def review_generate(request):
    scope = request_scope(request)
    if not reviews.may_generate(scope):
        error = DomainError(
            "review_generate_forbidden", _("Only the command centre makes reviews."), status=403
        )
        return _refused(request, error)
    try:
        period = reviews.period_parse(request.POST.get("kind", ""), request.POST.get("period", ""))
        review, _made = reviews.review_generate(
            period=period, by=request.user, replace=bool(request.POST.get("replace")), request=request
        )
    except DomainError as error:
        messages.error(request, error.message)
        return HttpResponseRedirect(reverse("insight:reviews"))
    return HttpResponseRedirect(reverse("insight:review", args=[review.pk]))


def _load(request, review_id: int):
    scope = request_scope(request)
    return reviews.review_view(reviews.review_get(scope=scope, review_id=review_id), scope)


@login_required
def review_detail(request, review_id: int):
    try:
        view = _load(request, review_id)
    except DomainError as error:
        return _refused(request, error)
    codes = [c for c in PRINTED if c in view["indicators"]]
    return render(
        request,
        "insight/review_detail.html",
        {
            "view": view,
            "figure_names": [label for _key, label in FIGURES],
            "rate_names": indicator_names(codes),
            "areas": [_area(a, codes) for a in view["areas"]],
            "tables": [
                (kind, label, [_row(r, codes, _cases_of(kind, r, view)) for r in view["units"][kind]])
                for kind, label in _unit_labels()
                if view["units"].get(kind)
            ],
            "charts": _charts(view),
            "months": _months(view, codes),
        },
    )


def _row(row: dict, codes: list[str], href: str = "") -> dict:
    """A unit's row with its figures and the page's rates as lists, in column order."""
    return row | {
        "figure_list": [row["figures"].get(k, 0) for k, _label in FIGURES],
        "rate_list": [percent(row["rates"].get(c)) for c in codes],
        "href": href,
    }


def _cases_of(kind: str, row: dict, view: dict) -> str:
    """The case list behind a row: the unit's cases reported in the period (today's states)."""
    unit = "department" if kind == "department" else "region"
    query = urlencode({unit: row["code"], "date_from": view["period_start"], "date_to": view["period_end"]})
    return f"{reverse('case-list')}?{query}"


def _area(area: dict, codes: list[str]) -> dict:
    return _row(area | {"id": 0, "code": ""}, codes)


def _months(view: dict, codes: list[str]) -> list[tuple[str, list[tuple[str, dict]]]]:
    """A quarter's monthly series per overview: (area name, [(month, row)])."""
    return [
        (a["name"], [(m, _row(s, codes)) for m, s in zip(view["months"], a.get("months", []), strict=False)])
        for a in view["areas"]
    ]


def _unit_labels():
    return [
        ("street", _("Streets")),
        ("community", _("Communities")),
        ("grid", _("Grids")),
        ("department", _("Departments")),
    ]


def _charts(view: dict) -> dict:
    """The data the page's ECharts draw (passed with json_script)."""
    streets = [r for r in view["units"].get("street", []) if r["score"] is not None]
    charts = {
        "scores": {"names": [r["name"] for r in streets], "values": [r["score"] for r in streets]},
        "labels": {"cases": _("Reported"), "closed": _("Closed")},
    }
    if view["areas"]:
        area = view["areas"][0]
        if view["kind"] == ReviewKind.QUARTERLY:
            months = area.get("months", [])
            charts["trend"] = {
                "x": view["months"],
                "cases": [m["figures"]["cases"] for m in months],
                "closed": [m["figures"]["closed"] for m in months],
            }
        else:
            trend = area.get("trend", {})
            charts["trend"] = {
                "x": view["days"],
                "cases": trend.get("cases", []),
                "closed": trend.get("closed", []),
            }
        top = area.get("top_major", [])
        charts["classes"] = {"names": [t["name"] for t in top], "values": [t["cases"] for t in top]}
    return charts


def _download(request, review_id: int, fmt: str):
    try:
        view = _load(request, review_id)
    except DomainError as error:
        return _refused(request, error)
    if fmt == "xlsx":
        content, rows = review_xlsx(view)
    else:
        content, rows = review_pdf(view), sum(len(v) for v in view["units"].values())
    # A bulk read of the district's figures: on the audit trail like every export.
    audit_record(
        action=f"export.{fmt}",
        request=request,
        object_type="insight.review",
        object_id=view["id"],
        detail={"kind": view["kind"], "period": view["period"], "rows": rows},
    )
    name = f"review-{view['kind']}-{view['period']}.{fmt}"
    if fmt == "xlsx":
        return excel_response(content, name)
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@login_required
def review_xlsx_download(request, review_id: int):
    return _download(request, review_id, "xlsx")


@login_required
def review_pdf_download(request, review_id: int):
    return _download(request, review_id, "pdf")


urlpatterns = [
    path("reviews/", review_list, name="reviews"),
    path("reviews/generate", review_generate, name="review-generate"),
    path("reviews/<int:review_id>/", review_detail, name="review"),
    path("reviews/<int:review_id>.xlsx", review_xlsx_download, name="review-xlsx"),
    path("reviews/<int:review_id>.pdf", review_pdf_download, name="review-pdf"),
]

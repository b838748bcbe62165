"""The opinion monitoring page (/command/opinion/?week=YYYY-MM-DD&street=CODE) and its recompute
button. Thin: parse, call ``opinion_view``, render. Who sees which street is decided in
``opinion_read.readable``; anyone else gets 403 (recorded on the audit trail).
"""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from civicgrid.accounts.models import Role
from civicgrid.accounts.scopes import request_scope
from civicgrid.audit.services import audit_record, audit_record_denial
from civicgrid.errors import DomainError
from civicgrid.insight import opinion
from civicgrid.insight.opinion_read import opinion_view, parse_week

TEMPLATE = "insight/opinion.html"
# Recomputing a week re-reads the whole district's texts: the district's staff may, not a street.
COMPUTE_ROLES = (Role.OPERATOR, Role.SHIFT_LEAD)


def _params(request) -> dict:
    return {k: request.GET.get(k, "").strip() for k in ("week", "street")}


def _query(week, street) -> str:
    return urlencode({"week": week.isoformat(), **({"street": street.code} if street else {})})


def _refused(request, error: DomainError):
    if error.status == 403:
        audit_record_denial(request=request, object_type="insight.opinion")
    return render(request, TEMPLATE, {"params": _params(request), "error": error}, status=error.status)


def _may_compute(scope) -> bool:
    return scope.everything and scope.has_role(*COMPUTE_ROLES)


@login_required
def opinion_page(request):
    scope = request_scope(request)
    try:
        view = opinion_view(scope=scope, **_params(request))
    except DomainError as error:
        return _refused(request, error)
    chart = {
        "terms": [[t.term, t.texts] for t in reversed(view.top[:20])],
        "trend": [
            [p.week.isoformat(), None if p.share is None else round(100 * p.share, 2), p.texts]
            for p in view.trend
        ],
    }
    labels = {"texts": _("Texts"), "share": _("Negative share (%)"), "terms": _("Texts using the term")}
    weeks = view.weeks if view.week in view.weeks else sorted([view.week, *view.weeks], reverse=True)
    return render(
        request,
        TEMPLATE,
        {
            "view": view,
            "weeks": weeks,
            "chart": chart,
            "labels": labels,
            "previous": _query(view.week - timedelta(weeks=1), view.street),
            "following": _query(view.week + timedelta(weeks=1), view.street),
            "api_url": "/api/v1/insight/opinion/?" + _query(view.week, view.street),
            "may_compute": _may_compute(scope),
            "negative_percent": None if view.negative_share is None else 100 * view.negative_share,
        },
    )


@login_required
@require_POST
def opinion_compute(request):
    """Recompute one week's figures and watch-list alerts now (the hourly task does the current
    week by itself; this is for a past week after the word lists or the watch-list changed)."""
    scope = request_scope(request)
    try:
        if not _may_compute(scope):
            raise DomainError("opinion_forbidden", _("Only the district may recompute."), status=403)
        week = parse_week(request.POST.get("week", ""))
    except DomainError as error:
        return _refused(request, error)
    weeks = opinion.opinion_weeks_compute(start=week)
    scan = opinion.watch_scan(start=week, end=week + timedelta(days=6))
    audit_record(
        action="insight.opinion_compute",
        request=request,
        object_type="insight.opinionweek",
        object_id=week.isoformat(),
        detail={"texts": weeks.texts, "rows": weeks.rows, "alerts": scan.alerts},
    )
    messages.success(
        request,
        _("Week of %(week)s recomputed: %(texts)d texts, %(alerts)d watch-list alerts.")
        % {"week": week.isoformat(), "texts": weeks.texts, "alerts": scan.alerts},
    )
    street = request.POST.get("street", "").strip()
    query = urlencode({"week": week.isoformat(), **({"street": street} if street else {})})
    return redirect(reverse("insight:opinion") + "?" + query)


urlpatterns = [
    path("opinion/", opinion_page, name="opinion"),
    path("opinion/compute/", opinion_compute, name="opinion-compute"),
]

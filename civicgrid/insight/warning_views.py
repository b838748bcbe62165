"""Pages of the command centre's early warning: /command/warnings/ (the list, filtered by kind,
severity and status, with acknowledge and close) and /command/hotspots/ (the Gi* map of the grids
and the repeat places).

Thin: parse, call ``warnings`` / ``hotspots``, render. Who sees what is decided there through the
reader's scope; a reader whose roles reach no region gets 403. Every status change is audited.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from civicgrid.accounts.scopes import request_scope
from civicgrid.audit.services import audit_record, audit_record_denial
from civicgrid.errors import DomainError
from civicgrid.insight import hotspots, warnings
from civicgrid.insight.access import may_use
from civicgrid.insight.models import AlertKind, AlertStatus, Severity

PAGE_SIZE = 100
ACTIONS = {"acknowledge": AlertStatus.ACKNOWLEDGED, "close": AlertStatus.CLOSED, "reopen": AlertStatus.OPEN}


def _scope_or_refuse(request, template: str):
    """The reader's scope, or a 403 page (audited) when their roles reach no region."""
    scope = request_scope(request)
    if may_use(scope) and (scope.everything or scope.region_ids):
        return scope, None
    audit_record_denial(request=request, object_type="insight.warnings")
    error = DomainError("forbidden", _("Your roles give you no area to watch."), status=403)
    return None, render(request, template, {"error": error}, status=403)


def _filters(request) -> dict[str, str]:
    return {
        "kind": request.GET.get("kind", "").strip(),
        "severity": request.GET.get("severity", "").strip(),
        "status": request.GET.get("status", warnings.ACTIVE).strip() or warnings.ACTIVE,
    }


@login_required
def warnings_page(request):
    scope, refused = _scope_or_refuse(request, "insight/warnings.html")
    if refused:
        return refused
    params = _filters(request)
    context = {
        "params": params,
        "kinds": AlertKind.choices,
        "severities": Severity.choices,
        "statuses": [(warnings.ACTIVE, _("Open or acknowledged")), *AlertStatus.choices, ("all", _("All"))],
    }
    try:
        alerts = warnings.alerts_list(scope, **params)
    except DomainError as error:
        return render(request, "insight/warnings.html", context | {"error": error}, status=error.status)
    total = alerts.count()
    return render(
        request,
        "insight/warnings.html",
        context | {"alerts": alerts[:PAGE_SIZE], "total": total, "shown": min(total, PAGE_SIZE)},
    )


@login_required
@require_POST
def warning_status(request, alert_id: int):
    scope, refused = _scope_or_refuse(request, "insight/warnings.html")
    if refused:
        return refused
    status = ACTIONS.get(request.POST.get("action", ""))
    try:
        if status is None:
            raise DomainError("bad_action", _("Acknowledge, close or reopen."))
        alert = warnings.alert_set_status(scope=scope, alert_id=alert_id, status=status, user=request.user)
    except DomainError as error:
        return render(request, "insight/warnings.html", {"error": error}, status=error.status)
    audit_record(
        action=f"insight.warning.{request.POST['action']}",
        request=request,
        object_type="insight.alert",
        object_id=str(alert.pk),
        detail={"key": alert.key, "status": alert.status},
    )
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        back = reverse("insight:warnings")
    return redirect(back)


@login_required
def hotspots_page(request):
    scope, refused = _scope_or_refuse(request, "insight/warnings_hotspots.html")
    if refused:
        return refused
    try:
        result = hotspots.hotspots(last=timezone.localdate())
    except DomainError as error:  # no active boundary generation yet
        return render(request, "insight/warnings_hotspots.html", {"error": error}, status=error.status)
    rows = hotspots.hotspots_visible(result, scope)
    places = hotspots.repeat_places(scope=scope)
    return render(
        request,
        "insight/warnings_hotspots.html",
        {
            "result": result,
            "hot": sorted((r for r in rows if r.level.startswith("hot")), key=lambda r: -r.z),
            "geojson": hotspots.hotspots_geojson(result, rows),
            "places": places,
            "window": hotspots.WINDOW_DAYS,
        },
    )


# Included by civicgrid/insight/urls.py (namespace "insight").
urlpatterns = [
    path("warnings/", warnings_page, name="warnings"),
    path("warnings/<int:alert_id>/status/", warning_status, name="warning-status"),
    path("hotspots/", hotspots_page, name="hotspots"),
]

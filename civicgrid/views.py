"""Site-wide pages: home and the error pages (HTML for people, the error shape for the API)."""

from __future__ import annotations

from django.http import JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from civicgrid.accounts.models import Department, Role
from civicgrid.accounts.scopes import request_scope
from civicgrid.errors import error_body
from civicgrid.middleware import API_PREFIXES
from civicgrid.regions.models import BoundaryGeneration, GenerationState, Level, Region


def home(request):
    active = BoundaryGeneration.objects.filter(state=GenerationState.ACTIVE).first()
    counts = {
        level: Region.objects.filter(level=level, statistical_only=False).count() for level in Level.values
    }
    scope = request_scope(request)
    mine = {
        "roles": [Role(role).label for role in sorted(scope.roles)],
        "areas": Region.objects.filter(id__in=scope.anchors).order_by("code")[:50],
        "grids": Region.objects.filter(id__in=scope.region_ids, level=Level.GRID).count(),
        "departments": Department.objects.filter(id__in=scope.department_ids).order_by("code"),
    }
    return render(request, "home.html", {"active": active, "counts": counts, "mine": mine})


def not_found(request, exception=None):
    if request.path.startswith(API_PREFIXES):
        return JsonResponse(error_body("not_found", _("Not found.")), status=404)
    return render(request, "404.html", status=404)


def server_error(request):
    if request.path.startswith(API_PREFIXES):
        body = error_body("internal_error", _("Something went wrong on the server; it has been logged."))
        return JsonResponse(body, status=500)
    return render(request, "500.html", status=500)

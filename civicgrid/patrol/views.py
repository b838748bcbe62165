"""Patrol pages for the grid chief and up (a grid worker sees their own): the list with filters,
one patrol on a map (its track, flagged points, the covered area, its check-ins), and the week's
coverage per grid and worker.

Thin: parse, call a selector, render. A patrol outside the reader's scope answers 404 exactly like
a missing one; people whose work has no patrols get 403.
"""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import shapely
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render
from django.utils.translation import gettext as _

from civicgrid.accounts.scopes import request_scope
from civicgrid.audit.services import audit_record_denial
from civicgrid.errors import DomainError, NotFound, OutOfScope
from civicgrid.geo.crs import convert
from civicgrid.patrol import presenters, selectors, services
from civicgrid.patrol.models import Patrol, PointFlag

PAGE_SIZE = 50


def figures(p) -> dict[str, str]:
    """A patrol's duration, distance and coverage as the pages show them (— while on patrol)."""
    if p.ended_at is None:
        return {"duration": "—", "distance": "—", "coverage": "—"}
    hours, minutes = divmod(round(p.duration_s / 60), 60)
    return {
        "duration": _("%(h)d h %(m)02d min") % {"h": hours, "m": minutes},
        "distance": _("%(km).1f km") % {"km": p.distance_m / 1000},
        "coverage": "—" if p.coverage is None else f"{p.coverage:.0%}",
    }


def _forbidden(request):
    return render(
        request, "patrol/forbidden.html", {"message": _("Patrols are not part of your work.")}, status=403
    )


def _patrol_or_404(request, patrol_id: int) -> Patrol:
    try:
        return selectors.patrol_get(scope=request_scope(request), patrol_id=patrol_id)
    except OutOfScope as exc:
        audit_record_denial(request=request, object_type=exc.object_type, object_id=exc.object_id)
        raise Http404 from None
    except NotFound:
        raise Http404 from None


def _page(request) -> int:
    try:
        return max(1, int(request.GET.get("page", "1")))
    except ValueError:
        return 1


@login_required
def patrol_list(request):
    scope = request_scope(request)
    if not selectors.may_read(scope):
        return _forbidden(request)
    params = {k: request.GET.get(k, "").strip() for k in ("grid", "worker", "date_from", "date_to")}
    context = {"params": params, "filtered": any(params.values())}
    try:
        found = selectors.patrol_list(scope=scope, filters=selectors.PatrolFilter.from_params(params))
        page = _page(request)
        rows = list(found[(page - 1) * PAGE_SIZE : page * PAGE_SIZE + 1])
    except DomainError as error:
        return render(request, "patrol/list.html", context | {"error": error}, status=error.status)
    query = request.GET.copy()
    query.pop("page", None)
    prefix = "?" + (query.urlencode() + "&" if query else "")
    return render(
        request,
        "patrol/list.html",
        context
        | {
            "rows": [(p, figures(p)) for p in rows[:PAGE_SIZE]],
            "previous_url": f"{prefix}page={page - 1}" if page > 1 else "",
            "next_url": f"{prefix}page={page + 1}" if len(rows) > PAGE_SIZE else "",
        },
    )


def _tile_crs() -> str:
    return settings.TILE_CRS if settings.TILE_URL else "wgs84"


def _in_tile_crs(geometry):
    """A WGS-84 geometry in the CRS the base tiles are drawn in (GCJ-02 for Amap-style tiles)."""
    crs = _tile_crs()
    if geometry is None or crs == "wgs84":
        return geometry
    return shapely.transform(
        geometry, lambda c: np.column_stack(convert(c[:, 0], c[:, 1], source="wgs84", target=crs))
    )


def _map_data(patrol: Patrol) -> dict:
    """What patrol-map.js draws: the grid, the covered area, the used track and the flagged points."""
    track = services.patrol_track(patrol)
    covered = shapely.from_wkb(bytes(patrol.covered)) if patrol.covered else None
    flags = np.asarray(track.flags, dtype=int)
    odd = np.flatnonzero(flags != PointFlag.OK)
    lon, lat = np.asarray(track.lon, dtype=float)[odd], np.asarray(track.lat, dtype=float)[odd]
    if odd.size and _tile_crs() != "wgs84":
        lon, lat = convert(lon, lat, source="wgs84", target=_tile_crs())
    return {
        "tileUrl": settings.TILE_URL,
        "tileAttribution": settings.TILE_ATTRIBUTION,
        "grid": presenters.geojson(_in_tile_crs(services.grid_shape(patrol.grid))),
        "covered": presenters.geojson(_in_tile_crs(covered)),
        "track": presenters.geojson(_in_tile_crs(presenters.track_geometry(track))),
        "flagged": [
            {"lon": round(float(x), 7), "lat": round(float(y), 7), "flag": int(f)}
            for x, y, f in zip(lon, lat, flags[odd], strict=True)
        ],
    }


@login_required
def patrol_detail(request, patrol_id: int):
    patrol = _patrol_or_404(request, patrol_id)
    checkins = patrol.checkins.select_related("place").order_by("at")
    return render(
        request,
        "patrol/detail.html",
        {
            "patrol": patrol,
            "figures": figures(patrol),
            "checkins": checkins,
            "map": _map_data(patrol),
            "labels": {
                "inaccurate": _("Poor accuracy"),
                "jump": _("Impossible jump"),
                "track": _("Track"),
                "covered": _("Covered area"),
                "grid": _("Grid"),
            },
        },
    )


@login_required
def coverage_week(request):
    scope = request_scope(request)
    if not selectors.may_read(scope):
        return _forbidden(request)
    grid = request.GET.get("grid", "").strip()
    context: dict = {"params": {"grid": grid, "week": request.GET.get("week", "").strip()}}
    try:
        monday = selectors.week_start(request.GET.get("week") or None)
        rows = list(selectors.coverage_weeks(scope=scope, week=monday, grid=grid))
    except DomainError as error:
        return render(request, "patrol/coverage.html", context | {"error": error}, status=error.status)
    return render(
        request,
        "patrol/coverage.html",
        context
        | {
            "week": monday,
            "week_end": monday + timedelta(days=6),
            "previous_week": monday - timedelta(days=7),
            "next_week": monday + timedelta(days=7),
            "rows": rows,
        },
    )

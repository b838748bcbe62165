"""Patrols as the API and the pages show them: plain dicts, times in local time (+08:00), shapes as
GeoJSON geometries (WGS-84, coordinates rounded to 1e-7°, about a centimetre)."""

from __future__ import annotations

import shapely
from django.utils import timezone
from shapely.geometry import mapping
from shapely.geometry.base import BaseGeometry

from civicgrid.geo import tracks
from civicgrid.patrol.models import CheckIn, KeyPlace, Patrol, PatrolPlan
from civicgrid.patrol.services import patrol_track

PRECISION = 1e-7


def geojson(geometry: BaseGeometry | None) -> dict | None:
    if geometry is None or geometry.is_empty:
        return None
    return mapping(shapely.set_precision(geometry, PRECISION))


def local(moment):
    return timezone.localtime(moment) if moment else None


def patrol_summary(p: Patrol) -> dict:
    return {
        "id": p.pk,
        "grid": p.grid.code,
        "grid_name": p.grid.name,
        "worker": p.worker.get_username(),
        "worker_name": str(p.worker),
        "state": p.state,
        "started_at": local(p.started_at),
        "ended_at": local(p.ended_at),
        "duration_s": p.duration_s,
        "distance_m": p.distance_m,
        "points": p.points,
        "flagged": p.flagged,
        "coverage": p.coverage,
    }


def track_geometry(track) -> BaseGeometry | None:
    """The used track: one LineString, or a MultiLineString when jumps split it; None with fewer
    than two used points."""
    lines = tracks.track_lines(track.lon, track.lat, track.flags)
    if lines.is_empty:
        return None
    parts = shapely.get_parts(lines)
    return parts[0] if len(parts) == 1 else lines


def patrol_body(p: Patrol) -> dict:
    """The patrol with its summary, the covered area and the track (the stop's answer)."""
    track = patrol_track(p)
    covered = shapely.from_wkb(bytes(p.covered)) if p.covered else None
    return patrol_summary(p) | {
        "covered": geojson(covered),
        "track": geojson(track_geometry(track)),
    }


def track_points(p: Patrol) -> list[dict]:
    """Every stored point with its flag (for the map: flagged points are drawn apart)."""
    track = patrol_track(p)
    return [
        {"lon": x, "lat": y, "at": local(t), "flag": f}
        for t, x, y, f in zip(track.at, track.lon, track.lat, track.flags, strict=True)
    ]


def place_out(place: KeyPlace) -> dict:
    return {
        "id": place.pk,
        "name": place.name,
        "kind": place.kind,
        "kind_label": str(place.get_kind_display()),
        "lon": place.lon,
        "lat": place.lat,
        "radius_m": place.radius_m,
        "grid": place.grid.code,
    }


def plan_out(plan: PatrolPlan) -> dict:
    return {
        "period": plan.period,
        "rounds_per_period": plan.rounds_per_period,
        "min_minutes": plan.min_minutes,
        "coverage_distance_m": plan.coverage_distance_m,
        "coverage_target": plan.coverage_target,
        "max_speed_kmh": plan.max_speed_kmh,
        "max_accuracy_m": plan.max_accuracy_m,
    }


def checkin_out(c: CheckIn) -> dict:
    return {
        "id": c.pk,
        "accepted": c.accepted,
        "distance_m": round(c.distance_m),
        "place": {"id": c.place_id, "name": c.place.name, "kind": c.place.kind},
        "at": local(c.at),
        "patrol": c.patrol_id,
    }

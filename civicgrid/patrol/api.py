"""/api/v1/patrol: the grid worker's patrols, track points, check-ins and coverage. Thin: parse,
call a service or selector, render.

A worker acts only in grids they are posted to (``accounts.GridStaffing``); the grid chief,
community staff, street operators and the command centre read the patrols in their regions.
Tokens need ``patrol:read`` to read and ``patrol:write`` to act.
"""

from __future__ import annotations

from datetime import datetime

from django.utils.translation import gettext as _
from ninja import Query, Router, Schema
from ninja.responses import Status
from ninja.security import django_auth
from pydantic import Field

from civicgrid.accounts.scopes import request_scope
from civicgrid.accounts.tokens import TokenAuth
from civicgrid.errors import DomainError
from civicgrid.patrol import presenters, selectors, services

router = Router(tags=["patrol"])
# The bearer token first (see cases.api: session auth refuses a token POST without CSRF).
READ = [TokenAuth("patrol:read"), django_auth]
WRITE = [TokenAuth("patrol:write"), django_auth]
LIST_MAX = 500


class StartIn(Schema):
    grid: str = Field(description="the grid's code; you must be posted to it")
    started_at: datetime | None = Field(
        None, description="default: now (a start queued offline sends its own)"
    )
    client_key: str = Field(description="the phone's key for this start: sent again, the same patrol answers")


class StartOut(Schema):
    id: int
    grid: str
    started_at: datetime
    state: str


class PointIn(Schema):
    seq: int = Field(ge=0, description="the phone's counter within the patrol")
    t: datetime = Field(description="when the position was taken (ISO 8601)")
    lon: float = Field(ge=-180, le=180)
    lat: float = Field(ge=-90, le=90)
    accuracy: float | None = Field(None, ge=0, description="metres, as the Geolocation API reports it")


class PointsIn(Schema):
    points: list[PointIn] = Field(description=f"at most {services.BATCH_MAX} a batch")


class FlaggedOut(Schema):
    seq: int
    flag: str = Field(description="inaccurate or jump")
    reason: str


class PointsOut(Schema):
    accepted: int
    duplicates: int
    flagged: list[FlaggedOut]


class StopIn(Schema):
    ended_at: datetime | None = Field(None, description="default: now")


class PatrolSummaryOut(Schema):
    id: int
    grid: str
    grid_name: str
    worker: str
    worker_name: str
    state: str
    started_at: datetime
    ended_at: datetime | None
    duration_s: int
    distance_m: float
    points: int
    flagged: int
    coverage: float | None = Field(
        description="share of the grid within the plan's distance of the track, 0..1"
    )


class PatrolOut(PatrolSummaryOut):
    covered: dict | None = Field(description="the covered part of the grid (GeoJSON, WGS-84)")
    track: dict | None = Field(
        description="the used points: a LineString, a MultiLineString where jumps split it"
    )


class ListQuery(Schema):
    grid: str = ""
    worker: str = Field("", description="a username")
    date_from: str | None = Field(None, alias="from", description="YYYY-MM-DD, by start")
    date_to: str | None = Field(None, alias="to", description="YYYY-MM-DD, inclusive")
    state: str = ""
    limit: int = 100
    offset: int = 0


class CheckInIn(Schema):
    place: int
    lon: float
    lat: float
    accuracy: float | None = Field(None, description="metres; worse than the plan's limit is refused")
    at: datetime | None = None
    client_key: str
    patrol: int | None = Field(None, description="default: your active patrol, if any")


class PlaceRef(Schema):
    id: int
    name: str
    kind: str


class CheckInOut(Schema):
    id: int
    accepted: bool
    distance_m: int
    place: PlaceRef
    at: datetime
    patrol: int | None


class CoverageOut(Schema):
    grid: str
    week: str = Field(description="the ISO week's Monday")
    coverage: float
    patrols: int
    seconds: int
    covered: dict | None


class MineOut(Schema):
    grids: list[dict]
    places: list[dict]
    active_patrol: dict | None
    plan: dict


@router.get("/mine", response=MineOut, auth=READ, summary="My grids, key places, active patrol and plan")
def mine(request):
    user = request.user
    grids = selectors.worker_grids(user.pk)
    shapes = {g.pk: services.grid_shape(g) for g in grids}
    active = selectors.active_patrol(user.pk)
    plan_grid = active.grid_id if active else (grids[0].pk if grids else None)
    return {
        "grids": [
            {"code": g.code, "name": g.name, "geometry": presenters.geojson(shapes[g.pk])} for g in grids
        ],
        "places": [presenters.place_out(p) for p in selectors.worker_places([g.pk for g in grids])],
        "active_patrol": (
            {
                "id": active.pk,
                "grid": active.grid.code,
                "started_at": presenters.local(active.started_at),
                "points": active.points,
            }
            if active
            else None
        ),
        "plan": presenters.plan_out(services.plan_for(plan_grid)),
    }


@router.post("/patrols", response={201: StartOut, 200: StartOut}, auth=WRITE, summary="Start a patrol")
def patrol_start(request, payload: StartIn):
    patrol, created = services.patrol_start(
        user=request.user,
        grid_code=payload.grid,
        client_key=payload.client_key,
        started_at=payload.started_at,
    )
    body = {
        "id": patrol.pk,
        "grid": patrol.grid.code,
        "started_at": presenters.local(patrol.started_at),
        "state": patrol.state,
    }
    return Status(201 if created else 200, body)


@router.get(
    "/patrols", response=list[PatrolSummaryOut], auth=READ, summary="Patrols in your scope, newest first"
)
def patrol_list(request, query: Query[ListQuery]):
    if not 1 <= query.limit <= LIST_MAX or query.offset < 0:
        raise DomainError("bad_page", _("limit must be 1–%(n)d and offset ≥ 0.") % {"n": LIST_MAX})
    found = selectors.patrol_list(
        scope=request_scope(request),
        filters=selectors.PatrolFilter(
            grid=query.grid,
            worker=query.worker,
            date_from=query.date_from,
            date_to=query.date_to,
            state=query.state,
        ),
    )
    return [presenters.patrol_summary(p) for p in found[query.offset : query.offset + query.limit]]


@router.post(
    "/patrols/{patrol_id}/points", response=PointsOut, auth=WRITE, summary="Add a batch of track points"
)
def track_ingest(request, patrol_id: int, payload: PointsIn):
    found = services.track_ingest(
        user=request.user,
        patrol_id=patrol_id,
        points=[
            services.PointIn(seq=p.seq, at=p.t, lon=p.lon, lat=p.lat, accuracy=p.accuracy)
            for p in payload.points
        ],
    )
    return {"accepted": found.accepted, "duplicates": found.duplicates, "flagged": found.flagged}


@router.post(
    "/patrols/{patrol_id}/stop", response=PatrolOut, auth=WRITE, summary="Stop a patrol (idempotent)"
)
def patrol_stop(request, patrol_id: int, payload: StopIn | None = None):
    services.patrol_stop(
        user=request.user, patrol_id=patrol_id, ended_at=payload.ended_at if payload else None
    )
    return presenters.patrol_body(selectors.patrol_get(scope=request_scope(request), patrol_id=patrol_id))


@router.get("/patrols/{patrol_id}", response=PatrolOut, auth=READ, summary="One patrol with its track")
def patrol_detail(request, patrol_id: int):
    return presenters.patrol_body(selectors.patrol_get(scope=request_scope(request), patrol_id=patrol_id))


@router.post(
    "/checkins", response={201: CheckInOut, 200: CheckInOut}, auth=WRITE, summary="Check in at a key place"
)
def checkin(request, payload: CheckInIn):
    found, created = services.checkin_create(
        user=request.user,
        place_id=payload.place,
        lon=payload.lon,
        lat=payload.lat,
        accuracy=payload.accuracy,
        client_key=payload.client_key,
        at=payload.at,
        patrol_id=payload.patrol,
    )
    if not found.accepted:
        raise services.checkin_refusal(found)
    return Status(201 if created else 200, presenters.checkin_out(found))


@router.get("/coverage", response=CoverageOut, auth=READ, summary="A grid's coverage in an ISO week")
def coverage(request, grid: str = "", week: str = ""):
    scope = request_scope(request)
    if not grid:
        mine = selectors.worker_grids(request.user.pk)
        if not mine:
            raise DomainError("grid_required", _("Name a grid."))
        grid = mine[0].code
    found = selectors.coverage_grid_week(scope=scope, grid_code=grid, week=week or None)
    return {
        "grid": found.grid.code,
        "week": found.week.isoformat(),
        "coverage": found.coverage,
        "patrols": found.patrols,
        "seconds": found.seconds,
        "covered": presenters.geojson(found.covered),
    }

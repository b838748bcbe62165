"""Writes of patrols: start, track points, stop (with the summary and the week's coverage) and
check-ins at key places. One transaction per call; each call that a person makes is on the audit
trail; every refusal is a ``DomainError`` with a stable code.

A phone sends what it recorded offline later, and may send it twice: a start and a check-in are
idempotent by the phone's ``client_key``, a track point by its ``seq`` within the patrol.
"""

from __future__ import annotations

import bisect
import json
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

import shapely
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from civicgrid import bulk
from civicgrid.accounts.models import GridStaffing
from civicgrid.audit.models import AuditResult
from civicgrid.audit.services import audit_record
from civicgrid.errors import DomainError, NotFound
from civicgrid.geo import tracks
from civicgrid.geo.cells import distance_m
from civicgrid.patrol import defaults
from civicgrid.patrol.models import (
    CheckIn,
    CoverageWeek,
    KeyPlace,
    Patrol,
    PatrolPlan,
    PatrolState,
    PointFlag,
    TrackPoint,
)
from civicgrid.regions import locator
from civicgrid.regions.models import Boundary, Level, Region

BATCH_MAX = 1000
KEY_MAX = 64
# A phone's clock may run a little ahead of the server's; anything further is refused.
CLOCK_SKEW = timedelta(minutes=5)


def plan_for(grid_id: int | None) -> PatrolPlan:
    """The grid's own plan, else the district's default, else the shipped default (unsaved: a
    database whose default row was deleted still judges patrols by documented figures)."""
    plans = {
        p.grid_id: p for p in PatrolPlan.objects.filter(Q(grid_id=grid_id) | Q(grid__isnull=True)).order_by()
    }
    return plans.get(grid_id) or plans.get(None) or PatrolPlan(grid=None, **defaults.PLAN)


def posted_grid_ids(user_id: int, on: date | None = None) -> list[int]:
    """The grids a person holds a post in on the day (any post, as in ``accounts.scopes``)."""
    on = on or timezone.localdate()
    return list(
        GridStaffing.objects.filter(Q(end__isnull=True) | Q(end__gte=on), user_id=user_id, start__lte=on)
        .order_by("grid_id")
        .values_list("grid_id", flat=True)
        .distinct()
    )


def grid_shape(grid: Region) -> BaseGeometry | None:
    """The grid's polygon (WGS-84) in the active generation: from the locator's per-process index
    when the grid is there, else its stored boundary."""
    try:
        loaded = locator.loaded_index()
    except DomainError:
        return None
    codes = loaded.index.codes
    i = bisect.bisect_left(codes, grid.code)
    if i < len(codes) and codes[i] == grid.code:
        return loaded.index.geometries[i]
    row = Boundary.objects.filter(region=grid, generation_id=loaded.generation_id).values("geometry").first()
    return shape(json.loads(row["geometry"])) if row else None


def _aware(value: datetime | None, default: datetime) -> datetime:
    if value is None:
        return default
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    if value > timezone.now() + CLOCK_SKEW:
        raise DomainError("time_in_future", _("The time lies in the future."), {"time": value.isoformat()})
    return value


def _key(client_key: str) -> str:
    client_key = (client_key or "").strip()
    if not client_key or len(client_key) > KEY_MAX:
        raise DomainError(
            "bad_client_key",
            _("A client key of 1–%(n)d characters is required.") % {"n": KEY_MAX},
            {"max": KEY_MAX},
        )
    return client_key


def _own_patrol(user, patrol_id: int, *, lock: bool) -> Patrol:
    """The worker's own patrol; anybody else's answers like a missing one (only its worker writes)."""
    query = Patrol.objects.filter(pk=patrol_id, worker_id=user.pk)
    if lock:
        # Serialises the batches and the stop of one patrol: the flags of a batch continue from
        # the points stored before it, and the stop must see every point.
        query = query.select_for_update()
    patrol = query.select_related("grid").first()
    if patrol is None:
        raise NotFound("patrol_not_found", _("There is no patrol %(id)s of yours.") % {"id": patrol_id})
    return patrol


# --- start ------------------------------------------------------------------------------------
def patrol_start(
    *, user, grid_code: str, client_key: str, started_at: datetime | None = None
) -> tuple[Patrol, bool]:
    """Start a patrol in a grid the worker is posted to; (patrol, created). The same client key
    again gives the same patrol; a second patrol while one is active is refused."""
    client_key = _key(client_key)
    existing = Patrol.objects.filter(worker_id=user.pk, client_key=client_key).select_related("grid").first()
    if existing is not None:
        return existing, False
    grid = Region.objects.filter(code=(grid_code or "").strip(), level=Level.GRID).first()
    if grid is None:
        raise NotFound("grid_not_found", _("There is no grid %(code)s.") % {"code": grid_code})
    if grid.pk not in posted_grid_ids(user.pk):
        raise DomainError(
            "not_posted", _("You are not posted to grid %(code)s.") % {"code": grid.code}, status=403
        )
    started_at = _aware(started_at, timezone.now())
    try:
        with transaction.atomic():
            active = Patrol.objects.filter(worker_id=user.pk, state=PatrolState.ACTIVE).first()
            if active is not None:
                raise _active_error(active)
            patrol = Patrol.objects.create(
                worker=user, grid=grid, started_at=started_at, client_key=client_key
            )
            audit_record(
                action="patrol.start",
                actor=user,
                object_type="patrol.patrol",
                object_id=patrol.pk,
                detail={"grid": grid.code, "started_at": started_at},
            )
    except IntegrityError:
        # Lost a race: the same key (a retry) or another start won. Answer as that one.
        existing = (
            Patrol.objects.filter(worker_id=user.pk, client_key=client_key).select_related("grid").first()
        )
        if existing is not None:
            return existing, False
        active = Patrol.objects.filter(worker_id=user.pk, state=PatrolState.ACTIVE).first()
        if active is None:
            raise
        raise _active_error(active) from None
    return patrol, True


def _active_error(active: Patrol) -> DomainError:
    return DomainError(
        "patrol_active",
        _("You are already on patrol; stop it before starting another."),
        {"id": active.pk},
        status=409,
    )


# --- track points -----------------------------------------------------------------------------
@dataclass(frozen=True)
class PointIn:
    seq: int
    at: datetime
    lon: float
    lat: float
    accuracy: float | None = None


@dataclass
class IngestResult:
    accepted: int
    duplicates: int
    flagged: list[dict] = field(default_factory=list)


def _check_point(p: PointIn) -> None:
    if not (-180 <= p.lon <= 180 and -90 <= p.lat <= 90) or p.seq < 0:
        raise DomainError("bad_point", _("A point is not a valid position."), {"seq": p.seq})
    if p.accuracy is not None and p.accuracy < 0:
        raise DomainError("bad_point", _("A point's accuracy cannot be negative."), {"seq": p.seq})


def _flag_state(patrol: Patrol, before_seq: int) -> tracks.FlagState:
    """Where flagging stood before ``before_seq``: the last used point, and the last accurate
    point when it was a jump (two short index range reads on (patrol, seq))."""
    stored = TrackPoint.objects.filter(patrol=patrol, seq__lt=before_seq).order_by("-seq")
    fields = ("at", "lon", "lat", "flag")
    last = stored.exclude(flag=PointFlag.INACCURATE).values_list(*fields).first()
    if last is None:
        return tracks.FlagState()
    fix = tracks.Fix(last[0].timestamp(), last[1], last[2])
    if last[3] == PointFlag.OK:
        return tracks.FlagState(last_used=fix)
    used = stored.filter(flag=PointFlag.OK).values_list(*fields).first()
    used_fix = tracks.Fix(used[0].timestamp(), used[1], used[2]) if used else None
    return tracks.FlagState(last_used=used_fix, last_jump=fix)


def track_ingest(*, user, patrol_id: int, points: list[PointIn]) -> IngestResult:
    """Store a batch of the patrol's points (≤ ``BATCH_MAX``), flagging each against the points
    before it. A point whose seq is already stored is a duplicate, not an error."""
    if len(points) > BATCH_MAX:
        raise DomainError(
            "batch_too_large",
            _("Send at most %(n)d points at a time.") % {"n": BATCH_MAX},
            {"max": BATCH_MAX, "sent": len(points)},
            status=413,
        )
    for p in points:
        _check_point(p)
    with transaction.atomic():
        patrol = _own_patrol(user, patrol_id, lock=True)
        if patrol.state != PatrolState.ACTIVE:
            raise DomainError("patrol_ended", _("This patrol has ended."), {"id": patrol.pk}, status=409)
        # First of each seq in the batch, in track order.
        by_seq: dict[int, PointIn] = {}
        for p in points:
            by_seq.setdefault(p.seq, p)
        stored = set(
            TrackPoint.objects.filter(patrol=patrol, seq__in=list(by_seq)).values_list("seq", flat=True)
        )
        new = sorted((p for s, p in by_seq.items() if s not in stored), key=lambda p: p.seq)
        duplicates = len(points) - len(new)
        if not new:
            return IngestResult(accepted=0, duplicates=duplicates)
        plan = plan_for(patrol.grid_id)
        # A point's time is the phone's; a clock far off only makes its points look like jumps.
        times = [timezone.make_aware(p.at) if timezone.is_naive(p.at) else p.at for p in new]
        judged = tracks.flag_points(
            [t.timestamp() for t in times],
            [p.lon for p in new],
            [p.lat for p in new],
            [p.accuracy for p in new],
            max_speed_kmh=plan.max_speed_kmh,
            max_accuracy_m=plan.max_accuracy_m,
            state=_flag_state(patrol, new[0].seq),
        )
        flags = judged.flags.tolist()
        # The lean bulk insert (executemany; COPY on PostgreSQL): Django's bulk_create spent more
        # time assembling SQL than the database spent storing the rows. No conflict can occur:
        # the seqs stored were read under the patrol's lock above.
        rows = [
            TrackPoint(
                patrol_id=patrol.pk, seq=p.seq, at=t, lon=p.lon, lat=p.lat, accuracy_m=p.accuracy, flag=f
            )
            for p, t, f in zip(new, times, flags, strict=True)
        ]
        _POINTS.insert(_POINTS.rows(rows))
        flagged = [
            {"seq": p.seq, "flag": _FLAG_NAMES[f], "reason": _reason(f, m, plan)}
            for p, f, m in zip(new, flags, judged.measure.tolist(), strict=True)
            if f != PointFlag.OK
        ]
        Patrol.objects.filter(pk=patrol.pk).update(
            points=F("points") + len(new), flagged=F("flagged") + len(flagged)
        )
        audit_record(
            action="patrol.track",
            actor=user,
            object_type="patrol.patrol",
            object_id=patrol.pk,
            detail={
                "accepted": len(new),
                "duplicates": duplicates,
                "flagged": len(flagged),
                "seq": [new[0].seq, new[-1].seq],
            },
        )
    return IngestResult(accepted=len(new), duplicates=duplicates, flagged=flagged)


_POINTS = bulk.Table(TrackPoint, with_pk=False)
_FLAG_NAMES = {PointFlag.INACCURATE: "inaccurate", PointFlag.JUMP: "jump"}


def _reason(flag: int, measure: float, plan: PatrolPlan) -> str:
    if flag == PointFlag.INACCURATE:
        return _("accuracy %(a).0f m is worse than %(m)d m") % {"a": measure, "m": plan.max_accuracy_m}
    return _("%(s).0f km/h from the previous point is faster than %(m)d km/h") % {
        "s": measure,
        "m": plan.max_speed_kmh,
    }


# --- stop and the summary ---------------------------------------------------------------------
@dataclass
class Track:
    """A patrol's stored points in track order, as arrays for geo.tracks."""

    at: list[datetime]
    lon: list[float]
    lat: list[float]
    flags: list[int]


def patrol_track(patrol: Patrol) -> Track:
    rows = list(
        TrackPoint.objects.filter(patrol=patrol).order_by("seq").values_list("at", "lon", "lat", "flag")
    )
    if not rows:
        return Track([], [], [], [])
    at, lon, lat, flags = (list(column) for column in zip(*rows, strict=True))
    return Track(at, lon, lat, flags)


def patrol_stop(*, user, patrol_id: int, ended_at: datetime | None = None) -> Patrol:
    """End the patrol and fill its summary (points, flags, distance, duration, coverage and the
    covered area); then bring the worker's coverage of that grid and week up to date. Stopping an
    ended patrol changes nothing."""
    with transaction.atomic():
        patrol = _own_patrol(user, patrol_id, lock=True)
        if patrol.state == PatrolState.ENDED:
            return patrol
        ended_at = _aware(ended_at, timezone.now())
        if ended_at < patrol.started_at:
            raise DomainError(
                "ends_before_start",
                _("A patrol cannot end before it started."),
                {"started_at": patrol.started_at.isoformat()},
            )
        _end(patrol, ended_at, actor=user, action="patrol.stop")
    return patrol


def _end(patrol: Patrol, ended_at: datetime, *, actor, action: str) -> None:
    """Fill a locked, active patrol's summary, end it, update its week, and audit it."""
    track = patrol_track(patrol)
    plan = plan_for(patrol.grid_id)
    grid = grid_shape(patrol.grid)
    patrol.state = PatrolState.ENDED
    patrol.ended_at = ended_at
    patrol.points = len(track.flags)
    patrol.flagged = sum(1 for f in track.flags if f != PointFlag.OK)
    patrol.duration_s = int((ended_at - patrol.started_at).total_seconds())
    patrol.distance_m = round(tracks.track_length_m(track.lon, track.lat, track.flags), 1)
    if grid is not None:
        found = tracks.coverage(grid, track.lon, track.lat, track.flags, distance_m=plan.coverage_distance_m)
        patrol.coverage = round(found.share, 4)
        patrol.covered = None if found.covered.is_empty else shapely.to_wkb(found.covered)
    patrol.save()
    coverage_week_update(
        worker_id=patrol.worker_id, grid=patrol.grid, week=week_of(patrol.started_at), shape=grid
    )
    audit_record(
        action=action,
        actor=actor,
        object_type="patrol.patrol",
        object_id=patrol.pk,
        detail={
            "points": patrol.points,
            "flagged": patrol.flagged,
            "duration_s": patrol.duration_s,
            "distance_m": patrol.distance_m,
            "coverage": patrol.coverage,
        },
    )


def patrol_sweep(now: datetime | None = None) -> int:
    """End the patrols their workers forgot to stop: active, and nothing heard from the phone
    (no point, or no start) for ``PATROL_IDLE_MINUTES``. Each ends at its last point (or its
    start), so the forgotten hours count neither as patrol time nor as coverage; the worker can
    start the next one. Returns how many were ended."""
    now = now or timezone.now()
    cutoff = now - timedelta(minutes=settings.PATROL_IDLE_MINUTES)
    last_point = TrackPoint.objects.filter(patrol=OuterRef("pk")).order_by("-at").values("at")[:1]
    idle = (
        Patrol.objects.filter(state=PatrolState.ACTIVE)
        .annotate(last_heard=Coalesce(Subquery(last_point), "started_at"))
        .filter(last_heard__lt=cutoff)
        .values_list("pk", "last_heard")
    )
    ended = 0
    for patrol_id, last_heard in list(idle):
        with transaction.atomic():
            patrol = Patrol.objects.select_for_update().select_related("grid").get(pk=patrol_id)
            if patrol.state != PatrolState.ACTIVE:  # its worker stopped it meanwhile
                continue
            _end(patrol, max(last_heard, patrol.started_at), actor=None, action="patrol.auto_stop")
            ended += 1
    return ended


def week_of(moment: datetime) -> date:
    """The Monday of the ISO week holding ``moment`` (local time)."""
    day = timezone.localtime(moment).date()
    return day - timedelta(days=day.weekday())


def week_bounds(week: date) -> tuple[datetime, datetime]:
    tz = timezone.get_current_timezone()
    start = datetime.combine(week, time.min, tz)
    return start, start + timedelta(days=7)


def coverage_week_update(
    *, worker_id: int, grid: Region, week: date, shape: BaseGeometry | None
) -> CoverageWeek:
    """The worker's coverage of the grid in the ISO week: the union of the areas their ended
    patrols of that week covered, as a share of the grid."""
    start, end = week_bounds(week)
    rows = list(
        Patrol.objects.filter(
            worker_id=worker_id, grid=grid, state=PatrolState.ENDED, started_at__gte=start, started_at__lt=end
        ).values_list("covered", "duration_s")
    )
    share = 0.0
    if shape is not None:
        share, _union = tracks.union_share(shape, [shapely.from_wkb(bytes(c)) for c, _d in rows if c])
    row, _created = CoverageWeek.objects.update_or_create(
        worker_id=worker_id,
        grid=grid,
        week=week,
        defaults={"coverage": round(share, 4), "patrols": len(rows), "seconds": sum(d for _c, d in rows)},
    )
    return row


# --- check-ins --------------------------------------------------------------------------------
REFUSALS = ("outside_grid", "poor_accuracy", "outside_geofence")


def checkin_create(
    *,
    user,
    place_id: int,
    lon: float,
    lat: float,
    accuracy: float | None,
    client_key: str,
    at: datetime | None = None,
    patrol_id: int | None = None,
) -> tuple[CheckIn, bool]:
    """Check in at a key place; (check-in, created). Accepted inside the place's radius, in a grid
    the worker is posted to, with a usable fix; a refused one is stored too, with its reason, and
    the same client key answers with the first check-in again."""
    client_key = _key(client_key)
    first = CheckIn.objects.filter(worker_id=user.pk, client_key=client_key).select_related("place").first()
    if first is not None:
        return first, False
    if not (-180 <= lon <= 180 and -90 <= lat <= 90) or (accuracy is not None and accuracy < 0):
        raise DomainError("bad_point", _("The position is not valid."))
    place = KeyPlace.objects.filter(pk=place_id, active=True).select_related("grid").first()
    if place is None:
        raise NotFound("place_not_found", _("There is no key place %(id)s.") % {"id": place_id})
    at = _aware(at, timezone.now())
    patrol = None
    if patrol_id is not None:
        patrol = _own_patrol(user, patrol_id, lock=False)
    else:
        patrol = Patrol.objects.filter(worker_id=user.pk, state=PatrolState.ACTIVE).first()
    plan = plan_for(place.grid_id)
    distance = distance_m(lon, lat, place.lon, place.lat)
    if place.grid_id not in posted_grid_ids(user.pk):
        reason = "outside_grid"
    elif accuracy is not None and accuracy > plan.max_accuracy_m:
        reason = "poor_accuracy"
    elif distance > place.radius_m:
        reason = "outside_geofence"
    else:
        reason = ""
    checkin = CheckIn(
        worker=user,
        place=place,
        patrol=patrol,
        at=at,
        lon=lon,
        lat=lat,
        accuracy_m=accuracy,
        distance_m=round(distance, 1),
        accepted=not reason,
        reason=reason,
        client_key=client_key,
    )
    try:
        with transaction.atomic():
            checkin.save()
            audit_record(
                action="patrol.checkin",
                result=AuditResult.DENIED if reason else AuditResult.SUCCESS,
                actor=user,
                object_type="patrol.checkin",
                object_id=checkin.pk,
                detail={
                    "place": place.pk,
                    "grid": place.grid.code,
                    "distance_m": checkin.distance_m,
                    "accuracy_m": accuracy,
                    "reason": reason,
                },
            )
    except IntegrityError:  # the same key sent twice at once: the first one stands
        first = (
            CheckIn.objects.filter(worker_id=user.pk, client_key=client_key).select_related("place").first()
        )
        if first is None:
            raise
        return first, False
    return checkin, True


def checkin_refusal(checkin: CheckIn) -> DomainError:
    """The error a refused check-in answers with (the first time and on every replay)."""
    place = {"id": checkin.place_id, "name": checkin.place.name}
    if checkin.reason == "outside_grid":
        return DomainError(
            "outside_grid", _("This place is not in a grid you are posted to."), {"place": place}, status=422
        )
    if checkin.reason == "poor_accuracy":
        plan = plan_for(checkin.place.grid_id)
        return DomainError(
            "poor_accuracy",
            _("Your position is too vague (%(a).0f m); wait for a better fix.")
            % {"a": checkin.accuracy_m or 0},
            {"accuracy_m": checkin.accuracy_m, "max_accuracy_m": plan.max_accuracy_m, "place": place},
            status=422,
        )
    distance = round(checkin.distance_m)
    return DomainError(
        "outside_geofence",
        _("You are %(d)d m from %(place)s; check in within %(r)d m.")
        % {"d": distance, "place": checkin.place.name, "r": checkin.place.radius_m},
        {"distance_m": distance, "radius_m": checkin.place.radius_m, "place": place},
        status=422,
    )

"""Reads of patrols, always through the reader's scope.

Who sees a patrol: its worker; the grid chief, community staff, street operators and the command
centre those in the regions they hold that role over (a grid chief's post counts for its grid).
A grid worker does not see a colleague's patrols, even in the same grid. The supervising regions
are read from the person's role rows and chief posts rather than from the scope, because the
scope is the union of all their roles: a grid worker who is community staff elsewhere must not
read the patrols of their own grid's other workers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time

import shapely
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from civicgrid.accounts.models import GridPost, GridStaffing, Role, RoleAssignment, User
from civicgrid.accounts.scopes import Scope, region_subtrees
from civicgrid.errors import DomainError, NotFound, OutOfScope
from civicgrid.geo import tracks
from civicgrid.params import parse_day
from civicgrid.patrol.models import CoverageWeek, KeyPlace, Patrol, PatrolState
from civicgrid.patrol.services import grid_shape, posted_grid_ids, week_bounds
from civicgrid.regions.models import Level, Region

SUPERVISORS = (Role.OPERATOR, Role.SHIFT_LEAD, Role.STREET_OPERATOR, Role.COMMUNITY_STAFF, Role.GRID_CHIEF)


@dataclass(frozen=True)
class Supervision:
    """The regions whose patrols a person reads as a supervisor (``everything``: all of them)."""

    region_ids: frozenset[int]
    everything: bool

    def q(self, user_id: int) -> Q:
        """Rows of the user's own (``worker``) or in the supervised regions (``grid``)."""
        if self.everything:
            return Q()  # (Q() | Q(x) would be Q(x): an empty Q adds nothing to an OR)
        return Q(worker_id=user_id) | Q(grid_id__in=self.region_ids)

    def covers(self, region_id: int) -> bool:
        return self.everything or region_id in self.region_ids


NOBODY = Supervision(frozenset(), False)


def supervision(scope: Scope) -> Supervision:
    if scope.user_id is None or not scope.has_role(*SUPERVISORS, Role.GRID_WORKER):
        return NOBODY
    today = timezone.localdate()
    roots = set(
        RoleAssignment.objects.filter(
            Q(valid_until__isnull=True) | Q(valid_until__gte=today),
            user_id=scope.user_id,
            role__in=SUPERVISORS,
            valid_from__lte=today,
            region__isnull=False,
        ).values_list("region_id", flat=True)
    )
    roots |= set(
        GridStaffing.objects.filter(
            Q(end__isnull=True) | Q(end__gte=today),
            user_id=scope.user_id,
            post=GridPost.CHIEF,
            start__lte=today,
        ).values_list("grid_id", flat=True)
    )
    if not roots:
        return NOBODY
    region_ids, everything = region_subtrees(roots)
    return Supervision(region_ids, everything)


def may_read(scope: Scope) -> bool:
    """Whether patrols are part of the person's work at all (their own, or others' to supervise)."""
    return scope.user_id is not None and scope.has_role(*SUPERVISORS, Role.GRID_WORKER)


def patrol_queryset(scope: Scope, sup: Supervision | None = None) -> QuerySet[Patrol]:
    if scope.user_id is None:
        return Patrol.objects.none()
    sup = supervision(scope) if sup is None else sup
    return Patrol.objects.filter(sup.q(scope.user_id))


def patrol_get(*, scope: Scope, patrol_id: int) -> Patrol:
    """One patrol the reader may see; outside the scope it is 404 like a missing one (audited)."""
    patrol = patrol_queryset(scope).select_related("grid", "worker").filter(pk=patrol_id).first()
    if patrol is None:
        missing = NotFound("patrol_not_found", _("There is no patrol %(id)s.") % {"id": patrol_id})
        if Patrol.objects.filter(pk=patrol_id).exists():
            raise OutOfScope(
                missing.code, missing.message, object_type="patrol.patrol", object_id=str(patrol_id)
            )
        raise missing
    return patrol


def _grid(code: str) -> Region:
    grid = Region.objects.filter(code=code.strip(), level=Level.GRID).first()
    if grid is None:
        raise DomainError("unknown_grid", _("There is no grid %(c)s.") % {"c": code})
    return grid


@dataclass
class PatrolFilter:
    grid: str = ""  # a grid code
    worker: str = ""  # a username
    date_from: date | str | None = None
    date_to: date | str | None = None
    state: str = ""

    @classmethod
    def from_params(cls, params) -> PatrolFilter:
        return cls(
            grid=(params.get("grid") or "").strip(),
            worker=(params.get("worker") or "").strip(),
            date_from=params.get("from") or params.get("date_from") or None,
            date_to=params.get("to") or params.get("date_to") or None,
            state=(params.get("state") or "").strip(),
        )


def patrol_list(*, scope: Scope, filters: PatrolFilter | None = None) -> QuerySet[Patrol]:
    """The reader's patrols, newest first; an unknown grid or worker is an error, not an empty list."""
    f = filters or PatrolFilter()
    query = patrol_queryset(scope)
    if f.grid:
        query = query.filter(grid=_grid(f.grid))
    if f.worker:
        worker = User.objects.filter(username=f.worker).values_list("pk", flat=True).first()
        if worker is None:
            raise DomainError("unknown_worker", _("There is no user %(u)s.") % {"u": f.worker})
        query = query.filter(worker_id=worker)
    if f.state:
        if f.state not in PatrolState.values:
            raise DomainError("unknown_state", _("Unknown state: %(s)s") % {"s": f.state})
        query = query.filter(state=f.state)
    tz = timezone.get_current_timezone()
    start, end = parse_day(f.date_from), parse_day(f.date_to)
    if start and end and end < start:
        raise DomainError("bad_period", _("The period ends before it starts."))
    if start:
        query = query.filter(started_at__gte=datetime.combine(start, time.min, tz))
    if end:
        query = query.filter(started_at__lte=datetime.combine(end, time.max, tz))
    return query.select_related("grid", "worker").defer("covered").order_by("-started_at", "-id")


def week_start(value) -> date:
    """The Monday of the week holding ``value`` (a date or YYYY-MM-DD; empty: this week)."""
    day = parse_day(value) or timezone.localdate()
    return day.fromordinal(day.toordinal() - day.weekday())


@dataclass
class GridWeek:
    grid: Region
    week: date
    coverage: float
    patrols: int
    seconds: int
    covered: object  # a Shapely geometry (WGS-84), possibly empty


def coverage_grid_week(*, scope: Scope, grid_code: str, week) -> GridWeek:
    """The reader's view of a grid's coverage in an ISO week: the union of what the patrols they
    may see covered there (for a worker, their own; for a chief, every worker's)."""
    grid = _grid(grid_code)
    monday = week_start(week)
    start, end = week_bounds(monday)
    sup = supervision(scope)
    own = (
        grid.pk in posted_grid_ids(scope.user_id)
        or Patrol.objects.filter(worker_id=scope.user_id, grid=grid).exists()
    )
    if not (own or sup.covers(grid.pk)):
        raise OutOfScope(
            "grid_not_found",
            _("There is no grid %(c)s.") % {"c": grid_code},
            object_type="regions.region",
            object_id=grid.code,
        )
    patrols = patrol_queryset(scope, sup).filter(
        grid=grid, state=PatrolState.ENDED, started_at__gte=start, started_at__lt=end
    )
    rows = list(patrols.values_list("covered", "duration_s"))
    shape = grid_shape(grid)
    share, union = 0.0, shapely.Polygon()
    if shape is not None:
        share, union = tracks.union_share(shape, [shapely.from_wkb(bytes(c)) for c, _d in rows if c])
    return GridWeek(grid, monday, round(share, 4), len(rows), sum(d for _c, d in rows), union)


def coverage_weeks(*, scope: Scope, week, grid: str = "") -> QuerySet[CoverageWeek]:
    """The week's coverage rows (per worker and grid) the reader may see."""
    monday = week_start(week)
    sup = supervision(scope)
    query = CoverageWeek.objects.filter(sup.q(scope.user_id), week=monday)
    if grid:
        query = query.filter(grid=_grid(grid))
    return query.select_related("grid", "worker").order_by("grid__code", "worker__username")


def worker_grids(user_id: int) -> list[Region]:
    """The grids the person is posted to today, by code."""
    return list(Region.objects.filter(pk__in=posted_grid_ids(user_id)).order_by("code"))


def worker_places(grid_ids: list[int]) -> list[KeyPlace]:
    return list(
        KeyPlace.objects.filter(grid_id__in=grid_ids, active=True)
        .select_related("grid")
        .order_by("grid__code", "name")
    )


def active_patrol(user_id: int) -> Patrol | None:
    return (
        Patrol.objects.filter(worker_id=user_id, state=PatrolState.ACTIVE)
        .select_related("grid")
        .defer("covered")
        .first()
    )

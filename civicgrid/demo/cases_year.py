"""The demo year: about 100,000 simulated cases over the past twelve months, under the real rules.

``cases_plan`` says what happens to each case and when; this module applies each plan with the
same code the services use — ``services.case_build`` for the report, ``services.move_build``
(``workflow.check_move``, ``services._move_data``, ``workflow.apply_move``) for every step, each by
a demo user whose role and scope allow it — and writes the results in bulk: a few thousand cases,
their events and units per transaction, numbered by a per-day counter kept in memory. Only the
database round trips differ from the services, and ``tests/demo/test_cases_year.py`` runs the same
plans through the services and compares every row.

No notifications are written for the past; the SLA sweep notices the open cases that are
overdue now on its first run.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import random
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime

import numpy as np
import shapely
from django.core.management.color import no_style
from django.db import connection, connections, models, transaction
from django.db.models import Max
from django.utils import timezone
from shapely.geometry import shape

from civicgrid import bulk
from civicgrid.accounts.models import (
    Department,
    DepartmentKind,
    GridPost,
    GridStaffing,
    Role,
    RoleAssignment,
    User,
)
from civicgrid.accounts.scopes import scope_for
from civicgrid.cases import limits, numbering, selectors, services
from civicgrid.cases.models import Case, CaseClass, CaseCounter, CaseEvent, CaseUnit, DispatchRule, Urgency
from civicgrid.cases.services import CaseInput
from civicgrid.cases.taxonomy import suggest_classes
from civicgrid.cases.workflow import Actor
from civicgrid.demo import cases_plan
from civicgrid.demo.cases_plan import OPERATOR, REPORTER, SHIFT_LEAD, WORKER, CasePlan, Grid, World
from civicgrid.regions import locator
from civicgrid.regions.models import Boundary, Level, Region

SUBMITTER = "demo-year"  # Case.submitted_by of every demo case: how a second run knows
KEY_PREFIX = "demo-year-"
BATCH = 2000  # cases per transaction
POINTS_PER_GRID = 64
DEFAULT_CASES = 100_000


@dataclass
class YearResult:
    added: int
    seconds: float
    already_loaded: bool = False


class CachedLookups(services.Lookups):
    """``services.Lookups`` answered from what was read once (the load changes none of it)."""

    def __init__(self):
        self.classes = {
            c.code: c
            for c in CaseClass.objects.filter(active=True, parent__isnull=False).select_related("department")
        }
        self.active = {d.code: d for d in Department.objects.filter(active=True)}
        # dispatch_suggest reads the case's class and which of its four areas carry a dispatch rule
        # or a street office; the answer is cached under exactly that.
        self.areas = set(DispatchRule.objects.exclude(region=None).values_list("region_id", flat=True)) | set(
            Department.objects.filter(kind=DepartmentKind.STREET_OFFICE).values_list("region_id", flat=True)
        )
        self._suggested: dict[tuple, tuple[Department | None, str]] = {}

    def case_class(self, code: str) -> CaseClass | None:
        return self.classes.get(code) or super().case_class(code)

    def dispatch_suggest(self, case: Case) -> tuple[Department | None, str]:
        areas = (case.grid_id, case.community_id, case.street_id, case.district_id)
        return self.suggest_for(case.case_class, areas, case)

    def suggest_for(
        self, case_class: CaseClass | None, areas: tuple[int, int, int, int], case: Case | None = None
    ) -> tuple[Department | None, str]:
        """``selectors.dispatch_suggest`` for a class in a place (grid, community, street, district)."""
        key = (case_class.pk if case_class else None, tuple(a if a in self.areas else None for a in areas))
        found = self._suggested.get(key)
        if found is None:
            if case is None:
                names = ("grid_id", "community_id", "street_id", "district_id")
                case = Case(case_class=case_class, **dict(zip(names, areas, strict=True)))
            found = self._suggested[key] = selectors.dispatch_suggest(case)
        return found

    def departments(self, codes: list[str]) -> dict[str, Department]:
        return {c: self.active[c] for c in codes if c in self.active}


def _actor(user: User) -> Actor:
    return Actor(user_id=user.pk, scope=scope_for(user), name=str(user))


class Cast:
    """The demo users who make the steps, as actors with their real scopes (built once)."""

    def __init__(self):
        users = {u.username: u for u in User.objects.filter(username__in=["operator", "shiftlead"])}
        self.operator, self.shift_lead = _actor(users["operator"]), _actor(users["shiftlead"])
        handlers = RoleAssignment.objects.filter(role=Role.DEPARTMENT_HANDLER, department__isnull=False)
        self.handlers: dict[int, Actor] = {}
        for assignment in handlers.select_related("user").order_by("id"):
            if assignment.department_id not in self.handlers:
                self.handlers[assignment.department_id] = _actor(assignment.user)
        posts = GridStaffing.objects.filter(post=GridPost.FULL_TIME, end__isnull=True).order_by("id")
        self._worker_users: dict[int, int] = {}
        for grid_id, user_id in posts.values_list("grid_id", "user_id"):
            self._worker_users.setdefault(grid_id, user_id)
        self._workers: dict[int, Actor] = {}
        residents = (
            RoleAssignment.objects.filter(role=Role.RESIDENT)
            .select_related("user")
            .order_by("user__username")
        )
        self.residents = {a.user.username: _actor(a.user) for a in residents}

    def grid_ids(self) -> list[int]:
        return list(self._worker_users)

    def worker(self, grid_id: int) -> Actor:
        found = self._workers.get(grid_id)
        if found is None:
            found = self._workers[grid_id] = _actor(User.objects.get(pk=self._worker_users[grid_id]))
        return found

    def reporter(self, plan: CasePlan, grid_id: int) -> Actor:
        """Who reports: the grid's worker, the command centre, a signed-in or anonymous resident."""
        if plan.reported_by == WORKER:
            return self.worker(grid_id)
        if plan.reported_by == OPERATOR:
            return self.operator
        return self.residents.get(plan.reported_by) or Actor(user_id=None)

    def by(self, who: str, case: Case, plan: CasePlan) -> Actor:
        """Who makes a step of ``plan`` on ``case`` (as it stands before the step)."""
        if who == WORKER:
            return self.worker(case.grid_id)
        if who == OPERATOR:
            return self.operator
        if who == SHIFT_LEAD:
            return self.shift_lead
        if who == REPORTER:  # a signed-in reporter rates as themselves; others by the tracking link
            return self.residents.get(plan.reported_by) or Actor(user_id=None, tracking_case_id=case.pk)
        return self.handlers[case.department_id]


class Context:
    """What the load reads once: places, regions, classes, actors, and the plan's world."""

    def __init__(self, *, now: datetime, seed: int):
        self.lookups = CachedLookups()
        self.cast = Cast()
        loaded = locator.loaded_index()
        self.generation = {"id": loaded.generation_id, "name": loaded.generation_name}
        self.places = dict(zip(loaded.index.codes, loaded.places, strict=True))
        self.region_ids = dict(Region.objects.values_list("code", "id"))
        self.district_code = loaded.places[0]["district"]["code"][:6]
        self._suggested: dict[str, list[str]] = {}
        ids = self.region_ids
        self.areas = {
            code: tuple(ids[place[k]["code"]] for k in ("grid", "community", "street", "district"))
            for code, place in self.places.items()
        }
        cal = limits.calendar()
        stages = {
            s: {u: limits.stage_limit(s, u) for u in Urgency.values} for s in limits.DEFAULT_STAGE_LIMITS
        }
        classes = self.lookups.classes
        streets = {
            d.region.code: d.code
            for d in Department.objects.filter(kind=DepartmentKind.STREET_OFFICE, active=True)
            .select_related("region")
            .order_by("-code")
        }
        self.world = World(
            now=now,
            calendar=cal,
            stage_limits=stages,
            class_limits={
                c: {u: limits.handle_limit(k, u) for u in Urgency.values} for c, k in classes.items()
            },
            class_names={c: k.name for c, k in classes.items()},
            grids=_grids(loaded, seed),
            suggest=self._suggest,
            locality={p["street"]["code"]: streets.get(p["street"]["code"], "D01") for p in loaded.places},
            residents=sorted(self.cast.residents),
        )

    def _suggest(self, class_code: str, grid_code: str) -> str:
        """The department the dispatch rules choose for a class in a grid (for the plan)."""
        department, _reason = self.lookups.suggest_for(
            self.lookups.classes[class_code], self.areas[grid_code]
        )
        return department.code if department else ""

    def preload(self) -> None:
        """Read now what would otherwise be read on first use (before forking the workers, so
        that they inherit it instead of each reading it again)."""
        for grid_id in self.cast.grid_ids():
            self.cast.worker(grid_id)
        for case_class in self.lookups.classes.values():
            for areas in self.areas.values():
                self.lookups.suggest_for(case_class, areas)

    def suggested(self, title: str, description: str) -> list[str]:
        """What ``case_create`` records as the classifier's suggestions (cached per text)."""
        text = f"{title} {description}"
        found = self._suggested.get(text)
        if found is None:
            found = self._suggested[text] = [s.code for s in suggest_classes(text)]
        return found

    def place(self, plan: CasePlan) -> dict:
        """What ``grid_locate`` answers for the plan's point (the point was located when sampled)."""
        return {
            "generation": self.generation,
            "wgs84": {"lon": plan.lon, "lat": plan.lat},
            **self.places[plan.grid],
        }

    def intake(self, plan: CasePlan) -> CaseInput:
        return CaseInput(
            channel=plan.channel,
            title=plan.title,
            description=plan.description,
            lon=plan.lon,
            lat=plan.lat,
            address=plan.address,
            case_class=plan.case_class if plan.class_at_intake else "",
            urgency=plan.urgency_at_intake,
            reporter_name=plan.reporter_name,
            reporter_phone=plan.reporter_phone,
        )


def _grids(loaded: locator.LoadedIndex, seed: int) -> list[Grid]:
    """Every grid with its report rate (by population) and points inside it, found by the same
    index ``grid_locate`` uses, so a case lands in the grid it was planned for."""
    rows = Boundary.objects.filter(generation_id=loaded.generation_id, region__level=Level.GRID)
    shapes = {code: shape(json.loads(g)) for code, g in rows.values_list("region__code", "geometry")}
    population = dict(Region.objects.filter(level=Level.GRID).values_list("code", "population"))
    mean = sum(p or 0 for p in population.values()) / max(1, len(population))
    rng = np.random.default_rng(seed)
    codes = list(loaded.index.codes)
    position = {c: i for i, c in enumerate(codes)}
    grids = []
    for code in sorted(shapes):
        polygon = shapes[code]
        x0, y0, x1, y1 = polygon.bounds
        points = np.empty((0, 2))
        for _attempt in range(50):
            xy = np.round(rng.uniform((x0, y0), (x1, y1), size=(4 * POINTS_PER_GRID, 2)), 8)
            inside = shapely.contains_xy(polygon, xy[:, 0], xy[:, 1])
            found = loaded.index.locate_many(xy[inside, 0], xy[inside, 1]) == position[code]
            points = np.vstack([points, xy[inside][found]])
            if len(points) >= POINTS_PER_GRID:
                break
        if not len(points):  # a sliver no random point hit: its representative point will do
            inner = polygon.representative_point()
            points = np.round([[inner.x, inner.y]], 8)
        place = loaded.places[position[code]]
        grids.append(
            Grid(
                code=code,
                street=place["street"]["code"],
                community_name=place["community"]["name"].removesuffix("居委会"),
                weight=(population.get(code) or 0) + 0.3 * mean,
                points=tuple((float(x), float(y)) for x, y in points[:POINTS_PER_GRID]),
            )
        )
    return grids


def build_case(ctx: Context, plan: CasePlan, *, pk: int, number: str, code: str):
    """The case of ``plan`` in memory, with its events and units, by the services' own rules."""
    data = ctx.intake(plan)
    reporter = ctx.cast.reporter(plan, ctx.region_ids[plan.grid])
    case, first = services.case_build(
        data=data,
        actor=reporter,
        role=services._check_channel(plan.channel, reporter),
        title=plan.title,
        description=plan.description,
        place=ctx.place(plan),
        region_ids=ctx.region_ids,
        case_class=ctx.lookups.case_class(data.case_class) if data.case_class else None,
        suggested=ctx.suggested(plan.title, plan.description),
        number=number,
        code=code,
        key=f"{KEY_PREFIX}{plan.index:07d}",
        submitted_by=SUBMITTER,
        at=plan.created_at,
    )
    case.pk = pk
    events, units = [first], []
    for step in plan.steps:
        _as_read_back(case)
        actor = ctx.cast.by(step.by, case, plan)
        raw = dict(step.data) if step.data else None
        result = services.move_build(
            case, step.action, actor, at=step.at, note=step.note, raw=raw, lookups=ctx.lookups
        )
        events.append(result.event)
        if result.units:  # a dispatch names the units afresh, as _move_locked does
            units = result.units
    return case, events, [CaseUnit(case=case, department_id=d, lead=lead) for d, lead in units]


_TIMES = [f.attname for f in Case._meta.concrete_fields if isinstance(f, models.DateTimeField)]


def _as_read_back(case: Case) -> None:
    """The case's times as the services see them when they load it for the next move: in UTC (the
    event data's deadlines are written with their offset, so this shows in the rows)."""
    for name in _TIMES:
        value = getattr(case, name)
        if value is not None and value.tzinfo is not UTC:
            setattr(case, name, value.astimezone(UTC))


class TrackingCodes:
    """Deterministic tracking codes with the services' alphabet and length, never repeated."""

    def __init__(self, seed: int, taken: set[str]):
        self.rng = random.Random(f"civicgrid-demo-tracking:{seed}")
        self.taken = taken

    def __call__(self) -> str:
        while True:
            code = "".join(self.rng.choices(numbering.CODE_ALPHABET, k=10))
            if code not in self.taken:
                self.taken.add(code)
                return code


def demo_cases_exist() -> bool:
    return Case.objects.filter(submitted_by=SUBMITTER).exists()


def load_year(
    *,
    cases: int = DEFAULT_CASES,
    seed: int,
    now: datetime | None = None,
    progress: Callable[[str], None] = print,
    batch: int = BATCH,
    workers: int | None = None,
) -> YearResult:
    """Add ``cases`` simulated cases over the year before ``now``; nothing if demo cases exist.

    ``workers``: processes that plan and build the cases while this one writes (default: one per
    core on Linux for loads over ``PARALLEL_FROM`` cases, outside a transaction; 1: all here).
    Either way the rows are the same."""
    started = time.perf_counter()
    if cases <= 0:
        return YearResult(0, 0.0)
    if demo_cases_exist():
        return YearResult(0, 0.0, already_loaded=True)
    now = now or timezone.now()
    ctx = Context(now=now, seed=seed)
    tables = cases_plan.Tables(ctx.world, seed)
    chunks = _chunks(ctx, cases, seed, batch)
    workers = _worker_count(workers, cases)
    progress(f"simulating {cases:,} cases over the past year (seed {seed}, {workers} process(es)) …")
    done, shown = 0, 0
    with bulk.indexes_deferred([Case, CaseEvent, CaseUnit]):
        for rows, days in _built(ctx, tables, seed, chunks, workers):
            _write(rows, days, ctx.district_code)
            done += len(rows[0])
            if done * 20 // cases > shown or done == cases:
                shown = done * 20 // cases
                progress(_progress_line(done, cases, started))
        progress(f"building the indexes … {time.perf_counter() - started:.1f} s")
    if not connection.in_atomic_block:
        bulk.analyze([Case, CaseEvent, CaseUnit])
    _reset_sequences()
    return YearResult(done, time.perf_counter() - started)


def _chunks(ctx: Context, cases: int, seed: int, batch: int) -> Iterator[tuple[list, dict[date, int]]]:
    """(items, {day: last number}) per transaction; an item is (index, reported at, id, number,
    tracking code) — everything about a case that depends on the cases before it. The database is
    read now; the chunks are made as they are taken."""
    next_pk = (Case.objects.aggregate(m=Max("id"))["m"] or 0) + 1
    counters = dict(CaseCounter.objects.filter(district_code=ctx.district_code).values_list("day", "last"))
    codes = TrackingCodes(seed, set(Case.objects.values_list("tracking_code", flat=True)))
    created = cases_plan.created_times(ctx.world, n=cases, seed=seed)

    def chunks():
        nonlocal next_pk
        for start in range(0, len(created), batch):
            items, days = [], {}
            for index, at in enumerate(created[start : start + batch], start=start + 1):
                day = timezone.localdate(at)
                counters[day] = days[day] = counters.get(day, 0) + 1
                number = numbering.number_text(ctx.district_code, day, counters[day])
                items.append((index, at, next_pk, number, codes()))
                next_pk += 1
            yield items, days

    return chunks()


def build_rows(ctx: Context, tables: cases_plan.Tables, seed: int, items) -> tuple[list, list, list]:
    """Plan and build the cases of ``items``; their rows for the case, event and unit tables."""
    cases, events, units = [], [], []
    for index, created, pk, number, code in items:
        plan = cases_plan.plan_case(ctx.world, tables, seed=seed, index=index, created=created)
        case, case_events, case_units = build_case(ctx, plan, pk=pk, number=number, code=code)
        for event in case_events:
            event.case_id = pk
        cases.append(case)
        events.extend(case_events)
        units.extend(case_units)
    return _CASES.rows(cases), _EVENTS.rows(events), _UNITS.rows(units)


# The worker processes' job, inherited when they are forked.
_job: tuple | None = None


def _build_in_worker(chunk: tuple[list, dict]) -> tuple[tuple[list, list, list], dict]:
    ctx, tables, seed = _job
    items, days = chunk
    return build_rows(ctx, tables, seed, items), days


PARALLEL_FROM = 20_000


def _worker_count(workers: int | None, cases: int) -> int:
    if workers is None:
        workers = (os.cpu_count() or 1) if cases >= PARALLEL_FROM else 1
    # Forking needs Linux (fork is unsafe on macOS) and no open transaction: the connection is
    # closed first so that no worker ever shares it.
    if sys.platform != "linux" or connection.in_atomic_block:
        return 1
    return max(1, workers)


def _built(ctx, tables, seed, chunks, workers: int):
    """Each chunk's rows and day counters, in order: built here, or by forked workers while this
    process writes."""
    global _job
    if workers == 1:
        for items, days in chunks:
            yield build_rows(ctx, tables, seed, items), days
        return
    ctx.preload()
    connections.close_all()
    _job = (ctx, tables, seed)
    try:
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            yield from pool.imap(_build_in_worker, chunks)
    finally:
        _job = None


def _progress_line(done: int, total: int, started: float) -> str:
    return f"cases {done:,} / {total:,} ({done * 100 // total}%) … {time.perf_counter() - started:.1f} s"


_CASES = bulk.Table(Case, with_pk=True)
_EVENTS = bulk.Table(CaseEvent, with_pk=False)
_UNITS = bulk.Table(CaseUnit, with_pk=False)


def _write(rows: tuple[list, list, list], counters: dict[date, int], district_code: str) -> None:
    """One transaction: the cases, their events and units, and the day counters they used."""
    outermost = not connection.in_atomic_block  # SET LOCAL would outlive an inner block
    with transaction.atomic():
        if outermost:
            bulk.skip_reference_checks()
        for table, table_rows in zip((_CASES, _EVENTS, _UNITS), rows, strict=True):
            table.insert(table_rows)
        for day, last in counters.items():
            CaseCounter.objects.update_or_create(
                district_code=district_code, day=day, defaults={"last": last}
            )


def _reset_sequences() -> None:
    """Case ids were given here; let the database's own sequence continue after them."""
    statements = connection.ops.sequence_reset_sql(no_style(), [Case])
    if statements:
        with connection.cursor() as cursor:
            for sql in statements:
                cursor.execute(sql)

"""The timing half of bench_insight.py, run in its child process (Django set up, the database
filled): monthly indicators of every unit kind, the big-screen endpoints, the minute refresh and
the full rebuild — each beside a direct aggregate over the case and event tables timed in the
same process, interleaved where a figure is repeated so that both see the same machine."""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from datetime import time as dtime

import numpy as np


def _timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


class _Clock:
    """Wall times, and this process's CPU time beside them: on a machine shared with other work the
    wall time waits for a core, while the CPU time (all of SQLite's work, Django's and ours; not
    PostgreSQL's server) says what the request itself cost."""

    def __init__(self) -> None:
        self.wall: list[float] = []
        self.cpu: list[float] = []

    def time(self, fn: Callable[[], object]) -> None:
        wall, cpu = time.perf_counter(), time.process_time()
        fn()
        self.cpu.append(time.process_time() - cpu)
        self.wall.append(time.perf_counter() - wall)

    def stats(self) -> dict:
        return _pcts(self.wall) | {"cpu": _pcts(self.cpu)}


def _pcts(times: list[float]) -> dict:
    arr = np.asarray(times)
    return {
        "p50": float(np.percentile(arr, 50)),
        "p95": float(np.percentile(arr, 95)),
        "min": float(arr.min()),
        "max": float(arr.max()),
        "n": int(arr.size),
    }


def _month() -> tuple[date, date]:
    """The last complete month (local dates, inclusive)."""
    from django.utils import timezone

    first_this = timezone.localdate().replace(day=1)
    last = first_this - timedelta(days=1)
    return last.replace(day=1), last


def _span(first: date, last: date) -> tuple[datetime, datetime]:
    from django.utils import timezone

    zone = timezone.get_default_timezone()
    return datetime.combine(first, dtime.min, zone), datetime.combine(
        last + timedelta(days=1), dtime.min, zone
    )


def _server() -> str:
    from django.db import connection

    if connection.vendor == "sqlite":
        return "SQLite " + ".".join(map(str, connection.Database.sqlite_version_info))
    return f"PostgreSQL {connection.pg_version // 10000}"


def _readers() -> dict:
    from civicgrid.accounts.models import User
    from civicgrid.accounts.scopes import scope_for

    street = User.objects.filter(username__startswith="street-").order_by("username")[0]
    users = {"district operator": User.objects.get(username="operator"), "street operator": street}
    return {label: (user, scope_for(user)) for label, user in users.items()}


# --- (2) every unit kind's monthly indicators ----------------------------------------------------
def _direct_units(scope, first: date, last: date) -> dict[str, int]:
    """The baseline: the month's cases counted and summed by each unit kind straight from the case
    table (one GROUP BY per kind; the reporting worker's from the report events), with the
    reader's territory as the only filter. Returns each kind's number of groups."""
    from django.db.models import Count, IntegerField, Q, Sum
    from django.db.models.functions import Cast

    from civicgrid.cases.models import Case, CaseEvent

    start, end = _span(first, last)
    cases = Case.objects.filter(created_at__gte=start, created_at__lt=end)
    if not scope.everything:
        cases = cases.filter(Q(grid_id__in=scope.region_ids) | Q(department_id__in=scope.department_ids))
    sums = {
        "n": Count("id"),
        "closed": Sum(Cast(Q(state="closed"), IntegerField())),
        "registered": Count("registered_at"),
        "dispatched": Count("dispatched_at"),
        "reworked": Sum(Cast(Q(rework_count__gt=0), IntegerField())),
        "late": Sum("late_stages"),
    }
    groups = {}
    for unit, column in (
        ("district", "district_id"),
        ("street", "street_id"),
        ("community", "community_id"),
        ("grid", "grid_id"),
        ("department", "department_id"),
    ):
        groups[unit] = len(list(cases.order_by().values(column).annotate(**sums)))
    reports = CaseEvent.objects.filter(action="report", case__in=cases.values("id"), actor__isnull=False)
    groups["worker"] = len(list(reports.order_by().values("actor_id").annotate(n=Count("id"))))
    return groups


def _units(readers: dict, runs: int, log) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from civicgrid.insight import indicators

    first, last = _month()
    out: dict = {"month": f"{first:%Y-%m}", "readers": {}}
    for label, (_user, scope) in readers.items():
        log(f"monthly indicators of every unit kind, {label} …")

        def every_unit(scope=scope) -> dict[str, float]:
            times = {}
            for unit in indicators.UNITS:
                times[unit] = _timed(
                    lambda unit=unit: indicators.unit_table(scope=scope, unit=unit, start=first, end=last)
                )
            return times

        def direct(scope=scope):
            return _direct_units(scope, first, last)

        every_unit()  # warm-up: the settings row, the score sets, the database's pages
        groups = direct()
        totals, base, per_unit = [], _Clock(), {u: [] for u in indicators.UNITS}
        cpu = []
        for _ in range(runs):
            started = time.process_time()
            times = every_unit()
            cpu.append(time.process_time() - started)
            totals.append(sum(times.values()))
            for unit, t in times.items():
                per_unit[unit].append(t)
            base.time(direct)
        with CaptureQueriesContext(connection) as queries:
            every_unit()
        rows = {
            u: len(indicators.unit_table(scope=scope, unit=u, start=first, end=last))
            for u in indicators.UNITS
        }
        out["readers"][label] = {
            "total": _pcts(totals) | {"cpu": _pcts(cpu)},
            "baseline": base.stats(),
            "per_unit": {u: statistics.median(t) for u, t in per_unit.items()},
            "rows": rows,
            "baseline_groups": groups,
            "queries": len(queries),
        }
    return out


def _explain_units(log) -> dict:
    """The plan of the figures query of the grid kind, the district's month (to see what it scans)."""
    from django.db import connection
    from django.db.models import Sum

    from civicgrid.insight.models import MEASURES, CaseDay

    first, last = _month()
    query = (
        CaseDay.objects.filter(day__gte=first, day__lte=last)
        .values("grid_id")
        .annotate(**{m: Sum(m) for m in MEASURES})
        .order_by()
    )
    sql, params = query.query.sql_with_params()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
        else:
            cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
        plan = [" ".join(str(x) for x in row) for row in cursor.fetchall()]
    log("plan of the grid figures: " + " | ".join(plan[:6]))
    return {"grid_figures": plan}


# --- (3) the big-screen endpoints ----------------------------------------------------------------
def _screen_paths() -> list[str]:
    """The GET endpoints screen_api.py serves that need no path parameter."""
    from civicgrid.insight import screen_api

    paths = []
    for path, operations in screen_api.router.path_operations.items():
        if "{" in path:
            continue
        if any("GET" in op.methods for op in operations.operations):
            paths.append("/api/v1/insight/screen" + ("" if path.startswith("/") else "/") + path)
    return sorted(set(paths))


def _screen(readers: dict, runs: int, log) -> dict:
    from django.core.cache import cache
    from django.db.models import Count
    from django.test import Client

    from civicgrid.cases.models import Case

    paths = _screen_paths()
    out: dict = {"paths": paths, "readers": {}}
    if not paths:
        log("screen_api.py serves no GET endpoint yet: skipped")
        return out
    first, last = _month()
    start, end = _span(first, last)

    def baseline():
        return list(
            Case.objects.filter(created_at__gte=start, created_at__lt=end)
            .order_by()
            .values("street_id")
            .annotate(n=Count("id"))
        )

    for label, (user, _scope) in readers.items():
        client = Client()
        client.force_login(user)
        log(f"big-screen endpoints, {label} …")
        found: dict = {}
        for path in paths:
            status = client.get(path).status_code  # warm-up
            baseline()
            cold, warm, base = _Clock(), _Clock(), _Clock()
            for _ in range(runs):  # a block's first request after its cache expired, then a cached one
                cache.clear()
                cold.time(lambda path=path, client=client: client.get(path))
                warm.time(lambda path=path, client=client: client.get(path))
                base.time(baseline)
            size = len(client.get(path).content)
            found[path] = {
                "status": status,
                "bytes": size,
                **cold.stats(),
                "cached": warm.stats(),
                "baseline": base.stats(),
            }
        out["readers"][label] = found
    return out


# --- (1) refresh and rebuild ---------------------------------------------------------------------
def _event_scan() -> None:
    from django.db.models import Count

    from civicgrid.cases.models import CaseEvent

    list(CaseEvent.objects.order_by().values("case_id").annotate(n=Count("id")).values_list("case_id", "n"))


def _notes(moves: int, log) -> int:
    """``moves`` notes by the district operator on as many open cases (case events are
    append-only: they stay, so each run leaves 1,000 more notes in the kept database)."""
    from civicgrid.accounts.models import User
    from civicgrid.accounts.scopes import scope_for
    from civicgrid.cases import services
    from civicgrid.cases.models import OPEN_STATES, Case
    from civicgrid.cases.workflow import Actor
    from civicgrid.errors import DomainError

    user = User.objects.get(username="operator")
    actor = Actor(user_id=user.pk, scope=scope_for(user), name=str(user))
    made = 0
    for case in Case.objects.filter(state__in=OPEN_STATES).order_by("-id")[: moves * 5]:
        try:
            services.case_move(actor=actor, number=case.number, action="note", version=None, note="bench")
        except DomainError:  # a state that takes no note: the next case
            continue
        made += 1
        if made == moves:
            break
    log(f"{made:,} notes made")
    return made


def _rollups(moves: int, log) -> dict:
    from civicgrid.insight import rollups

    log("idle refresh …")
    rollups.refresh()  # folds in whatever happened since the load, so the next one is idle
    idle = [_timed(rollups.refresh) for _ in range(3)]
    made = _notes(moves, log)
    log("refresh after the notes …")
    started = time.perf_counter()
    result = rollups.refresh()
    after_moves = time.perf_counter() - started
    scans = [_timed(_event_scan) for _ in range(2)]
    log(f"rebuild (the event scan took {min(scans):.1f} s) …")
    started = time.perf_counter()
    built = rollups.rebuild(progress=log)
    rebuild_s = time.perf_counter() - started
    scans.append(_timed(_event_scan))
    return {
        "refresh_idle": statistics.median(idle),
        "refresh_moves": made,
        "refresh_after_moves": after_moves,
        "refresh_facts": result.cases,
        "refresh_buckets": result.buckets,
        "refresh_days": result.days,
        "rebuild": rebuild_s,
        "rebuild_facts": built.cases,
        "rebuild_buckets": built.buckets,
        "rebuild_days": built.days,
        "event_scan": min(scans),
        "event_scans": scans,
    }


def _sizes() -> dict:
    from civicgrid.cases.models import Case, CaseEvent
    from civicgrid.insight.models import CaseDay, CaseFact, EventDay

    return {
        "cases": Case.objects.count(),
        "events": CaseEvent.objects.count(),
        "facts": CaseFact.objects.count(),
        "case_days": CaseDay.objects.count(),
        "event_days": EventDay.objects.count(),
    }


def measure(*, runs: int, screen_runs: int, moves: int, log) -> dict:
    only = set(filter(None, os.environ.get("BENCH_INSIGHT_ONLY", "").split(",")))  # e.g. units,screen
    readers = _readers()
    out: dict = {"server_version": _server(), "sizes": _sizes(), "at": time.strftime("%Y-%m-%d %H:%M:%S %Z")}
    out["load_start"] = os.getloadavg()
    if not only or "units" in only:
        out["units"] = _units(readers, runs, log)
        out["plans"] = _explain_units(log)
    if not only or "screen" in only:
        out["screen"] = _screen(readers, screen_runs, log)
    if not only or "rollups" in only:
        out["rollups"] = _rollups(moves, log)
    out["load_end"] = os.getloadavg()
    return out

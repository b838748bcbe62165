"""The rollups the command centre reads: case facts, daily case figures and daily moves.

- ``CaseFact``: one row per case — its place, class, channel, state, lead department and reporting
  worker as they are now, and what it counts for (``models.MEASURES``), derived from the case and
  its event log (``fact_of``).
- ``CaseDay``: the facts summed by report day × grid × 小类 × channel × state × department × worker.
- ``EventDay``: the moves made each day (local date of the move) by grid and action, with how many
  ended their stage late.

``rebuild()`` makes all three again from the case and event tables (``civicgrid insight rebuild``);
``refresh()`` keeps them current (every minute, ``insight.tasks``):

1. the cases touched since the last run — those with events past the event-id watermark or made in
   the last ``LOOKBACK`` (a transaction that committed late has a lower id), and those whose stage
   clock ran past its deadline since the last run (overdue changes with no event) — get their
   facts computed again;
2. the (day, grid) buckets of ``CaseDay`` that held or now hold those facts are summed again from
   ``CaseFact``;
3. ``EventDay`` is counted again for today and for every day a new event fell on.

Every step recomputes rather than adds, so a run that sees a change twice counts it once.
A case's grid and class are taken as they are now: moves and figures follow the case.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db import connection, transaction
from django.db.models import Count, Max, Min, Q
from django.db.models.functions import TruncDate
from django.utils import timezone

from civicgrid import bulk
from civicgrid.cases.models import Case, CaseEvent, CaseState, Channel, Satisfaction
from civicgrid.cases.selectors import STAGE_STATES
from civicgrid.insight.models import KEY_FIELDS, MEASURES, CaseDay, CaseFact, EventDay, RollupState
from civicgrid.insight.periods import day_span

S = CaseState
NAME = "cases"
LOOKBACK = timedelta(minutes=10)
CHUNK = 20_000  # cases per step of a rebuild
OPEN = frozenset(STAGE_STATES) | {S.SUSPENDED}
PENDING_HANDLING = frozenset({S.DISPATCHED, S.HANDLING})

# What a fact reads of its case.
CASE_COLUMNS = (
    "id",
    "created_at",
    "district_id",
    "street_id",
    "community_id",
    "grid_id",
    "major_class_id",
    "case_class_id",
    "channel",
    "state",
    "department_id",
    "registered_at",
    "dispatched_at",
    "closed_at",
    "rework_count",
    "return_count",
    "extension_count",
    "late_stages",
    "stage_deadline",
    "paused_at",
    "satisfaction",
    "followup",
)


@dataclass(frozen=True)
class Steps:
    """What a fact needs of a case's events."""

    feedbacks: int = 0
    late_feedbacks: int = 0
    late_register: bool = False
    reported_by: int = 0  # who made the report event (a grid worker's own report)


def _local_day(at: datetime) -> date:
    return timezone.localtime(at).date()


def fact_of(row: dict, steps: Steps, now: datetime) -> dict:
    """A case's fact (keys and measures) from its columns (``CASE_COLUMNS``) and events."""
    state = row["state"]
    is_open = state in OPEN
    running = is_open and state != S.SUSPENDED and row["paused_at"] is None
    overdue = running and row["stage_deadline"] is not None and row["stage_deadline"] < now
    registered = row["registered_at"] is not None and state != S.VOIDED
    dispatched = row["dispatched_at"] is not None and state != S.VOIDED
    handled = dispatched and steps.feedbacks > 0
    closed = state == S.CLOSED
    by_worker = row["channel"] == Channel.GRID_WORKER
    followup = row["followup"] or {}
    rating = row["satisfaction"] or ""
    visited = closed and bool(followup or rating)
    if followup:
        contacted, resolved = bool(followup.get("contacted")), bool(followup.get("resolved"))
        verdict = followup.get("satisfaction") or rating
    else:
        contacted = bool(rating)
        resolved = rating in (Satisfaction.SATISFIED, Satisfaction.BASIC)
        verdict = rating
    fact = {
        "case_id": row["id"],
        "day": _local_day(row["created_at"]),
        "district_id": row["district_id"] or 0,
        "street_id": row["street_id"] or 0,
        "community_id": row["community_id"] or 0,
        "grid_id": row["grid_id"] or 0,
        "major_class_id": row["major_class_id"] or 0,
        "case_class_id": row["case_class_id"] or 0,
        "channel": row["channel"],
        "state": state,
        "department_id": row["department_id"] or 0,
        "worker_id": steps.reported_by if by_worker else 0,
        "cases": 1,
        "worker_reports": int(by_worker),
        "worker_valid": int(by_worker and registered),
        "registered": int(registered),
        "registered_on_time": int(registered and not steps.late_register),
        "dispatched": int(dispatched),
        "dispatched_ok": int(dispatched and row["return_count"] == 0),
        "handled": int(handled),
        "handled_on_time": int(handled and steps.late_feedbacks == 0),
        "closed": int(closed),
        "closed_on_time": int(closed and row["late_stages"] == 0),
        "reworked": int(registered and row["rework_count"] > 0),
        "extended": int(dispatched and row["extension_count"] > 0),
        "open": int(is_open),
        "overdue": int(overdue),
        "overdue_handle": int(overdue and state in PENDING_HANDLING),
        "visited": int(visited),
        "contacted": int(visited and contacted),
        "resolved": int(visited and resolved),
        "satisfied": int(visited and verdict == Satisfaction.SATISFIED),
        "basic": int(visited and verdict == Satisfaction.BASIC),
        "close_minutes": (
            max(0, int((row["closed_at"] - row["created_at"]).total_seconds() // 60))
            if closed and row["closed_at"]
            else 0
        ),
    }
    return fact


def _steps(case_filter: Q) -> dict[int, Steps]:
    """The events a fact needs, per case: handling results (and how many late), and whether the
    registration (or resolution on the spot) came late."""
    rows = (
        CaseEvent.objects.filter(case_filter, action__in=("report", "feedback", "register", "self_resolve"))
        .values("case_id")
        .annotate(
            fb=Count("id", filter=Q(action="feedback")),
            fb_late=Count("id", filter=Q(action="feedback", data__late=True)),
            reg_late=Count("id", filter=Q(action__in=("register", "self_resolve"), data__late=True)),
            by=Max("actor_id", filter=Q(action="report")),
        )
        .order_by()
    )
    return {r["case_id"]: Steps(r["fb"], r["fb_late"], r["reg_late"] > 0, r["by"] or 0) for r in rows}


def _facts(case_filter: Q, event_filter: Q, now: datetime) -> list[dict]:
    steps = _steps(event_filter)
    none = Steps()
    return [
        fact_of(row, steps.get(row["id"], none), now)
        for row in Case.objects.filter(case_filter).values(*CASE_COLUMNS).order_by()
    ]


_FACTS = bulk.Table(CaseFact, with_pk=True)


def _fact_rows(facts: list[dict]) -> list[tuple]:
    """The facts as ``_FACTS.insert`` takes them, straight from the dicts: building a model object
    per fact (as ``Table.rows`` wants) was the fact step's largest part. Every column is an int or
    a string but the day, which goes in as Django would adapt it."""
    names = [name for _field, name, _adapt in _FACTS.columns]
    day_at = names.index("day")
    adapt = connection.ops.adapt_datefield_value
    out = []
    for fact in facts:
        row = [fact[name] for name in names]
        row[day_at] = adapt(row[day_at])
        out.append(tuple(row))
    return out


# -- summing the facts -----------------------------------------------------------------------------


def _sum_sql(where: str = "") -> str:
    """INSERT the sums of ``CaseFact`` (optionally of some rows) into ``CaseDay``: plain SQL, the
    same on both databases."""
    quote = connection.ops.quote_name
    keys = ", ".join(quote(k) for k in KEY_FIELDS)
    sums = ", ".join(f"SUM({quote(m)})" for m in MEASURES)
    measures = ", ".join(quote(m) for m in MEASURES)
    return (
        f"INSERT INTO {quote(CaseDay._meta.db_table)} ({keys}, {measures}) "
        f"SELECT {keys}, {sums} FROM {quote(CaseFact._meta.db_table)} {where} GROUP BY {keys}"
    )


def _resum(buckets: Iterable[tuple[date, int]]) -> None:
    """Sum ``CaseDay`` again for these (day, grid) buckets."""
    by_day: dict[date, set[int]] = {}
    for day, grid in buckets:
        by_day.setdefault(day, set()).add(grid)
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        for day, grids in sorted(by_day.items()):
            ids = sorted(grids)
            for start in range(0, len(ids), 500):
                part = ids[start : start + 500]
                CaseDay.objects.filter(day=day, grid_id__in=part).delete()
                marks = ", ".join(["%s"] * len(part))
                where = f"WHERE {quote('day')} = %s AND {quote('grid_id')} IN ({marks})"
                cursor.execute(_sum_sql(where), [connection.ops.adapt_datefield_value(day), *part])


# -- daily moves -----------------------------------------------------------------------------------


def _fixed_offset_minutes() -> int | None:
    """The district's UTC offset in minutes if it never changes (no summer time), else None."""
    tz = timezone.get_default_timezone()
    offsets = {tz.utcoffset(datetime(2026, month, 1)) for month in (1, 4, 7, 10)}
    return int(offsets.pop().total_seconds() // 60) if len(offsets) == 1 else None


def _moves_sql(*, bounded: bool = True) -> tuple[str, list] | None:
    """The INSERT … SELECT that counts moves by local day, grid and action, in the database's own
    SQL (Django's TruncDate calls back into Python for every row on SQLite, and building a model
    object per row took 30 s of the demo year's rebuild). None: no fast form (SQLite with a zone
    that has summer time). Unbounded (a rebuild: every move), SQLite reads the events in table
    order instead of through the ``at`` index, one random row read per event fewer: a quarter less
    CPU at a million cases (bench/bench_insight.py)."""
    quote = connection.ops.quote_name
    if connection.vendor == "postgresql":
        day, late = "(e.at AT TIME ZONE %s)::date", "e.data @> '{\"late\": true}'"
        params = [timezone.get_default_timezone_name()]
    else:
        offset = _fixed_offset_minutes()
        if offset is None:
            return None
        day, late = f"date(e.at, '{offset:+d} minutes')", "json_extract(e.data, '$.late') = 1"
        params = []
    columns = ", ".join(quote(c) for c in ("day", "district_id", "street_id", "community_id", "grid_id"))
    sql = (
        f"INSERT INTO {quote(EventDay._meta.db_table)} ({columns}, {quote('action')}, {quote('n')}, "
        f"{quote('late')}) SELECT {day}, c.district_id, c.street_id, c.community_id, c.grid_id, e.action, "
        f"COUNT(*), SUM(CASE WHEN {late} THEN 1 ELSE 0 END) "
        f"FROM {quote(CaseEvent._meta.db_table)} e JOIN {quote(Case._meta.db_table)} c ON c.id = e.case_id "
        f"{'WHERE e.at >= %s AND e.at < %s ' if bounded else ''}GROUP BY 1, 2, 3, 4, 5, 6"
    )
    return sql, params


def _count_moves(start: datetime | None, end: datetime | None) -> None:
    """Count ``EventDay`` for the moves made in [start, end) (whole days, which the caller has
    emptied); no bounds: every move (a rebuild, which emptied the table)."""
    bounded = start is not None and end is not None
    fast = _moves_sql(bounded=bounded)
    if fast is not None:
        sql, params = fast
        adapt = connection.ops.adapt_datetimefield_value
        with connection.cursor() as cursor:
            cursor.execute(sql, [*params, adapt(start), adapt(end)] if bounded else params)
        return
    events = CaseEvent.objects.filter(at__gte=start, at__lt=end) if bounded else CaseEvent.objects.all()
    rows = (
        events.annotate(day=TruncDate("at"))
        .values(
            "day", "case__district_id", "case__street_id", "case__community_id", "case__grid_id", "action"
        )
        .annotate(n=Count("id"), late=Count("id", filter=Q(data__late=True)))
        .order_by()
    )
    EventDay.objects.bulk_create(
        EventDay(
            day=r["day"],
            district_id=r["case__district_id"],
            street_id=r["case__street_id"],
            community_id=r["case__community_id"],
            grid_id=r["case__grid_id"],
            action=r["action"],
            n=r["n"],
            late=r["late"],
        )
        for r in rows.iterator(chunk_size=5000)
    )


def _recount_days(days: Iterable[date]) -> None:
    for day in sorted(set(days)):
        start, end = day_span(day)
        EventDay.objects.filter(day=day).delete()
        _count_moves(start, end)


# -- the two entry points --------------------------------------------------------------------------


@dataclass
class RollupResult:
    cases: int  # facts computed
    buckets: int  # (day, grid) buckets of CaseDay summed again (rebuild: all)
    days: int  # days of EventDay counted again
    seconds: float


def _state(for_update: bool = True) -> RollupState:
    RollupState.objects.get_or_create(name=NAME)
    query = RollupState.objects.filter(name=NAME)
    if for_update and connection.features.has_select_for_update:
        query = query.select_for_update()
    return query.get()


def rebuild(*, now: datetime | None = None, progress: Callable[[str], None] | None = None) -> RollupResult:
    """Make every rollup again from the case and event tables, in one transaction (readers see the
    old figures until it commits)."""
    started = time.perf_counter()
    now = now or timezone.now()
    say = progress or (lambda _msg: None)
    with transaction.atomic():
        state = _state()
        top_event = CaseEvent.objects.aggregate(m=Max("id"))["m"] or 0
        EventDay.objects.all().delete()
        CaseDay.objects.all().delete()
        CaseFact.objects.all().delete()
        total = Case.objects.count()
        span = Case.objects.aggregate(lo=Min("id"), hi=Max("id"))
        first, last = span["lo"] or 0, span["hi"] or -1
        done = 0
        for lo in range(first, last + 1, CHUNK):
            hi = lo + CHUNK
            facts = _facts(Q(id__gte=lo, id__lt=hi), Q(case_id__gte=lo, case_id__lt=hi), now)
            _FACTS.insert(_fact_rows(facts))
            done += len(facts)
            if facts:
                say(f"case facts {done:,} / {total:,} … {time.perf_counter() - started:.1f} s")
        with connection.cursor() as cursor:
            cursor.execute(_sum_sql())
        say(f"daily figures summed … {time.perf_counter() - started:.1f} s")
        _count_moves(None, None)
        say(f"daily moves counted … {time.perf_counter() - started:.1f} s")
        days = EventDay.objects.values("day").distinct().count()
        state.event_id, state.checked_at = top_event, now
        state.rebuilt_at = state.refreshed_at = now
        state.facts = done
        state.save()
    if not connection.in_atomic_block:
        bulk.analyze([CaseFact, CaseDay, EventDay])
    return RollupResult(done, CaseDay.objects.count(), days, time.perf_counter() - started)


def refresh(*, now: datetime | None = None) -> RollupResult:
    """Fold in what changed since the last run (see the module's docstring)."""
    now = now or timezone.now()
    built = status()
    if built is None or built.checked_at is None:  # never built: the first run builds everything
        return rebuild(now=now)
    started = time.perf_counter()
    with transaction.atomic():
        state = _state()
        since = (state.checked_at or now) - LOOKBACK
        new_events = list(
            CaseEvent.objects.filter(Q(id__gt=state.event_id) | Q(at__gte=since))
            .values_list("id", "case_id", "at")
            .order_by()
        )
        touched = {case_id for _id, case_id, _at in new_events}
        # Clocks that ran past their deadline since the last run: overdue with no event.
        crossed = Case.objects.filter(
            stage_deadline__gt=since, stage_deadline__lte=now, paused_at__isnull=True
        ).values_list("id", flat=True)
        touched.update(crossed)
        ids = sorted(touched)
        buckets: set[tuple[date, int]] = set()
        for start in range(0, len(ids), 1000):
            part = ids[start : start + 1000]
            old = CaseFact.objects.filter(case_id__in=part)
            buckets.update(old.values_list("day", "grid_id"))
            old.delete()
            facts = _facts(Q(id__in=part), Q(case_id__in=part), now)
            _FACTS.insert(_fact_rows(facts))
            buckets.update((f["day"], f["grid_id"]) for f in facts)
        _resum(buckets)
        days = {_local_day(at) for _id, _case, at in new_events}
        days.add(timezone.localdate(now))
        _recount_days(days)
        state.event_id = max([state.event_id, *(i for i, _c, _a in new_events)])
        state.checked_at = state.refreshed_at = now
        state.save()
    return RollupResult(len(ids), len(buckets), len(days), time.perf_counter() - started)


def status() -> RollupState | None:
    return RollupState.objects.filter(name=NAME).first()

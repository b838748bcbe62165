"""Benchmark — the monthly assessment of every grid worker (``civicgrid/patrol/assessment.py``).

Target (issue 6): the monthly assessment of all 615 grids' workers ≤ 5 s on the demo year.
Measured: ``assessment(scope=<the district operator>, month=…)`` — every assessed worker of the
district, all figures and the score — p50 of BENCH_ASSESS_RUNS (default 5) runs after a warm-up,
for the last complete month and for the current one (the demo's patrols cover its last eight
weeks). Also shown: a street operator's and a grid chief's month, and the queries one run makes.
Baseline in the same run, interleaved: a plain ``COUNT(*) … GROUP BY grid`` over the month's
cases (``Case.objects.filter(created_at in month).values("grid_id").annotate(Count("id"))``).

The data: the demo as ``civicgrid demo`` loads it — ``demo_load(cases=N)``: geography, staff,
the year of N (default 100,000) cases played through the workflow, and every app's demo seed
(the patrol demo's key places, patrols, check-ins and weekly coverage when
``civicgrid/patrol/demo.py`` exists; without it the patrol figures are empty and the run says
so) — in a SQLite file under /tmp/civicgrid-bench-assessment/ and the PostgreSQL database
``cg_bench_assessment`` (server of BENCH_PG_DSN). Both are marked when full and reused by later
runs; BENCH_ASSESS_REFILL=1 reloads. Each database is timed in a child process (this file with
``--child``), since Django's settings are fixed per process.

Run alone: ``.venv/bin/python bench/bench_assessment.py [sqlite|postgresql]``.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from datetime import datetime
from datetime import time as dtime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as c

NAME = "assessment"
PG_DATABASE = "cg_bench_assessment"
CACHE_DIR = Path(os.environ.get("BENCH_ASSESS_CACHE", "/tmp/civicgrid-bench-assessment"))
REFILL = os.environ.get("BENCH_ASSESS_REFILL") == "1"
N_CASES = int(os.environ.get("BENCH_ASSESS_CASES", "100000"))
SEED = 2026  # the demo's default seed
RUNS = max(3, int(os.environ.get("BENCH_ASSESS_RUNS", "5")))
TARGET_S = 5.0
META_TABLE = "bench_assessment_meta"
WORKER_TIMEOUT_S = 2 * 3600
PATROL_DEMO = (c.ROOT / "civicgrid" / "patrol" / "demo.py").exists()


def fill_key() -> str:
    return f"cases={N_CASES};seed={SEED};patrol-demo={int(PATROL_DEMO)};v=1"


def _log(text: str) -> None:
    print(f"  [{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


# --- the child: fill once, then time ------------------------------------------------------------
def _fill() -> dict:
    from django.db import connection

    from civicgrid.demo.loader import demo_load

    started = time.perf_counter()
    _log(f"loading the demo with {N_CASES:,} cases (once; later runs reuse it) …")
    demo_load(seed=SEED, people=True, cases=N_CASES, progress=_log)
    load_s = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
    c.mark_filled(META_TABLE, fill_key(), load_s)
    return {"reused": False, "load_s": load_s}


def _timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def _measure() -> dict:
    from django.db import connection
    from django.db.models import Count
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from civicgrid.accounts.models import User
    from civicgrid.accounts.scopes import scope_for
    from civicgrid.cases.models import Case
    from civicgrid.patrol.assessment import Month, assessment
    from civicgrid.patrol.models import CheckIn, CoverageWeek, Patrol

    current = Month.parse("")
    months = [current.previous, current]
    readers = {
        "district operator": "operator",
        "street operator": User.objects.filter(username__startswith="street-")
        .order_by("username")[0]
        .username,
        "grid chief": User.objects.filter(username__startswith="chief-").order_by("username")[0].username,
    }
    scopes = {label: scope_for(User.objects.get(username=name)) for label, name in readers.items()}
    out: dict = {
        "server_version": connection.vendor
        + " "
        + ".".join(map(str, connection.Database.sqlite_version_info))
        if connection.vendor == "sqlite"
        else f"PostgreSQL {connection.pg_version // 10000}",
        "cases": Case.objects.count(),
        "patrols": Patrol.objects.count(),
        "checkins": CheckIn.objects.count(),
        "coverage_weeks": CoverageWeek.objects.count(),
        "months": {},
    }
    zone = timezone.get_default_timezone()
    for month in months:
        start, end = (datetime.combine(day, dtime.min, zone) for day in (month.first, month.next_first))

        def baseline(start=start, end=end):
            return list(
                Case.objects.filter(created_at__gte=start, created_at__lt=end)
                .order_by()
                .values("grid_id")
                .annotate(n=Count("id"))
            )

        def district(month=month):
            return assessment(scope=scopes["district operator"], month=month)

        result = district()  # warm-up: caches (calendar, region tree), the database's pages
        baseline()
        times, base = [], []
        for _ in range(RUNS):  # interleaved, so both see the same machine
            times.append(_timed(district))
            base.append(_timed(baseline))
        with CaptureQueriesContext(connection) as queries:
            district()
        others = {}
        for label in ("street operator", "grid chief"):
            runs = [
                _timed(lambda label=label, month=month: assessment(scope=scopes[label], month=month))
                for _ in range(3)
            ]
            rows = len(assessment(scope=scopes[label], month=month).rows)
            others[label] = {"p50": statistics.median(runs), "rows": rows}
        rows = result.rows
        out["months"][str(month)] = {
            "p50": statistics.median(times),
            "min": min(times),
            "max": max(times),
            "baseline_p50": statistics.median(base),
            "baseline_groups": len(baseline()),
            "queries": len(queries),
            "workers": len(rows),
            "grids": len({p.grid_id for r in rows for p in r.posts}),
            "totals": {
                "patrols": sum(r.patrols for r in rows),
                "reports": sum(r.reports for r in rows),
                "verify_due": sum(r.verify.due for r in rows),
                "check_due": sum(r.check.due for r in rows),
                "resident_due": sum(r.resident_response.due for r in rows),
                "places_due": sum(r.places.due for r in rows),
                "scored": sum(r.score is not None for r in rows),
            },
            "grades": {g: sum(r.grade == g for r in rows) for g in "ABCDE"},
            "others": others,
        }
    return out


def child(backend: str, out: Path) -> None:
    c.filled_child(backend, out, table=META_TABLE, key=fill_key(), fill=_fill, measure=_measure, log=_log)


# --- the parent ---------------------------------------------------------------------------------
def _run(backend: str) -> dict:
    return c.kept_worker_run(
        backend,
        command=[sys.executable, str(Path(__file__).resolve()), "--child"],
        cache_dir=CACHE_DIR,
        tag=f"cases{N_CASES}-seed{SEED}",
        pg_database=PG_DATABASE,
        table=META_TABLE,
        key=fill_key(),
        refill=REFILL,
        timeout=WORKER_TIMEOUT_S,
    )


def _print(label: str, found: dict) -> list[dict]:
    data = found["data"]
    how = "reused" if data["reused"] else f"loaded now in {data['load_s']:.0f} s"
    c.note(
        f"{label} ({found['server_version']}): {found['cases']:,} cases, {found['patrols']:,} patrols, "
        f"{found['checkins']:,} check-ins, {found['coverage_weeks']:,} weekly coverages — {how}"
    )
    if not found["patrols"]:
        c.note("no patrols in the data (no patrol demo when it was loaded): the case-derived figures only")
    rows, summary = [], []
    for month, m in found["months"].items():
        ratio = c.ratio(m["p50"], m["baseline_p50"])
        rows.append(
            [
                f"{month}: district, {m['workers']} workers in {m['grids']} grids",
                c.fmt_dur(m["p50"]),
                c.fmt_dur(m["min"]),
                c.fmt_dur(m["max"]),
                str(m["queries"]),
                f"{ratio:,.0f}× baseline" if ratio else "—",
            ]
        )
        for who, o in m["others"].items():
            rows.append([f"{month}: {who}, {o['rows']} workers", c.fmt_dur(o["p50"]), "", "", "", ""])
        rows.append(
            [
                f"{month}: baseline COUNT(*) GROUP BY grid ({m['baseline_groups']} grids)",
                c.fmt_dur(m["baseline_p50"]),
                "",
                "",
                "1",
                "1",
            ]
        )
        met = m["p50"] <= TARGET_S
        summary.append(
            {
                "benchmark": f"assessment {month}, {label}",
                "figure": f"{c.fmt_dur(m['p50'])} for {m['workers']} workers",
                "target": f"≤ {TARGET_S:.0f} s",
                "met": met,
                "vs_baseline": f"{ratio:,.0f}× a COUNT GROUP BY grid ({c.fmt_dur(m['baseline_p50'])})"
                if ratio
                else "—",
            }
        )
    print(c.table(["", "p50", "min", "max", "queries", "vs baseline"], rows))
    for month, m in found["months"].items():
        t = m["totals"]
        c.note(
            f"{month}: {t['patrols']:,} patrols, {t['reports']:,} reports, {t['verify_due']:,} verifications and "
            f"{t['check_due']:,} checks due, {t['resident_due']:,} residents' reports due, {t['places_due']:,} "
            f"key-place visits required; scored {t['scored']}; grades "
            + ", ".join(f"{g} {n}" for g, n in m["grades"].items())
        )
    c.note(
        f"target p50 ≤ {TARGET_S:.0f} s: "
        + ", ".join(f"{s['benchmark']} {c.verdict(s['met'])}" for s in summary)
    )
    return summary


def run(backends: tuple[str, ...] = ("sqlite", "postgresql")) -> dict:
    c.heading(
        f"Monthly assessment of every grid worker on the demo year ({N_CASES:,} cases; target ≤ {TARGET_S:.0f} s)"
    )
    out: dict = {"summary": []}
    for backend in backends:
        found = _run(backend)
        if "skipped" in found:
            c.note(f"{backend}: skipped — {found['skipped']}")
            out[backend] = found
            continue
        summary = _print(backend, found)
        out[backend] = found
        out["summary"] += summary
    return out


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        child(sys.argv[2], Path(sys.argv[3]))
    else:
        chosen = tuple(sys.argv[1:]) or ("sqlite", "postgresql")
        c.standalone(NAME, lambda: run(chosen))

"""Benchmark — the command centre (``civicgrid/insight``) at 1,000,000 cases.

Targets (issue 7, "Speed"): the rollup rebuild of 1,000,000 cases ≤ 5 minutes; all units' monthly
indicators ≤ 10 s; the big-screen endpoints p95 ≤ 200 ms — each beside a direct aggregate over the
case and event tables measured in the same run:

1. ``rollups.rebuild()`` (once: it takes minutes) vs one full scan of the event table
   (``SELECT case_id, COUNT(*) … GROUP BY case_id``); ``rollups.refresh()`` after 1,000 new moves
   (notes by the district operator on 1,000 open cases; case events are append-only, so each run
   leaves its notes in the kept database) and an idle ``refresh()``.
2. ``indicators.unit_table`` of one month for every unit kind (district, street, community, grid,
   department, worker) as the district operator and as a street operator, p50 of BENCH_INSIGHT_RUNS
   (default 5) after a warm-up, vs the same month's cases counted and summed straight from the case
   table with one ``GROUP BY`` per unit kind (the worker's from the report events).
3. ``GET /api/v1/insight/screen/*`` (whatever ``screen_api.py`` serves), p50/p95 over repeated
   requests with Django's test client, uncached (the screen cache cleared first) and cached, as the
   district operator and as a street operator, vs a ``COUNT(*) … GROUP BY street`` of the month's
   cases. Wall and CPU time side by side: on a shared 2-core machine the wall time waits for a core.

The data: the demo as ``civicgrid demo --cases 1000000`` loads it (``demo_load``: geography, staff,
the year of cases through the workflow, every app's demo step, the command centre's rollups last),
in a SQLite file under /tmp/civicgrid-bench-insight/ and the PostgreSQL database
``cg_bench_insight`` (server of BENCH_PG_DSN); marked when full and reused by later runs
(BENCH_INSIGHT_REFILL=1 reloads; BENCH_INSIGHT_CASES changes N). Each database is timed in a child
process (this file with ``--child``), since Django's settings are fixed per process.

Run: ``.venv/bin/python bench/bench_insight.py [sqlite|postgresql] [--fill]`` (``--fill`` only loads).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as c

NAME = "insight"
PG_DATABASE = "cg_bench_insight"
CACHE_DIR = Path(os.environ.get("BENCH_INSIGHT_CACHE", "/tmp/civicgrid-bench-insight"))
REFILL = os.environ.get("BENCH_INSIGHT_REFILL") == "1"
FILL_ONLY = os.environ.get("BENCH_INSIGHT_FILL_ONLY") == "1"
N_CASES = int(os.environ.get("BENCH_INSIGHT_CASES", "1000000"))
SEED = 2026  # the demo's default seed
RUNS = max(3, int(os.environ.get("BENCH_INSIGHT_RUNS", "5")))
SCREEN_RUNS = max(10, int(os.environ.get("BENCH_INSIGHT_SCREEN_RUNS", "40")))
MOVES = 1000
TARGETS = {"rebuild": 300.0, "units": 10.0, "screen_p95": 0.2}
META_TABLE = "bench_insight_meta"
WORKER_TIMEOUT_S = 3 * 3600


def fill_key() -> str:
    return f"cases={N_CASES};seed={SEED};v=1"


def _log(text: str) -> None:
    print(f"  [{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


# --- the child: fill once, then time ------------------------------------------------------------
def _fill() -> dict:
    from civicgrid.demo.loader import demo_load

    started = time.perf_counter()
    _log(f"loading the demo with {N_CASES:,} cases (once; later runs reuse it) …")
    demo_load(seed=SEED, people=True, cases=N_CASES, progress=_log)
    load_s = time.perf_counter() - started
    _log(f"loaded in {load_s:.0f} s")
    c.mark_filled(META_TABLE, fill_key(), load_s)
    return {"reused": False, "load_s": load_s}


def _measure() -> dict:
    if FILL_ONLY:
        return {"fill_only": True}
    import _insight_worker as w

    return w.measure(runs=RUNS, screen_runs=SCREEN_RUNS, moves=MOVES, log=_log)


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
        env={"CIVICGRID_ALLOWED_HOSTS": c.SERVED_HOSTS}
        | ({"BENCH_INSIGHT_FILL_ONLY": "1"} if FILL_ONLY else {}),
    )


# --- the report ----------------------------------------------------------------------------------
def _times(value: float, base: float) -> str:
    r = c.ratio(value, base)
    if not r:
        return "—"
    return f"{r:,.1f}× baseline" if r >= 1 else f"{r:.2f}× baseline"


def _summary(name: str, figure: str, target: str, met: bool | None, vs: str) -> dict:
    return {"benchmark": name, "figure": figure, "target": target, "met": met, "vs_baseline": vs}


def show(label: str, found: dict) -> list[dict]:
    """Print one database's figures; return its summary rows."""
    data, sizes = found["data"], found["sizes"]
    how = "reused" if data["reused"] else f"loaded now in {data['load_s']:.0f} s"
    c.note(
        f"{label} ({found['server_version']}), {found['at']}: {sizes['cases']:,} cases, {sizes['events']:,} "
        f"events, {sizes['facts']:,} case facts, {sizes['case_days']:,} daily case rows, "
        f"{sizes['event_days']:,} daily move rows — {how}; load average "
        f"{c.fmt_load(found['load_start'])} → {c.fmt_load(found['load_end'])}"
    )
    summary = []
    if "rollups" in found:
        r = found["rollups"]
        scan = r["event_scan"]
        rows = [
            [
                f"rebuild ({r['rebuild_facts']:,} facts, {r['rebuild_buckets']:,} daily rows, "
                f"{r['rebuild_days']} days of moves)",
                c.fmt_dur(r["rebuild"]),
                _times(r["rebuild"], scan),
            ],
            [
                f"refresh after {r['refresh_moves']:,} moves ({r['refresh_facts']:,} facts, "
                f"{r['refresh_buckets']:,} buckets)",
                c.fmt_dur(r["refresh_after_moves"]),
                _times(r["refresh_after_moves"], scan),
            ],
            [
                "refresh with nothing new (p50 of 3)",
                c.fmt_dur(r["refresh_idle"]),
                _times(r["refresh_idle"], scan),
            ],
            ["baseline: SELECT case_id, COUNT(*) FROM events GROUP BY case_id (best)", c.fmt_dur(scan), "1"],
        ]
        print(c.table(["rollups", "time", "vs baseline"], rows))
        met = r["rebuild"] <= TARGETS["rebuild"]
        summary.append(
            _summary(
                f"rollup rebuild, {label}",
                c.fmt_dur(r["rebuild"]),
                "≤ 300 s",
                met,
                _times(r["rebuild"], scan) + f" (event scan {c.fmt_dur(scan)})",
            )
        )
        summary.append(
            _summary(
                f"rollup refresh after {r['refresh_moves']:,} moves, {label}",
                c.fmt_dur(r["refresh_after_moves"]),
                "reported",
                None,
                _times(r["refresh_after_moves"], scan),
            )
        )
    if "units" in found:
        u = found["units"]
        rows = []
        for who, m in u["readers"].items():
            rows.append(
                [
                    f"{u['month']}, {who}: every unit kind",
                    c.fmt_dur(m["total"]["p50"]),
                    c.fmt_dur(m["total"]["max"]),
                    str(m["queries"]),
                    _times(m["total"]["p50"], m["baseline"]["p50"]),
                    c.fmt_dur(m["total"]["cpu"]["p50"]) if "cpu" in m["total"] else "—",
                ]
            )
            for unit, t in m["per_unit"].items():
                rows.append([f"    {unit} ({m['rows'][unit]:,} rows)", c.fmt_dur(t), "", "", "", ""])
            rows.append(
                [
                    "    baseline: the month's cases GROUP BY each kind",
                    c.fmt_dur(m["baseline"]["p50"]),
                    c.fmt_dur(m["baseline"]["max"]),
                    "6",
                    "1",
                    c.fmt_dur(m["baseline"]["cpu"]["p50"]) if "cpu" in m["baseline"] else "—",
                ]
            )
            met = m["total"]["p50"] <= TARGETS["units"]
            summary.append(
                _summary(
                    f"all units' indicators {u['month']}, {who}, {label}",
                    c.fmt_dur(m["total"]["p50"]),
                    "≤ 10 s",
                    met,
                    _times(m["total"]["p50"], m["baseline"]["p50"]) + f" ({c.fmt_dur(m['baseline']['p50'])})",
                )
            )
        print(c.table(["monthly indicators (p50)", "p50", "max", "queries", "vs baseline", "CPU p50"], rows))
    if "screen" in found:
        s = found["screen"]
        if not s["paths"]:
            summary.append(
                c.skipped(
                    "big screen",
                    "screen_api.py serves no endpoint yet",
                    f"big screen, {label}",
                    "p95 ≤ 200 ms",
                )
            )
        for who, paths in s.get("readers", {}).items():
            rows, worst = [], None
            for path, m in paths.items():
                rows.append(
                    [
                        path.rsplit("/", 1)[-1],
                        str(m["status"]),
                        f"{m['bytes']:,}",
                        c.fmt_dur(m["p50"]),
                        c.fmt_dur(m["p95"]),
                        c.fmt_dur(m["cached"]["p50"]) if "cached" in m else "—",
                        c.fmt_dur(m["cached"]["p95"]) if "cached" in m else "—",
                        c.fmt_dur(m["baseline"]["p95"]),
                        _times(m["p95"], m["baseline"]["p95"]),
                        c.fmt_dur(m["cpu"]["p95"]) if "cpu" in m else "—",
                        c.fmt_dur(m["baseline"]["cpu"]["p95"]) if "cpu" in m else "—",
                    ]
                )
                if worst is None or m["p95"] > worst[1]["p95"]:
                    worst = (path, m)
            print(
                c.table(
                    [
                        f"big screen, {who} ({next(iter(paths.values()))['n']} requests each)",
                        "status",
                        "bytes",
                        "p50 uncached",
                        "p95 uncached",
                        "p50 cached",
                        "p95 cached",
                        "baseline p95",
                        "vs baseline",
                        "CPU p95",
                        "baseline CPU p95",
                    ],
                    rows,
                )
            )
            path, m = worst
            summary.append(
                _summary(
                    f"big screen worst uncached p95, {who}, {label}",
                    f"{c.fmt_dur(m['p95'])} ({path.rsplit('/', 1)[-1]})",
                    "p95 ≤ 200 ms",
                    m["p95"] <= TARGETS["screen_p95"],
                    _times(m["p95"], m["baseline"]["p95"])
                    + f" (COUNT GROUP BY street {c.fmt_dur(m['baseline']['p95'])})",
                )
            )
    c.note(
        "targets: "
        + "; ".join(f"{x['benchmark']} {c.verdict(x['met'])}" for x in summary if x["met"] is not None)
    )
    return summary


def run(backends: tuple[str, ...] = ("sqlite", "postgresql")) -> dict:
    c.heading(
        f"The command centre at {N_CASES:,} cases (rebuild ≤ 5 min, all units ≤ 10 s, screen p95 ≤ 200 ms)"
    )
    out: dict = {"summary": []}
    for backend in backends:
        load = os.getloadavg()
        found = _run(backend)
        if "skipped" in found:
            c.note(f"{backend}: skipped — {found['skipped']}")
            out[backend] = found
            continue
        found["load_before"] = load
        found["load_after"] = os.getloadavg()
        out[backend] = found
        if not found.get("fill_only"):
            out["summary"] += show(backend, found)
        else:
            data = found["data"]
            how = "reused" if data["reused"] else f"loaded in {data['load_s']:.0f} s"
            c.note(f"{backend}: filled ({how})")
    return out


if __name__ == "__main__":
    if {"-h", "--help"} & set(sys.argv[1:]):
        print(__doc__)
    elif sys.argv[1:2] == ["--child"]:
        child(sys.argv[2], Path(sys.argv[3]))
    else:
        if "--fill" in sys.argv:
            FILL_ONLY = True
            os.environ["BENCH_INSIGHT_FILL_ONLY"] = "1"
        chosen = tuple(a for a in sys.argv[1:] if not a.startswith("--")) or ("sqlite", "postgresql")
        c.standalone(NAME, lambda: run(chosen))

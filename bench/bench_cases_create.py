"""Benchmark 5 — ``POST /api/v1/cases/`` (locate + classify + number + store) over HTTP.

Target (from the issue): ≥ 200 cases/s sustained on 2 cores with p95 ≤ 50 ms, on SQLite and on
PostgreSQL, no non-2xx answer, every created case in the database afterwards.
Baseline in the same run: a bare single-row ``INSERT`` of an equivalent ``cases_case`` row, one
transaction per row, in a loop in one process (the floor under any create).

Each database runs in a child process (``_cases_create_worker.py``; Django settings are per
process): a temporary SQLite file (CIVICGRID_VAR_DIR in a temp dir), then PostgreSQL in a scratch
database ``cg_bench_create`` on the server of BENCH_PG_DSN, created for the run and always dropped
(skipped, saying why, when the server is unreachable). In each: migrate, the demo (geography,
staff, taxonomy), an API token for ``operator`` (cases:write), gunicorn with 2 sync workers on
loopback (BENCH_CREATE_WORKERS changes the 2), a warm-up, then wrk (2 threads,
BENCH_CREATE_CONNECTIONS connections, default 4) for BENCH_CREATE_SECONDS (default 20) posting
urlencoded reports — points known to lie inside a grid,
eight realistic Chinese texts, a unique Idempotency-Key per request. Afterwards: the rows counted
against the 201 answers, the baseline, the queries of one request, and cProfile of 500
``services.case_create`` calls in-process (top 10 cumulative, and the project's own functions).

Run alone: ``.venv/bin/python bench/bench_cases_create.py [sqlite|postgresql]``.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as c
from _cases_create_worker import TARGET_P95_S, TARGET_RPS, WORKER_TIMEOUT_S

NAME = "cases_create"
PG_DATABASE = "cg_bench_create"
TARGET = f"≥ {TARGET_RPS}/s, p95 ≤ {TARGET_P95_S * 1e3:.0f} ms"


def _spawn(backend: str, database_url: str | None) -> dict:
    work = c.scratch_dir(f"civicgrid-bench-create-{backend}-")
    return c.spawn_json(
        [sys.executable, str(Path(__file__).resolve().parent / "_cases_create_worker.py"), backend],
        env=c.child_env(work, database_url, CIVICGRID_ALLOWED_HOSTS=c.SERVED_HOSTS),
        timeout=WORKER_TIMEOUT_S,
    )


def _pg_run() -> dict:
    """The PostgreSQL run in ``cg_bench_create``, always dropped; or why it was skipped."""
    found = c.pg_scratch(PG_DATABASE, lambda url: _spawn("postgresql", url))
    if "skipped" in found:
        return found
    return found | {"database": PG_DATABASE, "database_dropped": not c.pg_exists(PG_DATABASE)}


def _print_backend(label: str, found: dict) -> dict:
    http, rows, base = found["http"], found.get("rows", {}), found["baseline"]
    setup = found["setup"]
    c.note(
        f"{label} {found['server_version']}: migrate {setup['migrate_s']:.1f} s, demo {setup['demo_s']:.1f} s; "
        f"{found['points']:,} points inside grids; load average before the run {c.fmt_load(found['load_before'])}"
        " (other work on the 2 cores slows every figure)"
    )
    if "skipped" in http:
        c.note(f"HTTP: SKIPPED — {http['skipped']}")
        return c.unmeasured(f"create case API, {label}", TARGET, http["skipped"][:60])
    main = http["main"]
    non2xx = main["other"] + http["warmup"]["other"]
    socket_errors = sum(v for k, v in main["errors"].items() if k != "status")
    c.note(
        f"probe: 201, case {http['probe']['number']} in grid {http['probe']['grid']}, state "
        f"{http['probe']['state']}, suggested {', '.join(http['probe']['suggestions']) or 'nothing'}"
    )
    c.note(
        f"wrk: {main['connections']} connections, {main['duration_s']:.0f} s after a {http['warmup']['duration_s']:.0f} s "
        f"warm-up; gunicorn -w {found['workers']} (sync)"
    )
    print()
    ratio_rate = c.ratio(main["created_per_s"], base["rows_per_s"])
    ratio_p95 = c.ratio(main["p95_s"], base["p95"])
    table_rows = [
        (
            f"POST /api/v1/cases/ (HTTP, {found['workers']} workers)",
            c.fmt_int(main["created"]),
            c.fmt_int(main["created_per_s"]),
            c.fmt_dur(main["p50_s"]),
            c.fmt_dur(main["p95_s"]),
            c.fmt_dur(main["p99_s"]),
            f"{non2xx}" + (f" (last {main['last_other_status']})" if non2xx else ""),
        ),
        (
            "bare INSERT of one row (1 process)",
            c.fmt_int(base["n"]),
            c.fmt_int(base["rows_per_s"]),
            c.fmt_dur(base["p50"]),
            c.fmt_dur(base["p95"]),
            c.fmt_dur(base["p99"]),
            "—",
        ),
    ]
    print(c.table(["", "rows", "per s", "p50", "p95", "p99", "non-2xx"], table_rows))
    print()
    c.note(
        f"ratio to the bare INSERT (same run): rate {ratio_rate:.3f}× ({c.fmt_ratio(1 / ratio_rate)} slower), "
        f"p95 {ratio_p95:.0f}×"
    )
    c.note(
        f"rows check: {rows['rows']:,} cases in the database for {rows['answered_201']:,} answers 201 "
        f"(main run {rows['main_rows']:,} rows / {rows['main_201']:,} answers; up to {rows['in_flight_max']} may "
        f"commit after wrk stops) → {'OK' if rows['ok'] else 'MISMATCH'}; socket errors {socket_errors}"
    )
    cpu = http["cpu"]
    per = cpu["per_case_ms"]
    c.note(
        f"CPU per created case (main run): gunicorn {per['server']:.1f} ms + database server "
        + (f"{per['database']:.1f} ms" if found["backend"] == "postgresql" else "(in-process)")
        + f" + wrk {per['load_generator']:.1f} ms = {cpu['total_per_case_ms']:.1f} ms → at most "
        f"{c.fmt_int(cpu['capacity_2_cores'])} cases/s on 2 otherwise idle cores (noise-robust: CPU time, "
        "not wall time)"
    )
    if http["server_log_errors"]:
        c.note("gunicorn log: " + " | ".join(http["server_log_errors"][-3:])[:400])
    q = found["queries_per_request"]
    c.note(
        f"one request in-process (Django test client): {q['queries']} queries ("
        + ", ".join(f"{v} {k}" for k, v in sorted(q["by_kind"].items()))
        + ")"
    )
    prof = found["profile"]
    c.note(
        f"services.case_create in-process, unprofiled: p50 {c.fmt_dur(prof['unprofiled']['p50'])}, "
        f"p95 {c.fmt_dur(prof['unprofiled']['p95'])} (n={prof['unprofiled']['n']}); "
        f"cProfile of {prof['calls']} calls: {prof['profiled_s']:.2f} s — top 10 cumulative:"
    )
    print(
        c.table(
            ["function", "calls", "cumulative", "per call"],
            [
                (
                    e["function"][-70:],
                    c.fmt_int(e["ncalls"]),
                    f"{e['cumtime_s']:.3f} s",
                    c.fmt_dur(e["cumtime_s"] / max(1, e["ncalls"])),
                )
                for e in prof["top_cumulative"]
            ],
            indent="    ",
            align="lrrr",
        )
    )
    c.note("the project's own functions by cumulative time:")
    print(
        c.table(
            ["function", "calls", "cumulative", "per call"],
            [
                (
                    e["function"],
                    c.fmt_int(e["ncalls"]),
                    f"{e['cumtime_s']:.3f} s",
                    c.fmt_dur(e["cumtime_s"] / max(1, e["ncalls"])),
                )
                for e in prof["top_civicgrid"][:10]
            ],
            indent="    ",
            align="lrrr",
        )
    )
    met = (
        main["created_per_s"] >= TARGET_RPS
        and main["p95_s"] <= TARGET_P95_S
        and non2xx == 0
        and socket_errors == 0
        and rows["ok"]
    )
    print(
        f"  target: ≥ {TARGET_RPS} cases/s with p95 ≤ {TARGET_P95_S * 1e3:.0f} ms, 0 non-2xx ({label}) → "
        f"{c.verdict(met)} ({c.fmt_int(main['created_per_s'])}/s, p95 {c.fmt_dur(main['p95_s'])}, non-2xx {non2xx})"
    )
    return {
        "benchmark": f"create case API, {label}",
        "figure": f"{c.fmt_int(main['created_per_s'])}/s, p95 {c.fmt_dur(main['p95_s'])}",
        "target": TARGET,
        "met": met,
        "vs_baseline": f"{ratio_rate:.3f}× bare INSERT rate ({c.fmt_int(base['rows_per_s'])}/s), p95 {ratio_p95:.0f}×",
    }


def run(backends: tuple[str, ...] = ("sqlite", "postgresql")) -> dict:
    c.heading("Create case — POST /api/v1/cases/ under wrk, gunicorn -w 2; bare INSERT as baseline")
    result: dict = {"target_rps": TARGET_RPS, "target_p95_s": TARGET_P95_S}
    summary = []
    if "sqlite" in backends:
        result["sqlite"] = _spawn("sqlite", None)
        summary.append(_print_backend("SQLite", result["sqlite"]))
    if "postgresql" in backends:
        print()
        pg = _pg_run()
        result["postgresql"] = pg
        if "skipped" in pg:
            summary.append(c.skipped("PostgreSQL", pg["skipped"], "create case API, PostgreSQL", TARGET))
        else:
            summary.append(_print_backend("PostgreSQL", pg))
            c.note(
                f"scratch database {pg['database']} "
                + ("dropped" if pg["database_dropped"] else "NOT dropped — drop it by hand")
            )
    return result | {"summary": summary}


if __name__ == "__main__":
    chosen = tuple(sys.argv[1:]) or ("sqlite", "postgresql")
    c.standalone(NAME, lambda: run(chosen))

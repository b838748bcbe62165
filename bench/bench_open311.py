"""Benchmark — Open311 ``POST /open311/v2/requests.json`` over HTTP.

Target (from the issue): ≥ 150 requests/s on 2 cores with p95 ≤ 60 ms, on SQLite and on
PostgreSQL, no non-2xx answer, a case and a token in the database for every 201.
Baselines in the same run: a bare single-row ``INSERT`` of an equivalent ``cases_case`` row per
transaction (the floor under any create, as in bench_cases_create.py), and the project's own
``POST /api/v1/cases/`` with a class on the same server for 10 s (what the Open311 layer adds).

Each database runs in a child process (``_open311_worker.py``): a temporary SQLite file, then
PostgreSQL in the scratch database ``cg_bench_open311`` (created for the run, always dropped;
skipped, saying why, when the server is unreachable). gunicorn with 2 sync workers, wrk with
BENCH_OPEN311_CONNECTIONS (default 4) connections for BENCH_OPEN311_SECONDS (default 20).

Run alone: ``.venv/bin/python bench/bench_open311.py [sqlite|postgresql]``.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as c
from _open311_worker import TARGET_P95_S, TARGET_RPS, WORKER_TIMEOUT_S

NAME = "open311"
PG_DATABASE = "cg_bench_open311"
TARGET = f"≥ {TARGET_RPS}/s, p95 ≤ {TARGET_P95_S * 1e3:.0f} ms"


def _spawn(backend: str, database_url: str | None) -> dict:
    work = c.scratch_dir(f"civicgrid-bench-open311-{backend}-")
    return c.spawn_json(
        [sys.executable, str(Path(__file__).resolve().parent / "_open311_worker.py"), backend],
        env=c.child_env(work, database_url, CIVICGRID_ALLOWED_HOSTS=c.SERVED_HOSTS),
        timeout=WORKER_TIMEOUT_S,
    )


def _pg_run() -> dict:
    return c.pg_scratch(PG_DATABASE, lambda url: _spawn("postgresql", url) | {"database": PG_DATABASE})


def _print_backend(label: str, found: dict) -> dict:
    http, base = found["http"], found["baseline"]
    c.note(
        f"{label} {found['server_version']}: load average before the run {c.fmt_load(found['load_before'])}"
        " (the 2 cores were shared with other work: every figure is slowed by it)"
    )
    if "skipped" in http:
        c.note(f"HTTP: SKIPPED — {http['skipped']}")
        return c.unmeasured(f"Open311 POST, {label}", TARGET, http["skipped"][:60])
    main, native, rows = http["main"], http["native"], found["rows"]
    non2xx = main["other"] + http["warmup"]["other"]
    sockets = sum(v for k, v in main["errors"].items() if k != "status")
    print()
    line = lambda name, r: (name, c.fmt_int(r["created"]), c.fmt_int(r["created_per_s"]), c.fmt_dur(r["p50_s"]),  # noqa: E731
                            c.fmt_dur(r["p95_s"]), c.fmt_dur(r["p99_s"]), str(r["other"]))  # fmt: skip
    print(
        c.table(
            ["", "created", "per s", "p50", "p95", "p99", "non-2xx"],
            [
                line(f"POST /open311/v2/requests.json ({found['workers']} workers)", main),
                line("POST /api/v1/cases/ (same server and class, 10 s)", native),
                ("bare INSERT of one row (1 process)", c.fmt_int(base["n"]), c.fmt_int(base["rows_per_s"]),
                 c.fmt_dur(base["p50"]), c.fmt_dur(base["p95"]), c.fmt_dur(base["p99"]), "—"),
            ],
        )
    )  # fmt: skip
    print()
    rate = c.ratio(main["created_per_s"], base["rows_per_s"])
    c.note(
        f"ratio to the bare INSERT (same run): rate {rate:.3f}×, p95 {c.ratio(main['p95_s'], base['p95']):.0f}×; "
        f"to the native intake API: rate {c.ratio(main['created_per_s'], native['created_per_s']):.2f}×, "
        f"p95 {c.ratio(main['p95_s'], native['p95_s']):.2f}×"
    )
    c.note(
        f"rows check: {rows['rows']:,} Open311 cases and {rows['tokens']:,} tokens for {rows['answered_201']:,} "
        f"answers 201 → {'OK' if rows['ok'] else 'MISMATCH'}; socket errors {sockets}"
    )
    per, nat = http["cpu"]["per_case_ms"], native["cpu_per_case_ms"]
    c.note(
        f"CPU per post: gunicorn {per['server']:.1f} ms + database {per['database']:.1f} ms + wrk "
        f"{per['load_generator']:.1f} ms; the native API, same class: gunicorn {nat['server']:.1f} ms + database "
        f"{nat['database']:.1f} ms (CPU time: robust to the other work on the machine)"
    )
    q = found["queries_per_request"]
    c.note(f"one post in-process: {q['queries']} queries")
    for sql in q["sql"]:
        c.note(f"    {sql}")
    prof = found["profile"]
    c.note(
        f"services.open311_post in-process (with the key check): p50 {c.fmt_dur(prof['unprofiled']['p50'])}, "
        f"p95 {c.fmt_dur(prof['unprofiled']['p95'])}; the project's functions by cumulative time:"
    )
    print(
        c.table(
            ["function", "calls", "cumulative", "per call"],
            [(e["function"][-80:], c.fmt_int(e["ncalls"]), f"{e['cumtime_s']:.3f} s",
              c.fmt_dur(e["cumtime_s"] / max(1, e["ncalls"]))) for e in prof["top_civicgrid"]],
            indent="    ",
            align="lrrr",
        )
    )  # fmt: skip
    met = (
        main["created_per_s"] >= TARGET_RPS
        and main["p95_s"] <= TARGET_P95_S
        and non2xx == 0
        and sockets == 0
        and rows["ok"]
    )
    print(f"  target: {TARGET}, 0 non-2xx ({label}) → {c.verdict(met)}")
    return {
        "benchmark": f"Open311 POST, {label}",
        "figure": f"{c.fmt_int(main['created_per_s'])}/s, p95 {c.fmt_dur(main['p95_s'])}",
        "target": TARGET,
        "met": met,
        "vs_baseline": f"{rate:.3f}× bare INSERT rate ({c.fmt_int(base['rows_per_s'])}/s); "
        f"{c.ratio(main['created_per_s'], native['created_per_s']):.2f}× the native API",
    }


def run(backends: tuple[str, ...] = ("sqlite", "postgresql")) -> dict:
    c.heading(
        "Open311 — POST /open311/v2/requests.json under wrk, gunicorn -w 2; bare INSERT and native API as baselines"
    )
    result: dict = {}
    summary = []
    for backend in backends:
        found = _spawn("sqlite", None) if backend == "sqlite" else _pg_run()
        result[backend] = found
        if "skipped" in found:
            c.note(f"{backend}: SKIPPED — {found['skipped']}")
            summary.append(c.unmeasured(f"Open311 POST, {backend}", TARGET, found["skipped"][:60]))
            continue
        summary.append(_print_backend("SQLite" if backend == "sqlite" else "PostgreSQL", found))
        print()
    return result | {"summary": summary}


if __name__ == "__main__":
    chosen = tuple(sys.argv[1:]) or ("sqlite", "postgresql")
    c.standalone(NAME, lambda: run(chosen))

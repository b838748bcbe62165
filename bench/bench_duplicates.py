"""Benchmark — the duplicate check on intake at 1,000,000 cases (``cases.duplicates``).

Target (from the issue): ``find_duplicates`` p95 ≤ 10 ms with 1,000,000 cases, on SQLite and on
PostgreSQL, by a spatial index rather than a scan. Baseline in the same run: a primary-key lookup
of one case through the ORM (``Case.objects.filter(pk=…).values_list(…)[:1]``), the cheapest
read the database can do.

The intakes (BENCH_DUP_CHECKS, default 3,000): half are near-duplicates (an open case of the last
two weeks reported again 0–80 m away, with similar words — each should be offered), half new
matters at random points in the district. Each is one ``find_duplicates(class, lon, lat, text,
at)`` call, timed alone; the baseline lookup runs interleaved with it. Also shown: the rows one
check reads (the index range before the exact distance test) and the query plan.

The data (``_duplicates_worker.py``): 1,000,000 ``Case`` rows written directly with the demo's
bulk writer — classes from the taxonomy (Zipf-weighted), points inside the Xuanwu grids (half
around hot spots), created over a year, ~5 % open — in a SQLite file under
/tmp/civicgrid-bench-duplicates/ and the PostgreSQL database ``cg_bench_duplicates`` (server of
BENCH_PG_DSN). Both are marked when full and reused by later runs; BENCH_DUP_REFILL=1 reloads.
BENCH_DUP_CASES and BENCH_DUP_SEED choose the data.

Run alone: ``.venv/bin/python bench/bench_duplicates.py [sqlite|postgresql]``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as c
from _duplicates_worker import META_TABLE, N_CASES, SEED, TARGET_P95_S, fill_key

NAME = "duplicates"
PG_DATABASE = "cg_bench_duplicates"
CACHE_DIR = Path(os.environ.get("BENCH_DUP_CACHE", "/tmp/civicgrid-bench-duplicates"))
REFILL = os.environ.get("BENCH_DUP_REFILL") == "1"
WORKER_TIMEOUT_S = 3 * 3600


def _run(backend: str) -> dict:
    return c.kept_worker_run(
        backend,
        command=[sys.executable, str(Path(__file__).resolve().parent / "_duplicates_worker.py")],
        cache_dir=CACHE_DIR,
        tag=f"cases{N_CASES}-seed{SEED}",
        pg_database=PG_DATABASE,
        table=META_TABLE,
        key=fill_key(),
        refill=REFILL,
        timeout=WORKER_TIMEOUT_S,
    )


def _print(label: str, found: dict) -> dict:
    data, check, base = found["data"], found["check"], found["baseline"]
    how = "reused" if data["reused"] else f"loaded now in {data['load_s']:.0f} s"
    c.note(
        f"{label} ({found['server_version']}): {found['cases']:,} cases, {found['open_share']:.1%} open — {how}"
    )
    p95 = check["p95"]
    rows = [
        [
            "find_duplicates",
            c.fmt_dur(check["p50"]),
            c.fmt_dur(p95),
            c.fmt_dur(check["p99"]),
            c.fmt_ratio(c.ratio(base["p95"], p95)),
        ],
        [
            "baseline: primary-key lookup",
            c.fmt_dur(base["p50"]),
            c.fmt_dur(base["p95"]),
            c.fmt_dur(base["p99"]),
            "1",
        ],
    ]
    if "intake" in found:
        it = found["intake"]
        rows.append(["intake_candidates (locate + suggest + check)", c.fmt_dur(it["p50"]), c.fmt_dur(it["p95"]),
                     c.fmt_dur(it["p99"]), c.fmt_ratio(c.ratio(base["p95"], it["p95"]))])  # fmt: skip
    if "check_cpu" in found:  # this thread's CPU time (the server's share not included)
        cpu, base_cpu = found["check_cpu"], found["baseline_cpu"]
        rows += [
            ["find_duplicates, CPU time", c.fmt_dur(cpu["p50"]), c.fmt_dur(cpu["p95"]), c.fmt_dur(cpu["p99"]),
             c.fmt_ratio(c.ratio(base_cpu["p95"], cpu["p95"]))],
            ["baseline, CPU time", c.fmt_dur(base_cpu["p50"]), c.fmt_dur(base_cpu["p95"]), c.fmt_dur(base_cpu["p99"]), "1"],
        ]  # fmt: skip
    print(c.table(["", "p50", "p95", "p99", "× baseline p95"], rows))
    if "load_average" in found:
        c.note("load average while timing: " + ", ".join(f"{x:.1f}" for x in found["load_average"]))
    c.note(
        f"{found['checks']:,} checks; near-duplicates offered their case in {found['near_duplicate_offered_share']:.0%}; "
        f"{found['candidates_mean']} candidates on average; rows read per check {found['rows_read_mean']} "
        f"(max {found['rows_read_max']})"
    )
    c.note("plan:")
    for line in found["plan"].splitlines():
        c.note("  " + line[:110])
    met = p95 <= TARGET_P95_S
    c.note(f"target p95 ≤ {TARGET_P95_S * 1e3:.0f} ms: {c.verdict(met)}")
    return {"p95_s": p95, "baseline_p95_s": base["p95"], "met": met}


def run(backends: tuple[str, ...] = ("sqlite", "postgresql")) -> dict:
    c.heading(f"Duplicate check at {N_CASES:,} cases (target p95 ≤ {TARGET_P95_S * 1e3:.0f} ms)")
    out: dict = {}
    for backend in backends:
        found = _run(backend)
        if "skipped" in found:
            c.note(f"{backend}: skipped — {found['skipped']}")
            out[backend] = found
            continue
        out[backend] = found | {"summary": _print(backend, found)}
    return out


if __name__ == "__main__":
    chosen = tuple(sys.argv[1:]) or ("sqlite", "postgresql")
    c.standalone(NAME, lambda: run(chosen))

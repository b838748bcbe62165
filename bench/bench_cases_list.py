"""Benchmark 6 — the case list at 1,000,000 cases: the queries the list screen and the API make.

Target (from the issue): every typical list query p95 ≤ 100 ms with 1,000,000 cases, with the
indexes each one uses shown. Baseline in the same run: a plain ``SELECT … FROM cases_case ORDER BY
created_at DESC, id DESC LIMIT 50`` (no filter, no join, no count).

Each query is what ``GET /api/v1/cases/`` runs: ``selectors.case_list(scope=…, filters=…)`` with
the reader's scope, its first page of 50 evaluated, plus the capped count
``found.order_by()[:10001].count()``. Readers: the district operator (no scope filter), a street
operator, the grid worker of a typical grid, the handler of the busiest department. Filters: none,
state, class (a minor and a major one), overdue, the last 30 days, text (a common word and a word
that matches nothing). Plans: PostgreSQL EXPLAIN (ANALYZE, BUFFERS), SQLite EXPLAIN QUERY PLAN.
When a query misses the target, candidate indexes are created by hand in the scratch database,
timed and dropped again (set BENCH_LIST_ALL_CANDIDATES=1 to try them all).

The data: ``demo_load(cases=N)`` — the bulk loader behind ``civicgrid demo --cases N`` — fills
a SQLite file under /tmp/civicgrid-bench-list/ and the PostgreSQL database ``cg_bench_list`` (its
var dir, with the PII key file the reporters' names were encrypted with, next to the SQLite file) once;
both are marked (table ``bench_list_meta``, keyed by N and seed) and reused by later runs, so only
the first run pays for the load. BENCH_LIST_REFILL=1 reloads; BENCH_LIST_DROP=1 removes both at
the end. BENCH_LIST_CASES (default 1,000,000) and BENCH_LIST_SEED (default 2026) choose the data.

Run alone: ``.venv/bin/python bench/bench_cases_list.py [sqlite|postgresql]``.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as c
from _cases_list_worker import META_TABLE, N_CASES, SEED, TARGET_P95_S, TYPICAL, WORKER_TIMEOUT_S, fill_key

NAME = "cases_list"
PG_DATABASE = "cg_bench_list"
CACHE_DIR = Path(os.environ.get("BENCH_LIST_CACHE", "/tmp/civicgrid-bench-list"))
REFILL = os.environ.get("BENCH_LIST_REFILL") == "1"
DROP = os.environ.get("BENCH_LIST_DROP") == "1"


def _spawn(backend: str, var_dir: Path, database_url: str | None) -> dict:
    return c.spawn_json(  # stderr passes through: a first fill prints its progress
        [sys.executable, str(Path(__file__).resolve().parent / "_cases_list_worker.py"), backend],
        env=c.child_env(var_dir, database_url),
        timeout=WORKER_TIMEOUT_S,
        passes="stderr",
    )


# --- the cached databases -----------------------------------------------------------------------
def _sqlite_run() -> dict:
    var = CACHE_DIR / f"sqlite-cases{N_CASES}-seed{SEED}"
    c.sqlite_kept(var, table=META_TABLE, key=fill_key(), refill=REFILL)
    try:
        return _spawn("sqlite", var, None) | {"cache": str(var)}
    finally:
        if DROP:
            shutil.rmtree(var, ignore_errors=True)


def _pg_run() -> dict:
    # The var dir holds the PII key file the demo's encrypted columns were written with.
    var = CACHE_DIR / f"postgresql-var-cases{N_CASES}-seed{SEED}"
    return c.pg_kept(
        PG_DATABASE,
        var,
        lambda url: _spawn("postgresql", var, url) | {"database": PG_DATABASE, "kept": not DROP},
        table=META_TABLE,
        key=fill_key(),
        refill=REFILL,
        drop=DROP,
    )


# --- printing -----------------------------------------------------------------------------------
_NODE = ("->", "Limit", "Aggregate", "Sort", "Index", "Seq Scan", "Bitmap", "Nested", "Hash", "Gather")


def _condensed(plan: str, vendor: str, width: int = 118) -> list[str]:
    """The plan's nodes (and their conditions, on PostgreSQL), cut to one screen line each."""
    out = []
    for line in plan.splitlines():
        text = line.rstrip()
        stripped = text.strip()
        if vendor == "postgresql":
            keep = stripped.startswith(_NODE) or stripped.startswith(
                ("Index Cond", "Filter", "Rows Removed", "Execution Time", "Sort Key", "Recheck")
            )
            if not keep:
                continue
            text = text.replace("  ->  ", "→ ")
        out.append(text[:width])
    return out


def _print_backend(label: str, found: dict) -> list[dict]:
    data, prof = found["data"], found["profile"]
    vendor = "postgresql" if found["backend"] == "postgresql" else "sqlite"
    how = (
        f"reused (loaded {data.get('loaded_at', '?')[:10]} in {data['load_s']:.0f} s)"
        if data["reused"]
        else f"loaded now with demo_load(cases={data['requested']:,}) in {data['load_s']:.0f} s + ANALYZE "
        f"{data['analyze_s']:.0f} s"
    )
    c.note(
        f"{label} {found['server_version']}: {prof['cases']:,} cases, {prof['events']:,} events, "
        f"{prof['units']:,} units — {how}"
    )
    states = sorted(prof["by_state"].items(), key=lambda kv: -kv[1])
    c.note(
        f"created {prof['first_created'][:10]} … {prof['last_created'][:10]}; states: "
        + ", ".join(f"{k} {v / prof['cases']:.0%}" for k, v in states)
    )
    c.note("indexes on cases_case: " + ", ".join(found["indexes"]))

    def reach(r: dict) -> str:
        return "everything" if r["everything"] else f"{r['regions']} regions, {r['departments']} departments"

    c.note(
        "readers: " + "; ".join(f"{k} = {r['username']} ({reach(r)})" for k, r in found["readers"].items())
    )
    print()
    base = found["queries"]["baseline"]
    rows = []
    for name in [*TYPICAL, "baseline"]:
        q = found["queries"].get(name)
        if q is None:
            continue
        plans = found["plans"][name]
        is_base = name == "baseline"
        rows.append(
            (
                "plain SELECT … ORDER BY created_at DESC LIMIT 50 (baseline)" if is_base else q["title"],
                "—" if is_base else str(q["page_rows"]),
                "—"
                if is_base
                else (c.fmt_int(min(q["count"], 10_000)) + ("+" if q["count"] > 10_000 else "")),
                c.fmt_dur(q["p50"]),
                c.fmt_dur(q["p95"]),
                f"{q['p95'] / base['p95']:.1f}×",
                "" if is_base else ("✓" if q["p95"] <= TARGET_P95_S else "MISSED"),
                ", ".join(plans["page"]["indexes"]) or "—",
                "—" if is_base else (", ".join(plans["count"]["indexes"]) or "—"),
            )
        )
    print(
        c.table(
            [
                "query (first page of 50 + count capped at 10,001)",
                "page",
                "count",
                "p50",
                "p95",
                "p95 ÷ base",
                "≤ 100 ms",
                "page uses",
                "count uses",
            ],
            rows,
            align="lrrrrrlll",
        )
    )
    n_runs = min(q["n"] for q in found["queries"].values())
    c.note(f"≥ {n_runs} runs per query in alternating rounds after a warm-up ({found['timing_s']:.0f} s)")
    print()
    c.note(
        "plans (PostgreSQL: EXPLAIN (ANALYZE, BUFFERS), nodes and conditions; SQLite: EXPLAIN QUERY PLAN):"
        if vendor == "postgresql"
        else "plans (EXPLAIN QUERY PLAN):"
    )
    for name in [*TYPICAL, "baseline"]:
        if name not in found["plans"]:
            continue
        title = "baseline" if name == "baseline" else found["queries"][name]["title"]
        for part in ("page", "count") if name != "baseline" else ("page",):
            print(f"    [{name} · {part}] {title}")
            for line in _condensed(found["plans"][name][part]["plan"], vendor):
                print(f"      {line}")
    missed = [n for n in TYPICAL if n in found["queries"] and found["queries"][n]["p95"] > TARGET_P95_S]
    if found["candidates"]:
        print()
        c.note("candidate indexes, created by hand in the scratch database, timed, dropped again:")
        cand_rows = []
        for cand in found["candidates"]:
            if "error" in cand:
                cand_rows.append((cand["name"], ", ".join(cand["for"]), "—", "—", "—", cand["error"][:50]))
                continue
            for q, fig in cand["queries"].items():
                cand_rows.append(
                    (
                        cand["name"],
                        q,
                        c.fmt_dur(fig["before_p95"]),
                        c.fmt_dur(fig["p95"]),
                        f"{fig['before_p95'] / fig['p95']:.1f}×",
                        ", ".join(fig["page_indexes"]) + " | " + ", ".join(fig["count_indexes"]),
                    )
                )
        print(
            c.table(
                ["index", "query", "p95 before", "p95 with it", "faster", "page | count use"],
                cand_rows,
                indent="    ",
                align="llrrrl",
            )
        )
        for cand in found["candidates"]:
            print(f"    {cand['name']}: {cand['sql']}  — {cand['why']}")
    met = not missed
    fixed = {
        q: cand["name"]
        for cand in found["candidates"]
        for q, fig in cand.get("queries", {}).items()
        if q in missed and fig["p95"] <= TARGET_P95_S
    }
    if missed:
        still = [q for q in missed if q not in fixed]
        c.note(
            "with the candidate indexes: "
            + (", ".join(f"{q} → {fixed[q]}" for q in missed if q in fixed) or "none of the misses fixed")
            + (f"; still missed: {', '.join(still)}" if still else "; every typical query within the target")
        )
    worst = max(TYPICAL, key=lambda n: found["queries"].get(n, {"p95": 0})["p95"])
    print(
        f"  target: every typical list query p95 ≤ {TARGET_P95_S * 1e3:.0f} ms at {prof['cases']:,} cases "
        f"({label}) → {c.verdict(met)}"
        + (
            f" (missed: {', '.join(missed)})"
            if missed
            else f" (worst: {worst}, p95 {c.fmt_dur(found['queries'][worst]['p95'])})"
        )
    )
    return [
        {
            "benchmark": f"case list, {prof['cases'] / 1e6:.1f}M cases, {label}",
            "figure": f"worst p95 {c.fmt_dur(found['queries'][worst]['p95'])} ({worst})",
            "target": f"p95 ≤ {TARGET_P95_S * 1e3:.0f} ms",
            "met": met,
            "vs_baseline": f"{found['queries'][worst]['p95'] / base['p95']:.1f}× plain SELECT p95 ({c.fmt_dur(base['p95'])})"
            + (
                f"; missed {len(missed)}, {len([q for q in missed if q not in fixed])} with the candidate indexes"
                if missed
                else ""
            ),
        }
    ]


def run(backends: tuple[str, ...] = ("sqlite", "postgresql")) -> dict:
    c.heading(f"Case list — selectors.case_list page + capped count at {N_CASES:,} cases")
    result: dict = {"target_p95_s": TARGET_P95_S, "n_cases": N_CASES, "seed": SEED}
    summary = []
    if "sqlite" in backends:
        result["sqlite"] = _sqlite_run()
        summary += _print_backend("SQLite", result["sqlite"])
    if "postgresql" in backends:
        print()
        pg = _pg_run()
        result["postgresql"] = pg
        if "skipped" in pg:
            target = f"p95 ≤ {TARGET_P95_S * 1e3:.0f} ms"
            summary.append(c.skipped("PostgreSQL", pg["skipped"], "case list, PostgreSQL", target))
        else:
            summary += _print_backend("PostgreSQL", pg)
            c.note(f"database {pg['database']} " + ("kept for the next run" if pg["kept"] else "dropped"))
    return result | {"summary": summary}


if __name__ == "__main__":
    chosen = tuple(sys.argv[1:]) or ("sqlite", "postgresql")
    c.standalone(NAME, lambda: run(chosen))

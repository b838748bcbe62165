"""The child process of bench_cases_list.py: one database of N cases, the list queries timed.

Run by bench_cases_list.py as ``python bench/_cases_list_worker.py BACKEND OUT.json`` with the
environment that selects the database (Django settings can be set only once per process).

1. ``migrate``; when the database is not marked filled for (N, seed), load the demo with N cases
   (``demo_load(cases=N)``, the bulk loader behind ``civicgrid demo --cases N``), ANALYZE (PostgreSQL:
   VACUUM ANALYZE), and mark
   it (table ``bench_list_meta``) so that the next run reuses it;
2. the readers: the district operator, a street operator, a grid worker, a department handler
   (``scope_for``), and the filters the list screen and ``GET /api/v1/cases/`` send;
3. each query as the API runs it — ``selectors.case_list(scope=…, filters=CaseFilter(…))``, the
   first page of 50 evaluated, plus the capped count ``found.order_by()[:10001].count()`` — timed
   in alternating rounds after a warm-up, next to the baseline (a plain ``SELECT … ORDER BY
   created_at DESC LIMIT 50`` on the table, no filter, no join, no count);
4. the plan of each page query and count query as executed (PostgreSQL: EXPLAIN ANALYZE; SQLite:
   EXPLAIN QUERY PLAN);
5. candidate indexes, each created by hand in this scratch database, timed on the queries it is
   for, and dropped again (the lead owns migrations; nothing here changes the models).
"""

from __future__ import annotations

import inspect
import json
import os
import re
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as c

N_CASES = max(1_000, int(os.environ.get("BENCH_LIST_CASES", "1000000")))
SEED = int(os.environ.get("BENCH_LIST_SEED", "2026"))  # the demo's default seed
PAGE = 50
COUNT_CAP = 10_000  # as civicgrid/cases/selectors.py
TARGET_P95_S = 0.100
MIN_RUNS = 30
ROUNDS = 6  # each round runs every query MIN_RUNS / ROUNDS times, the order rotating
QUERY_SECONDS = 100.0  # a bound on the timing; every query still gets MIN_RUNS runs
WORKER_TIMEOUT_S = 4 * 3600  # a first fill of 1,000,000 cases takes a while
META_TABLE = "bench_list_meta"


def _log(text: str) -> None:
    print(f"  [{os.environ.get('BENCH_LIST_BACKEND', '?')}] {text}", file=sys.stderr, flush=True)


# --- the data ----------------------------------------------------------------------------------
def fill_key() -> str:
    return f"cases={N_CASES};seed={SEED}"


def _meta_get() -> dict | None:
    from django.db import connection

    if META_TABLE not in connection.introspection.table_names():
        return None
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT value FROM {META_TABLE} WHERE key = %s", [fill_key()])
        row = cursor.fetchone()
    return json.loads(row[0]) if row else None


def _meta_set(value: dict) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE IF NOT EXISTS {META_TABLE} (key varchar(200) PRIMARY KEY, value text)")
        cursor.execute(f"DELETE FROM {META_TABLE} WHERE key = %s", [fill_key()])
        cursor.execute(
            f"INSERT INTO {META_TABLE} (key, value) VALUES (%s, %s)", [fill_key(), json.dumps(value)]
        )


def _analyze() -> None:
    """Statistics, and on PostgreSQL the visibility map too (VACUUM): the steady state autovacuum
    reaches after a bulk load, without which counts cannot use index-only scans."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")


def _ensure_data(backend: str) -> dict:
    """The database filled with N demo cases: reused when marked, otherwise loaded now."""
    from django.core.management import call_command
    from django.db import connection

    from civicgrid.cases.models import Case
    from civicgrid.demo.loader import demo_load

    t0 = time.perf_counter()
    call_command("migrate", verbosity=0)
    migrate_s = time.perf_counter() - t0
    meta = _meta_get()
    if meta is not None:
        return meta | {"reused": True, "migrate_s": migrate_s}
    if Case.objects.exists():
        raise RuntimeError(
            "the scratch database holds cases but no completion mark; the parent wipes it first"
        )
    if "cases" not in inspect.signature(demo_load).parameters:
        raise RuntimeError(
            "demo_load() has no `cases` parameter: the bulk loader (civicgrid/demo/cases_year.py) is missing"
        )
    _log(
        f"filling with {N_CASES:,} demo cases (demo_load(cases={N_CASES}), seed {SEED}) — once; later runs reuse it"
    )
    t0 = time.perf_counter()
    result = demo_load(seed=SEED, people=True, cases=N_CASES, progress=_log)
    load_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    _analyze()
    analyze_s = time.perf_counter() - t0
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    meta = {
        "cases": Case.objects.count(),
        "requested": N_CASES,
        "seed": SEED,
        "load_s": load_s,
        "loader_s": getattr(result.cases, "seconds", None),
        "analyze_s": analyze_s,
        "loaded_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "git_commit": c.machine_info()["git_commit"],
    }
    _meta_set(meta)
    return meta | {"reused": False, "migrate_s": migrate_s}


def _data_profile() -> dict:
    """What the table holds: sizes and the distributions the queries depend on."""
    from django.db.models import Count, Max, Min

    from civicgrid.cases.models import Case, CaseEvent, CaseUnit

    by_state = dict(Case.objects.order_by().values_list("state").annotate(n=Count("id")))
    span = Case.objects.aggregate(first=Min("created_at"), last=Max("created_at"))
    return {
        "cases": sum(by_state.values()),
        "events": CaseEvent.objects.count(),
        "units": CaseUnit.objects.count(),
        "by_state": by_state,
        "first_created": span["first"].isoformat(),
        "last_created": span["last"].isoformat(),
    }


# --- the queries -------------------------------------------------------------------------------
def _readers() -> dict:
    from django.db.models import Count

    from civicgrid.accounts.models import GridPost, GridStaffing, Role, RoleAssignment, User
    from civicgrid.accounts.scopes import scope_for
    from civicgrid.cases.models import Case
    from civicgrid.regions.models import Level, Region

    street = Region.objects.filter(level=Level.STREET, statistical_only=False).order_by("code").first()
    # The grid worker of the grid with the median number of cases (a typical grid, not an extreme).
    per_grid = sorted(
        Case.objects.order_by().values_list("grid_id").annotate(n=Count("id")), key=lambda r: r[1]
    )
    grid_id = per_grid[len(per_grid) // 2][0]
    post = (
        GridStaffing.objects.filter(grid_id=grid_id, post=GridPost.FULL_TIME, end__isnull=True)
        .select_related("user")
        .first()
    )
    # The department with the most cases waiting on it (the busiest inbox).
    busiest = (
        Case.objects.filter(state__in=["dispatched", "handling"], department__isnull=False)
        .order_by()
        .values_list("department_id")
        .annotate(n=Count("id"))
        .order_by("-n")
        .first()
    )
    handler = (
        RoleAssignment.objects.filter(role=Role.DEPARTMENT_HANDLER, department_id=busiest[0])
        .select_related("user")
        .first()
    )
    users = {
        "district": User.objects.get(username="operator"),
        "street": User.objects.get(username=f"street-{street.code[:9]}"),
        "grid": post.user,
        "department": handler.user,
    }
    return {key: (user, scope_for(user)) for key, user in users.items()}


def _queries(readers: dict) -> dict:
    """name → (reader, CaseFilter, what it is)."""
    from django.db.models import Count

    from civicgrid.cases.models import Case, CaseClass
    from civicgrid.cases.selectors import CaseFilter

    last = Case.objects.order_by("-created_at").values_list("created_at", flat=True).first()
    top_class = (
        Case.objects.filter(case_class__isnull=False)
        .order_by()
        .values_list("case_class_id")
        .annotate(n=Count("id"))
        .order_by("-n")
        .first()
    )
    minor = CaseClass.objects.get(pk=top_class[0])
    day = last.date()
    # A word many titles carry (the demo's titles are a place plus the class name).
    word = minor.name[:2]
    return {
        "district": ("district", CaseFilter(), "district operator, no filter"),
        "district_state": ("district", CaseFilter(state=["handling"]), "district operator, state=handling"),
        "street_state": ("street", CaseFilter(state=["handling"]), "street operator's scope, state=handling"),
        "grid": ("grid", CaseFilter(), "grid worker's scope (one grid)"),
        "department": (
            "department",
            CaseFilter(state=["dispatched", "handling"]),
            "department handler's scope, dispatched+handling",
        ),
        "class": (
            "district",
            CaseFilter(case_class=minor.code),
            f"class {minor.code} ({minor.name_en or minor.name})",
        ),
        "major": (
            "district",
            CaseFilter(case_class=minor.parent.code),
            f"major class {minor.parent.code} (all its minors)",
        ),
        "overdue": ("district", CaseFilter(overdue=True), "overdue=true"),
        "last30": (
            "district",
            CaseFilter(date_from=day - timedelta(days=29), date_to=day),
            f"created in the last 30 days of the data (to {day})",
        ),
        "text": ("district", CaseFilter(text=word), f"text search q={word}"),
        "text_rare": ("district", CaseFilter(text="无此词语"), "text search, no match (q=无此词语)"),
    }


TYPICAL = (
    "district",
    "district_state",
    "street_state",
    "grid",
    "department",
    "class",
    "major",
    "overdue",
    "last30",
    "text",
    "text_rare",
)


def _runner(scope, filters):
    from civicgrid.cases import selectors

    def run() -> tuple[int, int]:
        page = list(selectors.case_list(scope=scope, filters=filters)[:PAGE])
        count = selectors.case_count(scope=scope, filters=filters)
        return len(page), count

    return run


def _baseline():
    from civicgrid.cases.models import Case

    def run() -> tuple[int, int]:
        return len(list(Case.objects.order_by("-created_at", "-id")[:PAGE])), 0

    return run


def _timed(variants: dict, runs: int, max_seconds: float) -> dict[str, list[int]]:
    """Per-call ns of each variant; rounds rotate the order so that drift hits all alike."""
    keys = list(variants)
    samples: dict[str, list[int]] = {k: [] for k in keys}
    per_round = max(1, runs // ROUNDS)
    deadline = time.perf_counter() + max_seconds
    r = 0
    while min(len(v) for v in samples.values()) < runs:
        order = keys[r % len(keys) :] + keys[: r % len(keys)]
        if r % 2:
            order.reverse()
        for key in order:
            if len(samples[key]) >= runs:
                continue
            fn = variants[key]
            for _ in range(per_round):
                t0 = time.perf_counter_ns()
                fn()
                samples[key].append(time.perf_counter_ns() - t0)
        r += 1
        if time.perf_counter() > deadline and r >= 2:
            break
    return samples


# --- plans ---------------------------------------------------------------------------------------
def _capture_sql(fn) -> list[tuple[str, tuple]]:
    from django.db import connection

    captured: list[tuple[str, tuple]] = []

    def wrapper(execute, sql, params, many, context):
        captured.append((sql, params))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(wrapper):
        fn()
    return captured


def _explain(sql: str, params) -> str:
    from django.db import connection

    prefix = "EXPLAIN (ANALYZE, BUFFERS)" if connection.vendor == "postgresql" else "EXPLAIN QUERY PLAN"
    with connection.cursor() as cursor:
        cursor.execute(f"{prefix} {sql}", params)
        rows = cursor.fetchall()
    if connection.vendor == "postgresql":
        return "\n".join(r[0] for r in rows)
    # SQLite: (id, parent, notused, detail), indented by depth
    depth: dict[int, int] = {0: -1}
    lines = []
    for node, parent, _unused, detail in rows:
        depth[node] = depth.get(parent, -1) + 1
        lines.append("  " * depth[node] + detail)
    return "\n".join(lines)


def indexes_in(plan: str) -> list[str]:
    """Index names a plan mentions (both engines), in order, once each."""
    found = []
    for line in plan.splitlines():
        for m in re.finditer(
            r"(?:Index(?: Only)? Scan(?: Backward)? using|Bitmap Index Scan on|INDEX) (\w+)", line
        ):
            if m.group(1) not in found and not m.group(1).isdigit():
                found.append(m.group(1))
        virtual = re.search(r"SCAN (\w+) VIRTUAL TABLE", line)  # SQLite's FTS5 text index
        if virtual and f"{virtual.group(1)} (FTS5)" not in found:
            found.append(f"{virtual.group(1)} (FTS5)")
        # A full read of the cases table: PostgreSQL's Seq Scan, SQLite's SCAN without an index.
        if re.search(r"Seq Scan on cases_case\b|^\s*SCAN cases_case\s*$", line) and "full scan" not in found:
            found.append("full scan")
    return found


def _plans(run) -> dict:
    """The page and count statements as executed, and their plans."""
    statements = [(s, p) for s, p in _capture_sql(run) if s.lstrip().upper().startswith("SELECT")]
    # Each of the page and the count is preceded by the selector's own small lookups (a class or
    # region code, how common a searched word is): the page is the ordered read, the count the last.
    page_sql = next(st for st in reversed(statements) if 'FROM "cases_case"' in st[0] and "ORDER BY" in st[0])
    count_sql = statements[-1]
    out = {}
    for key, (sql, params) in (("page", page_sql), ("count", count_sql)):
        plan = _explain(sql, params)
        out[key] = {"sql": sql, "plan": plan, "indexes": indexes_in(plan)}
    return out


# --- candidate indexes -------------------------------------------------------------------------
def _candidates(vendor: str) -> list[dict]:
    """Indexes to try by hand: name, DDL per engine, the queries they are for, why."""
    out = [
        {
            "name": "bench_case_grid_newest",
            "sql": "CREATE INDEX bench_case_grid_newest ON cases_case (grid_id, created_at DESC, id DESC)",
            "for": ["grid"],
            "why": "grid worker's list: (grid, newest) instead of (grid, state) + sort",
        },
        {
            "name": "bench_case_department_newest",
            "sql": "CREATE INDEX bench_case_department_newest ON cases_case (department_id, created_at DESC, id DESC)",
            "for": ["department"],
            "why": "department inbox ordered by newest",
        },
        {
            "name": "bench_case_overdue",
            "sql": (
                "CREATE INDEX bench_case_overdue ON cases_case (stage_deadline) "
                "WHERE paused_at IS NULL AND stage_deadline IS NOT NULL"
            ),
            "for": ["overdue"],
            "why": "overdue filter: open, running clocks by deadline",
        },
    ]
    if vendor == "postgresql":
        out.append(
            {
                "name": "bench_case_text_trgm",
                "sql": (
                    "CREATE INDEX bench_case_text_trgm ON cases_case USING gin "
                    "(UPPER(title) gin_trgm_ops, UPPER(description) gin_trgm_ops, UPPER(address) gin_trgm_ops)"
                ),
                "needs": "CREATE EXTENSION IF NOT EXISTS pg_trgm",
                "for": ["text", "text_rare"],
                "why": "text search (icontains → UPPER(col) LIKE UPPER(%q%)) with trigrams",
            }
        )
    return out


def _try_candidates(variants: dict, baseline, typical_p95: dict) -> list[dict]:
    from django.db import connection

    results = []
    slow = {k for k, p95 in typical_p95.items() if p95 > TARGET_P95_S}
    for cand in _candidates(connection.vendor):
        targets = [q for q in cand["for"] if q in variants]
        if not targets or (not (slow & set(targets)) and os.environ.get("BENCH_LIST_ALL_CANDIDATES") != "1"):
            continue
        entry = {k: cand[k] for k in ("name", "sql", "for", "why")}
        try:
            with connection.cursor() as cursor:
                if cand.get("needs"):
                    cursor.execute(cand["needs"])
                t0 = time.perf_counter()
                cursor.execute(cand["sql"])
                entry["build_s"] = time.perf_counter() - t0
                cursor.execute("ANALYZE cases_case")
            for q in targets:
                variants[q]()  # warm
            samples = _timed({**{q: variants[q] for q in targets}, "baseline": baseline}, MIN_RUNS, 60.0)
            entry["queries"] = {}
            for q in targets:
                fig = c.percentiles_s(samples[q], qs=(50, 95))
                plans = _plans(variants[q])
                entry["queries"][q] = fig | {
                    "before_p95": typical_p95[q],
                    "page_indexes": plans["page"]["indexes"],
                    "count_indexes": plans["count"]["indexes"],
                    "page_plan": plans["page"]["plan"],
                    "count_plan": plans["count"]["plan"],
                }
            entry["baseline_p95"] = c.percentiles_s(samples["baseline"], qs=(95,))["p95"]
        except Exception as exc:  # a candidate that cannot be built is reported, not fatal
            entry["error"] = f"{type(exc).__name__}: {str(exc).strip().splitlines()[0]}"
        finally:
            with connection.cursor() as cursor:
                cursor.execute(f"DROP INDEX IF EXISTS {cand['name']}")
        results.append(entry)
    return results


# --- the child ---------------------------------------------------------------------------------
def _worker(backend: str, out_path: Path) -> None:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "civicgrid.settings")
    os.environ["BENCH_LIST_BACKEND"] = backend
    django.setup()
    from django.db import connection

    from civicgrid.cases.models import Case

    result: dict = {"backend": backend, "n_cases": N_CASES, "seed": SEED}
    result["data"] = _ensure_data(backend)
    with connection.cursor() as cursor:
        cursor.execute("SELECT sqlite_version()" if backend == "sqlite" else "SHOW server_version")
        result["server_version"] = cursor.fetchone()[0]
    result["profile"] = _data_profile()
    result["indexes"] = sorted(
        name
        for name, info in connection.introspection.get_constraints(
            connection.cursor(), Case._meta.db_table
        ).items()
        if info.get("index") or info.get("unique") or info.get("primary_key")
    )
    readers = _readers()
    queries = _queries(readers)
    result["readers"] = {
        key: {
            "username": user.username,
            "roles": sorted(scope.roles),
            "regions": len(scope.region_ids),
            "departments": len(scope.department_ids),
            "everything": scope.everything,
        }
        for key, (user, scope) in readers.items()
    }
    variants = {
        name: _runner(readers[reader][1], filters) for name, (reader, filters, _title) in queries.items()
    }
    baseline = _baseline()

    _log("warming up and reading the plans …")
    answers = {name: fn() for name, fn in variants.items()}
    baseline()
    plans = {name: _plans(fn) for name, fn in variants.items()}
    plans["baseline"] = _plans(lambda: (baseline(), baseline()))
    _log(f"timing {len(variants)} queries + the baseline, ≥ {MIN_RUNS} runs each …")
    t0 = time.perf_counter()
    samples = _timed({**variants, "baseline": baseline}, MIN_RUNS, QUERY_SECONDS)
    result["timing_s"] = time.perf_counter() - t0
    figures = {}
    for name in [*variants, "baseline"]:
        figures[name] = c.percentiles_s(samples[name], qs=(50, 95, 99))
        if name != "baseline":
            figures[name] |= {
                "title": queries[name][2],
                "page_rows": answers[name][0],
                "count": answers[name][1],
            }
    result["queries"] = figures
    result["plans"] = plans
    typical_p95 = {name: figures[name]["p95"] for name in TYPICAL if name in figures}
    _log("trying candidate indexes on the queries over the target …")
    result["candidates"] = _try_candidates(variants, baseline, typical_p95)
    out_path.write_text(json.dumps(result, indent=2, ensure_ascii=False, default=str), encoding="utf-8")


if __name__ == "__main__":
    _worker(sys.argv[1], Path(sys.argv[2]))

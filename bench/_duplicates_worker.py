"""Worker of bench_duplicates.py: fill (once) and time one database. Run by the parent with the
database in CIVICGRID_DATABASE_URL (or a SQLite file in CIVICGRID_VAR_DIR); writes a JSON result.

The rows are ``Case`` objects made directly (not through the services: the demo's year takes
~9 minutes per million because it plays every move) and written with the demo's lean bulk writer
(``civicgrid.bulk.Table``, COPY on PostgreSQL) with the secondary indexes built after the
load: realistic columns — 小类 drawn with the taxonomy's weights, points inside the Xuanwu grids
(half around 3,000 hot spots, as complaints cluster), created over the past year, ~5 % open.
"""

from __future__ import annotations

import os
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as c

N_CASES = int(os.environ.get("BENCH_DUP_CASES", "1000000"))
SEED = int(os.environ.get("BENCH_DUP_SEED", "2026"))
CHECKS = int(os.environ.get("BENCH_DUP_CHECKS", "3000"))
META_TABLE = "bench_duplicates_meta"
TARGET_P95_S = 0.010
NOW = datetime(2026, 11, 28, 6, 0, tzinfo=UTC)
CHUNK = 20_000
OPEN_SHARE, VOID_SHARE = 0.05, 0.05
WORDS = ["楼道", "门口", "路边", "小区", "围墙", "路口", "河边", "广场", "菜场", "公交站"]
PHRASES = ["已经好几天了", "居民反映强烈", "影响出行", "请尽快处理", "晚上尤其严重", "多次反映未解决"]


def _log(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


def fill_key() -> str:
    return f"cases={N_CASES};seed={SEED};v=1"


def _points(rng, loaded, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``n`` points inside the grids: half uniform, half within ~150 m of 3,000 hot spots."""
    west, south, east, north = c.XUANWU_BBOX
    lon, lat, where = [], [], []
    hot = None
    while sum(len(x) for x in lon) < n:
        m = n
        x, y = rng.uniform(west, east, m), rng.uniform(south, north, m)
        if hot is None:
            inside = loaded.index.locate_many(x, y) >= 0
            hot = (x[inside][:3000], y[inside][:3000])
        k = m // 2
        pick = rng.integers(0, len(hot[0]), k)
        x[:k] = hot[0][pick] + rng.normal(0, 0.0012, k)
        y[:k] = hot[1][pick] + rng.normal(0, 0.001, k)
        found = loaded.index.locate_many(x, y)
        keep = found >= 0
        lon.append(x[keep])
        lat.append(y[keep])
        where.append(found[keep])
    return np.concatenate(lon)[:n], np.concatenate(lat)[:n], np.concatenate(where)[:n]


def _fill() -> dict:
    from django.db import connection, transaction

    from civicgrid import bulk
    from civicgrid.cases.models import OPEN_STATES, Case, CaseClass, CaseState, Stage
    from civicgrid.demo import loader
    from civicgrid.geo.cells import cell_of
    from civicgrid.regions import locator

    started = time.perf_counter()
    _log("the demo geography, staff and taxonomy …")
    loader.demo_load(people=True, cases=0, progress=_log)
    loaded = locator.loaded_index(None)
    minors = list(CaseClass.objects.filter(parent__isnull=False).values_list("id", "parent_id", "name"))
    rng = np.random.default_rng(SEED)
    # A few classes carry most reports (as in every city's statistics): Zipf-like weights.
    weights = 1.0 / np.arange(1, len(minors) + 1) ** 0.9
    weights /= weights.sum()
    table = bulk.Table(Case, with_pk=False)
    open_states = sorted(OPEN_STATES - {CaseState.SUSPENDED})
    # Rows as tuples in the writer's column order: every column its converted default (what
    # Table.rows makes of a fresh Case), then the varying ones set per row — making a million
    # model instances would cost more than the load itself.
    template = Case(reporter_name="", reporter_phone="", generation_id=loaded.generation_id)
    base = table.rows([template])[0]
    position = {name: i for i, (_f, name, _a) in enumerate(table.columns)}
    adapt = {name: a for _f, name, a in table.columns if callable(a)}
    day_counter: dict[str, int] = {}
    made = 0
    with bulk.indexes_deferred([Case]):
        while made < N_CASES:
            n = min(CHUNK, N_CASES - made)
            lon, lat, where = _points(rng, loaded, n)
            classes = rng.choice(len(minors), n, p=weights)
            ages = rng.uniform(0, 365 * 86400, n)
            fate = rng.uniform(0, 1, n)
            rows = []
            ids = loaded.region_ids
            for i in range(n):
                class_id, major_id, name = minors[classes[i]]
                place = loaded.places[where[i]]
                created = NOW - timedelta(seconds=float(ages[i]))
                day = f"{created:%Y%m%d}"
                day_counter[day] = day_counter.get(day, 0) + 1
                state = (
                    open_states[int(fate[i] * 1000) % len(open_states)]
                    if fate[i] < OPEN_SHARE
                    else CaseState.VOIDED
                    if fate[i] < OPEN_SHARE + VOID_SHARE
                    else CaseState.CLOSED
                )
                word = WORDS[(made + i) % len(WORDS)]
                closed = created + timedelta(days=3) if state == CaseState.CLOSED else None
                values = {
                    "number": f"320102-{day}-{day_counter[day]:06d}",
                    "channel": "grid_worker",
                    "state": str(state),
                    "case_class_id": class_id,
                    "major_class_id": major_id,
                    "title": f"{word}{name}",
                    "description": f"{word}附近{name}，{PHRASES[(made + i) % len(PHRASES)]}。",
                    "lon": float(lon[i]),
                    "lat": float(lat[i]),
                    "cell": cell_of(float(lon[i]), float(lat[i])),
                    "grid_id": ids[place["grid"]["code"]],
                    "community_id": ids[place["community"]["code"]],
                    "street_id": ids[place["street"]["code"]],
                    "district_id": ids[place["district"]["code"]],
                    "tracking_code": f"B{made + i:09d}",
                    "submitted_by": "bench",
                    "created_at": created,
                    "updated_at": created,
                    "closed_at": closed,
                    "stage": Stage.HANDLE.value if state in OPEN_STATES else "",
                }
                row = list(base)
                for key, value in values.items():
                    row[position[key]] = adapt[key](value) if key in adapt and value is not None else value
                rows.append(tuple(row))
            with transaction.atomic():
                bulk.skip_reference_checks()
                table.insert(rows)
            made += n
            _log(f"{made:,} of {N_CASES:,} cases")
    bulk.analyze([Case])
    seconds = time.perf_counter() - started
    c.mark_filled(META_TABLE, fill_key(), seconds)
    connection.close()
    return {"reused": False, "load_s": round(seconds, 1)}


def _explain(query) -> str:
    from django.db import connection

    sql, params = query.query.sql_with_params()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params)
            return "\n".join(r[0] for r in cursor.fetchall())
        cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
        return "\n".join(str(r[-1]) for r in cursor.fetchall())


def _measure() -> dict:
    from django.db import connection

    from civicgrid.cases import duplicates
    from civicgrid.cases.models import OPEN_STATES, Case
    from civicgrid.errors import DomainError
    from civicgrid.geo.cells import cells_near

    rng = np.random.default_rng(SEED + 1)
    since = NOW - timedelta(days=6)  # well inside the 7-day window
    recent_open = list(
        Case.objects.filter(created_at__gte=since, state__in=sorted(OPEN_STATES))
        .order_by()
        .values_list("case_class_id", "lon", "lat", "title")[:20000]
    )
    _log(f"{len(recent_open):,} open cases of the last six days to report again")
    classes = list(Case.objects.order_by().values_list("case_class_id", flat=True)[:50000:7])
    west, south, east, north = c.XUANWU_BBOX
    intakes = []
    for i in range(CHECKS):
        if i % 2 == 0 and recent_open:  # a near-duplicate: the same matter, 0–80 m away
            cls, lon, lat, title = recent_open[int(rng.integers(len(recent_open)))]
            lon += float(rng.normal(0, 0.0003))
            lat += float(rng.normal(0, 0.00025))
            intakes.append((cls, lon, lat, f"{title}又出现了"))
        else:  # a new matter anywhere
            intakes.append(
                (
                    classes[int(rng.integers(len(classes)))],
                    float(rng.uniform(west, east)),
                    float(rng.uniform(south, north)),
                    "路边有问题请处理",
                )
            )
    max_id = Case.objects.order_by("-id").values_list("id", flat=True).first()
    pks = rng.integers(1, max_id + 1, CHECKS)

    def check(item):
        cls, lon, lat, text = item
        return duplicates.find_duplicates(cls, lon, lat, text, NOW)

    def baseline(pk):
        return list(Case.objects.filter(pk=int(pk)).order_by().values_list("id", "number", "title")[:1])

    for item in intakes[:100]:  # warm-up: caches, connection, pages
        check(item)
        baseline(pks[0])
    # Wall time, and this thread's CPU time: on a shared machine the wall time's tail is mostly
    # waiting for a core; the CPU time is what a check costs (all of it on SQLite, in-process;
    # the client's share on PostgreSQL).
    found_counts, check_ns, base_ns, check_cpu, base_cpu = [], [], [], [], []
    for item, pk in zip(intakes, pks, strict=True):
        start, cpu = time.perf_counter_ns(), time.thread_time_ns()
        found = check(item)
        check_ns.append(time.perf_counter_ns() - start)
        check_cpu.append(time.thread_time_ns() - cpu)
        found_counts.append(len(found))
        start, cpu = time.perf_counter_ns(), time.thread_time_ns()
        baseline(pk)
        base_ns.append(time.perf_counter_ns() - start)
        base_cpu.append(time.thread_time_ns() - cpu)
    # What the public check and the report page run: locate the point, suggest the classes from
    # the words (the resident gives none), then the check for each suggested class at once.
    intake_ns = []
    for _cls, lon, lat, text in intakes[:1000]:
        start = time.perf_counter_ns()
        try:
            duplicates.intake_candidates(lon=lon, lat=lat, text=text)
        except DomainError:  # a random point outside every grid: refused, not timed
            continue
        intake_ns.append(time.perf_counter_ns() - start)
    near = [n for i, n in enumerate(found_counts) if i % 2 == 0]
    # The rows a check reads (before the exact distance and state tests), and one check's plan.
    cls, lon, lat, _t = intakes[0]
    query = duplicates.candidate_query([cls], cells_near(lon, lat, 100), NOW, timedelta(days=7))
    rows_read = [
        duplicates.candidate_query([it[0]], cells_near(it[1], it[2], 100), NOW, timedelta(days=7)).count()
        for it in intakes[:500]
    ]
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM cases_case")
        total = cursor.fetchone()[0]
    return {
        "cases": total,
        "open_share": round(Case.objects.filter(state__in=sorted(OPEN_STATES)).count() / total, 3),
        "checks": len(intakes),
        "check": c.percentiles_s(check_ns),
        "baseline": c.percentiles_s(base_ns),
        "intake": c.percentiles_s(intake_ns),
        "check_cpu": c.percentiles_s(check_cpu),
        "baseline_cpu": c.percentiles_s(base_cpu),
        "load_average": os.getloadavg(),
        "near_duplicate_offered_share": round(sum(1 for n in near if n) / max(1, len(near)), 3),
        "candidates_mean": round(float(np.mean(found_counts)), 2),
        "rows_read_mean": round(float(np.mean(rows_read)), 1),
        "rows_read_max": int(max(rows_read)),
        "plan": _explain(query),
        "server_version": connection.vendor
        + " "
        + (
            str(connection.pg_version)
            if connection.vendor == "postgresql"
            else __import__("sqlite3").sqlite_version
        ),
    }


def main(backend: str, out: Path) -> None:
    c.filled_child(backend, out, table=META_TABLE, key=fill_key(), fill=_fill, measure=_measure, log=_log)


if __name__ == "__main__":
    main(sys.argv[1], Path(sys.argv[2]))

"""The child process of bench_cases_create.py: one database, gunicorn + wrk, a baseline, a profile.

Run by bench_cases_create.py as ``python bench/_cases_create_worker.py BACKEND OUT.json`` with the
environment that selects the database (Django settings can be set only once per process):

1. migrate, load the demo (region tree, staff, taxonomy), an API token for ``operator`` with
   ``cases:write``;
2. points known to lie inside a grid (located in-process), written into a wrk Lua script that
   POSTs urlencoded reports to ``/api/v1/cases/`` with a unique Idempotency-Key per request;
3. gunicorn (2 sync workers) on a free loopback port; a warm-up (every worker loads the grid
   index, the classifier, the limits); one timed wrk run; the server is always stopped;
4. the rows in the database against the 201 answers;
5. the baseline, in this process: a bare single-row ``INSERT`` of an equivalent ``cases_case`` row
   in autocommit (one transaction per row, like one per request), rows/s and per-row p95;
6. one request through Django's test client (queries per request), then cProfile of 500
   ``services.case_create`` calls.
"""

from __future__ import annotations

import cProfile
import inspect
import io
import itertools
import json
import os
import pstats
import resource
import shutil
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as c

HOST = "127.0.0.1"
THREADS = 2
# Closed loop: latency ≈ connections ÷ throughput, so a few connections keep 2 sync workers busy
# without queueing requests behind one another; more only lengthen the queue (and the p95).
CONNECTIONS = max(1, int(os.environ.get("BENCH_CREATE_CONNECTIONS", "4")))
SECONDS = max(5, min(120, int(os.environ.get("BENCH_CREATE_SECONDS", "20"))))
# 2 like bench_api.py (the "2 cores"); docs/operators.md runs 2 × cores in production.
WORKERS = max(1, int(os.environ.get("BENCH_CREATE_WORKERS", "2")))
WARMUP_SECONDS = 3
N_POINTS = 1_000
BASELINE_SECONDS = 8.0
BASELINE_ROWS = 5_000
PROFILE_CALLS = 500
WORKER_TIMEOUT_S = 420
TARGET_RPS = 200
TARGET_P95_S = 0.050
PATH = "/api/v1/cases/"

# What residents and grid workers write (so the keyword classifier has real work to do).
REPORTS = [
    ("小区门口垃圾堆积无人清理", "玄武门街道某小区东门外生活垃圾堆放三天，散发异味，请尽快清运。"),
    ("路灯不亮", "龙蟠路与北京东路交叉口往北约50米处两盏路灯晚上不亮，行人过马路很危险。"),
    ("井盖缺失", "珠江路人行道上一处污水井盖缺失，已有电动车差点掉进去，请尽快补装。"),
    ("占道经营", "菜市场门口流动摊贩占用人行道摆摊卖水果，早晚高峰行人只能走机动车道。"),
    ("噪音扰民", "晚上十一点以后楼下饭店排风机噪音很大，影响周边居民休息，多次反映未果。"),
    ("共享单车乱停放", "地铁站出口共享单车乱停乱放，堵塞盲道和消防通道，请相关部门清理。"),
    ("违章搭建", "小区三楼住户在露台上违规搭建彩钢板房，存在安全隐患，请核查。"),
    ("道路破损", "中山路辅路路面出现大坑，下雨积水，车辆经过溅到行人，请尽快修补。"),
]

# wrk's Lua script (%-formatted), in three parts: the data and each thread's counters;
# request(), this benchmark's own (_open311_worker.py writes another between the same two);
# the counting of the answers (201 created, 200 replayed, others) and the WRK_RESULT line.
_LUA_DATA = """local points = {
%(points)s
}
local texts = {
%(texts)s
}
local prefix = "%(prefix)s"
local threads = {}
local made = 0

function setup(thread)
  thread:set("tid", made)
  made = made + 1
  table.insert(threads, thread)
end

function init(args)
  n = 0
  created = 0
  replayed = 0
  other = 0
  last_other = 0
  pos = ((tid or 0) * 7919) %% #points
end
"""
_LUA_REQUEST = """
local token = "%(token)s"

function request()
  n = n + 1
  pos = pos %% #points + 1
  local body = "channel=api&" .. points[pos] .. "&" .. texts[(n + (tid or 0)) %% #texts + 1]
  return wrk.format("POST", "%(path)s", {
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["Authorization"] = "Bearer " .. token,
    ["Idempotency-Key"] = prefix .. "-" .. (tid or 0) .. "-" .. n,
  }, body)
end

"""
_LUA_COUNT = """function response(status, headers, body)
  if status == 201 then
    created = created + 1
  elseif status == 200 then
    replayed = replayed + 1
  else
    other = other + 1
    last_other = status
  end
end

function done(summary, latency, requests)
  local c, r, o, s = 0, 0, 0, 0
  for _, t in ipairs(threads) do
    c = c + t:get("created")
    r = r + t:get("replayed")
    o = o + t:get("other")
    if t:get("last_other") ~= 0 then s = t:get("last_other") end
  end
  local e = summary.errors
  io.write(string.format(
    'WRK_RESULT {"requests": %%.0f, "duration_s": %%.6f, "created": %%.0f, "replayed": %%.0f, '
      .. '"other": %%.0f, "last_other_status": %%.0f, '
      .. '"p50_s": %%.9f, "p95_s": %%.9f, "p99_s": %%.9f, "max_s": %%.9f, "mean_s": %%.9f, '
      .. '"errors": {"connect": %%.0f, "read": %%.0f, "write": %%.0f, "status": %%.0f, "timeout": %%.0f}}\\n',
    summary.requests, summary.duration / 1e6, c, r, o, s,
    latency:percentile(50) / 1e6, latency:percentile(95) / 1e6, latency:percentile(99) / 1e6,
    latency.max / 1e6, latency.mean / 1e6,
    e.connect, e.read, e.write, e.status, e.timeout))
end
"""
_LUA = "-- generated by bench/_cases_create_worker.py\n" + _LUA_DATA + _LUA_REQUEST + _LUA_COUNT

_script_numbers = itertools.count(1)


def _setup_database() -> dict:
    from django.core.management import call_command

    from civicgrid.demo.loader import demo_load

    t0 = time.perf_counter()
    call_command("migrate", verbosity=0)
    t1 = time.perf_counter()
    # Geography, staff and the taxonomy; no simulated year of cases (the parameter is newer than
    # this benchmark, hence the check): every case here is one the benchmark made.
    extra = {"cases": 0} if "cases" in inspect.signature(demo_load).parameters else {}
    demo_load(people=True, progress=lambda _msg: None, **extra)
    return {"migrate_s": t1 - t0, "demo_s": time.perf_counter() - t1}


def _worker_start(backend: str) -> dict:
    """A worker's start (this one's, _open311_worker's, bench_patrol's): Django set up, the
    database migrated and given the demo (``setup``: how long that took), the server's version."""
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "civicgrid.settings")
    django.setup()
    from django.db import connection

    setup = _setup_database()
    with connection.cursor() as cursor:
        cursor.execute("SELECT sqlite_version()" if backend == "sqlite" else "SHOW server_version")
        return {"setup": setup, "server_version": cursor.fetchone()[0]}


def _token() -> str:
    from civicgrid.accounts.models import User
    from civicgrid.accounts.tokens import api_token_create

    _row, plaintext = api_token_create(
        user=User.objects.get(username="operator"), name="bench", scopes=["cases:write", "cases:read"]
    )
    return plaintext


def _inside_points(n: int) -> list[tuple[float, float]]:
    """Points uniformly over the district that the active generation places in a grid."""
    import bench_api

    from civicgrid.errors import DomainError
    from civicgrid.regions.selectors import grid_locate

    found = []
    for lon, lat in bench_api.district_points(int(n * 1.2) + 50):
        try:
            grid_locate(lon=lon, lat=lat)
        except DomainError:
            continue
        found.append((lon, lat))
        if len(found) == n:
            break
    return found


def _write_script(workdir: Path, points, token: str, prefix: str) -> Path:
    script = workdir / f"create-{next(_script_numbers)}.lua"

    def lua_str(text: str) -> str:
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'

    texts = [
        urllib.parse.urlencode({"title": title, "description": description}) for title, description in REPORTS
    ]
    script.write_text(
        _LUA
        % {
            "points": ",\n".join(f'  "lon={x:.7f}&lat={y:.7f}"' for x, y in points),
            "texts": ",\n".join("  " + lua_str(t) for t in texts),
            "token": token,
            "prefix": prefix,
            "path": PATH,
        },
        encoding="utf-8",
    )
    return script


def _wrk(wrk: str, port: int, script: Path, seconds: int, connections: int) -> dict:
    args = [
        wrk,
        f"-t{min(THREADS, connections)}",
        f"-c{connections}",
        f"-d{seconds}s",
        "--timeout",
        "10s",
        "-s",
        str(script),
        f"http://{HOST}:{port}",
    ]
    out = subprocess.run(args, capture_output=True, text=True, timeout=seconds + 60)
    for line in out.stdout.splitlines():
        if line.startswith("WRK_RESULT "):
            result = json.loads(line.removeprefix("WRK_RESULT "))
            result["errors"] = {k: int(v) for k, v in result["errors"].items()}
            for key in ("requests", "created", "replayed", "other", "last_other_status"):
                result[key] = int(result[key])
            result["connections"] = connections
            result["created_per_s"] = result["created"] / result["duration_s"]
            return result
    raise RuntimeError(f"wrk printed no result (exit {out.returncode}): {(out.stderr or out.stdout)[-600:]}")


def _post_once(port: int, token: str, point, key: str) -> tuple[int, dict]:
    import http.client

    title, description = REPORTS[0]
    body = urllib.parse.urlencode(
        {
            "channel": "api",
            "lon": f"{point[0]:.7f}",
            "lat": f"{point[1]:.7f}",
            "title": title,
            "description": description,
        }
    )
    conn = http.client.HTTPConnection(HOST, port, timeout=30)
    try:
        conn.request(
            "POST",
            PATH,
            body=body.encode(),
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "Authorization": f"Bearer {token}",
                "Idempotency-Key": key,
            },
        )
        response = conn.getresponse()
        raw = response.read()
        try:
            return response.status, json.loads(raw)
        except ValueError:
            return response.status, {"raw": raw[:300].decode(errors="replace")}
    finally:
        conn.close()


# --- CPU accounting: what one case costs, whatever else the machine is doing -----------------
_TICK = os.sysconf("SC_CLK_TCK")


def _proc_cpu_s(pid: int) -> float:
    """User + system CPU seconds of one process (Linux /proc); 0 when it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = text[text.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / _TICK  # utime, stime


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                text = (entry / "stat").read_text()
            except OSError:
                continue
            if int(text[text.rindex(")") + 2 :].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def _db_backend_pids() -> list[int]:
    """PostgreSQL server processes serving this database (the server runs on this machine)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        pids = [r[0] for r in cursor.fetchall()]
    connection.close()
    return pids


def _cpu_snapshot(server_pid: int) -> dict[str, float]:
    server = [server_pid, *_children(server_pid)]
    return {
        "server": sum(_proc_cpu_s(pid) for pid in server),
        "database": sum(_proc_cpu_s(pid) for pid in _db_backend_pids()),
        "load_generator": resource.getrusage(resource.RUSAGE_CHILDREN).ru_utime
        + resource.getrusage(resource.RUSAGE_CHILDREN).ru_stime,
    }


def _http_run(token: str, points) -> dict:
    import bench_api

    wrk = shutil.which("wrk")
    if wrk is None:
        return {"skipped": "wrk is not on PATH (Debian package `wrk`)"}
    work = c.scratch_dir("civicgrid-bench-create-http-")
    log_path = work / "gunicorn.log"
    with bench_api.serving(WORKERS, log_path) as (port, proc):
        status, body = _post_once(port, token, points[0], "bench-create-probe-0001")
        if status != 201:
            raise RuntimeError(
                f"a probe POST answered {status}: {json.dumps(body, ensure_ascii=False)[:500]}"
            )
        probe = {
            "status": status,
            "number": body["case"]["number"],
            "state": body["case"]["state"],
            "grid": body["case"]["grid"]["code"],
            "suggestions": [s["code"] for s in body["suggestions"]],
        }
        # Warm-up: every worker builds its grid index, classifier and limits, and imports all.
        warm = _wrk(
            wrk, port, _write_script(work, points, token, "bench-create-warm"), WARMUP_SECONDS, CONNECTIONS
        )
        script = _write_script(work, points, token, "bench-create-main")
        before = _cpu_snapshot(proc.pid)
        main = _wrk(wrk, port, script, SECONDS, CONNECTIONS)
        after = _cpu_snapshot(proc.pid)
        # The server keeps its database connections (CONN_MAX_AGE), so their backends outlive the run.
        cpu = {k: after[k] - before[k] for k in before}
        cpu["per_case_ms"] = {k: 1e3 * v / max(1, main["created"]) for k, v in cpu.items()}
        cpu["total_per_case_ms"] = sum(cpu["per_case_ms"].values())
        cpu["capacity_2_cores"] = 2 * 1e3 / cpu["total_per_case_ms"] if cpu["total_per_case_ms"] else None
    errors_logged = [
        line
        for line in log_path.read_text(errors="replace").splitlines()
        if "Error" in line or "error" in line
    ]
    return {
        "probe": probe,
        "warmup": warm,
        "main": main,
        "cpu": cpu,
        "server_stopped": proc.poll() is not None,
        "server_log_errors": errors_logged[-10:],
    }


def _count_rows(http: dict, before: int) -> dict:
    from civicgrid.cases.models import Case, CaseEvent

    answered = 1 + http["warmup"]["created"] + http["main"]["created"]
    rows = Case.objects.count() - before
    main_rows = Case.objects.filter(idempotency_key__startswith="bench-create-main-").count()
    return {
        "rows": rows,
        "rows_before": before,
        "events": CaseEvent.objects.count(),
        "answered_201": answered,
        "main_rows": main_rows,
        "main_201": http["main"]["created"],
        # wrk stops with up to one request per connection in flight: the server may still commit it.
        "in_flight_max": 2 * CONNECTIONS,
        "ok": answered <= rows <= answered + 2 * CONNECTIONS and main_rows >= http["main"]["created"],
    }


# --- the baseline: a bare INSERT of an equivalent row -------------------------------------------
def _baseline() -> dict:
    """The floor of a create: one ``INSERT INTO cases_case`` of an equivalent row per transaction."""
    from django.db import connection
    from django.db.models.sql import InsertQuery

    from civicgrid.cases.models import Case

    template = Case.objects.filter(idempotency_key__startswith="bench-create-main-").order_by("id").first()
    template = template or Case.objects.order_by("id").first()
    fields = [f for f in Case._meta.concrete_fields if not f.primary_key]
    varying = {"number", "tracking_code", "idempotency_key"}
    template.pk = None
    query = InsertQuery(Case)
    query.insert_values(fields, [template])
    sql, params = query.get_compiler(connection=connection).as_sql()[0]
    params = list(params)
    slots = {f.attname: i for i, f in enumerate(fields) if f.attname in varying}
    samples = []
    deadline = time.perf_counter() + BASELINE_SECONDS
    with connection.cursor() as cursor:  # autocommit: each INSERT is its own transaction
        for i in range(BASELINE_ROWS):
            params[slots["number"]] = f"999999-20991231-{i:06d}"
            params[slots["tracking_code"]] = f"B{i:09d}"
            params[slots["idempotency_key"]] = f"bench-bare-insert-{i:08d}"
            t0 = time.perf_counter_ns()
            cursor.execute(sql, params)
            samples.append(time.perf_counter_ns() - t0)
            if time.perf_counter() > deadline:
                break
    total_s = sum(samples) / 1e9
    return c.percentiles_s(samples) | {
        "rows_per_s": len(samples) / total_s,
        "columns": len(fields),
        "sql": sql[:160] + " …",
    }


# --- where the time goes ------------------------------------------------------------------------
def _queries_per_request(token: str, point) -> dict:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    title, description = REPORTS[1]
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    data = {"channel": "api", "lon": point[0], "lat": point[1], "title": title, "description": description}
    client.post(PATH, data, HTTP_IDEMPOTENCY_KEY="bench-create-client-warm")  # warm caches
    with CaptureQueriesContext(connection) as ctx:
        response = client.post(PATH, data, HTTP_IDEMPOTENCY_KEY="bench-create-client-0001")
    kinds: dict[str, int] = {}
    for q in ctx.captured_queries:
        word = q["sql"].split(None, 1)[0].upper()
        kinds[word] = kinds.get(word, 0) + 1
    return {
        "status": response.status_code,
        "queries": len(ctx.captured_queries),
        "by_kind": kinds,
        "sql": [q["sql"][:140] for q in ctx.captured_queries],
    }


def _profiled(one: Callable[[int], None], calls: int) -> tuple[list[int], cProfile.Profile, float]:
    """``one(i)`` 20 times to warm up, ``calls`` times timed alone, ``calls`` times under cProfile:
    the plain times (ns), the profile, and the wall time of the profiled calls (s)."""
    for i in range(20):
        one(i)
    plain = []
    for i in range(20, 20 + calls):
        t0 = time.perf_counter_ns()
        one(i)
        plain.append(time.perf_counter_ns() - t0)
    profiler = cProfile.Profile()
    t0 = time.perf_counter()
    profiler.enable()
    for i in range(20 + calls, 20 + 2 * calls):
        one(i)
    profiler.disable()
    return plain, profiler, time.perf_counter() - t0


def _profile(points) -> dict:
    from civicgrid.accounts.models import User
    from civicgrid.accounts.scopes import scope_for
    from civicgrid.cases import services
    from civicgrid.cases.workflow import Actor

    user = User.objects.get(username="operator")
    actor = Actor(user_id=user.pk, scope=scope_for(user), name=str(user))

    def one(i: int) -> None:
        title, description = REPORTS[i % len(REPORTS)]
        lon, lat = points[i % len(points)]
        data = services.CaseInput(channel="api", title=title, description=description, lon=lon, lat=lat)
        services.case_create(
            actor=actor, data=data, idempotency_key=f"bench-profile-{i:08d}", submitted_by=f"user:{user.pk}"
        )

    plain, profiler, profiled_s = _profiled(one, PROFILE_CALLS)
    stats = pstats.Stats(profiler)
    rows = []
    own = []
    for (filename, line, func), (_cc, ncalls, tottime, cumtime, _callers) in stats.stats.items():
        where = filename.replace(str(c.ROOT) + "/", "")
        if "site-packages/" in where:
            where = where.split("site-packages/", 1)[1]
        entry = {
            "function": f"{where}:{line}({func})",
            "ncalls": ncalls,
            "tottime_s": tottime,
            "cumtime_s": cumtime,
        }
        rows.append(entry)
        if where.startswith("civicgrid/"):
            own.append(entry)
    rows.sort(key=lambda e: -e["cumtime_s"])
    own.sort(key=lambda e: -e["cumtime_s"])
    text = io.StringIO()
    pstats.Stats(profiler, stream=text).sort_stats("cumulative").print_stats(10)
    return {
        "calls": PROFILE_CALLS,
        "unprofiled": c.percentiles_s(plain),
        "profiled_s": profiled_s,
        "top_cumulative": rows[:10],
        "top_civicgrid": own[:12],
        "pstats_text": text.getvalue(),
    }


def _worker(backend: str, out_path: Path) -> None:
    result: dict = {"backend": backend, "connections": CONNECTIONS, "seconds": SECONDS, "workers": WORKERS}
    result |= _worker_start(backend)
    from django.db import connection

    from civicgrid.cases.models import Case

    token = _token()
    points = _inside_points(N_POINTS)
    result["points"] = len(points)
    rows_before = Case.objects.count()
    connection.close()  # gunicorn's workers take over; SQLite readers/writers share the WAL file
    result["load_before"] = os.getloadavg()
    result["http"] = _http_run(token, points)
    if "skipped" not in result["http"]:
        result["rows"] = _count_rows(result["http"], rows_before)
    before = Case.objects.count()
    result["baseline"] = _baseline()
    result["baseline"]["rows_added"] = Case.objects.count() - before
    result["queries_per_request"] = _queries_per_request(token, points[1])
    result["profile"] = _profile(points)
    out_path.write_text(json.dumps(result, indent=2, ensure_ascii=False, default=str), encoding="utf-8")


if __name__ == "__main__":
    _worker(sys.argv[1], Path(sys.argv[2]))

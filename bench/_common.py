"""Shared helpers for the benchmarks: formatting, tables, timing, data sets, child processes,
PostgreSQL scratch databases, filled databases kept between runs, results files.

Benchmarks print; they never assert. Every figure is shown next to a baseline measured in the
same run, because this machine is noisy and only ratios travel well.
"""

from __future__ import annotations

import atexit
import functools
import json
import os
import platform
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Literal

import numpy as np

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
RESULTS_DIR = BENCH_DIR / "results"
VENV_BIN = ROOT / ".venv" / "bin"

if str(ROOT) not in sys.path:  # `python bench/x.py` from anywhere still finds civicgrid
    sys.path.insert(0, str(ROOT))

# The Xuanwu district's bounding box (WGS-84), from the brief and civicgrid/demo/data.
XUANWU_BBOX = (118.7786, 32.0170, 118.9033, 32.1083)
# The synthetic 20,000-grid city: a ~47 km × 44 km box around Nanjing.
CITY_BBOX = (118.5, 31.8, 119.0, 32.2)

PG_DSN = os.environ.get(
    "BENCH_PG_DSN", "host=127.0.0.1 port=5432 user=postgres dbname=postgres connect_timeout=5"
)
# The hosts a child's Django answers: gunicorn on loopback and Django's test client.
SERVED_HOSTS = "127.0.0.1,localhost,testserver"


# --- formatting --------------------------------------------------------------------------------
def fmt_int(value: float | None) -> str:
    return "—" if value is None else f"{value:,.0f}"


def fmt_dur(seconds: float | None) -> str:
    """A duration with a unit that keeps three significant digits or so."""
    if seconds is None:
        return "—"
    if seconds < 1e-3:
        return f"{seconds * 1e6:.1f} µs"
    if seconds < 1.0:
        return f"{seconds * 1e3:.1f} ms"
    return f"{seconds:.2f} s"


def fmt_ratio(value: float | None) -> str:
    """×N: N times better than the baseline; ÷N: N times worse (for N ≥ 10)."""
    if value is None or not np.isfinite(value) or value <= 0:
        return "—"
    if value >= 100:
        return f"×{value:,.0f}"
    if value >= 10:
        return f"×{value:.1f}"
    if value >= 0.1:
        return f"×{value:.2f}"
    return f"÷{1 / value:,.0f}" if value < 0.01 else f"÷{1 / value:.1f}"


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    if not numerator or not denominator:
        return None
    return float(numerator) / float(denominator)


def verdict(met: bool | None) -> str:
    return {True: "MET", False: "NOT MET", None: "NOT MEASURED"}[met]


def table(
    headers: Sequence[str], rows: Sequence[Sequence[str]], indent: str = "  ", align: str | None = None
) -> str:
    """A plain-text table. ``align`` has one letter per column, l or r; by default the first
    column is left-aligned and the others right-aligned."""
    align = align or "l" + "r" * (len(headers) - 1)
    cells = [list(map(str, headers)), *[list(map(str, r)) for r in rows]]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = []
    for r in cells:
        parts = [
            cell.ljust(w) if a == "l" else cell.rjust(w) for cell, w, a in zip(r, widths, align, strict=True)
        ]
        lines.append(indent + "   ".join(parts).rstrip())
    return "\n".join(lines)


def heading(text: str) -> None:
    print()
    print(text)
    print("─" * min(100, max(len(text), 40)))


def note(text: str) -> None:
    print(f"  {text}")


def fmt_load(load: Sequence[float]) -> str:
    """A load average (1, 5, 15 minutes) as ``1.2 0.9 0.7``."""
    return " ".join(f"{x:.1f}" for x in load)


def unmeasured(benchmark: str, target: str, vs_baseline: str) -> dict:
    """The summary row of a figure that was not measured (skipped), saying why in ``vs_baseline``."""
    return {"benchmark": benchmark, "figure": "—", "target": target, "met": None, "vs_baseline": vs_baseline}


def skipped(label: str, why: str, benchmark: str, target: str) -> dict:
    """Say that ``label`` was skipped, and why; the summary row of its figure ``benchmark``."""
    note(f"{label}: SKIPPED — {why}")
    return unmeasured(benchmark, target, f"skipped: {why[:60]}")


# --- timing ------------------------------------------------------------------------------------
def repeat_timed(fn: Callable[[], object], *, repeats: int, max_seconds: float) -> list[float]:
    """Wall times of up to ``repeats`` calls of ``fn``, stopping early after ``max_seconds``."""
    times: list[float] = []
    deadline = time.perf_counter() + max_seconds
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
        if time.perf_counter() > deadline:
            break
    return times


def percentiles_s(samples_ns: Sequence[int] | np.ndarray, qs=(50, 95, 99)) -> dict[str, float]:
    """Percentiles (in seconds) of per-call times given in nanoseconds."""
    arr = np.asarray(samples_ns, dtype=float) / 1e9
    return {f"p{q}": float(np.percentile(arr, q)) for q in qs} | {
        "mean": float(arr.mean()),
        "n": int(arr.size),
    }


# --- data sets ---------------------------------------------------------------------------------
@functools.cache
def demo_divisions():
    """The Xuanwu demo divisions (built once per process, ~3 s) and how long drawing them took."""
    from civicgrid.demo import xuanwu

    start = time.perf_counter()
    divisions = xuanwu.build()
    return divisions, time.perf_counter() - start


def demo_grids() -> tuple[list[str], list]:
    divisions, _ = demo_divisions()
    grids = [d for d in divisions if d.level == "grid"]
    return [g.code for g in grids], [g.geometry for g in grids]


@functools.cache
def synthetic_city(n_grids: int = 20_000, seed: int = 20_000) -> tuple[list[str], list]:
    """``n_grids`` Voronoi cells of a jittered lattice over CITY_BBOX, clipped to the box.

    Deterministic for a given seed. Codes are 14-digit, CJ/T 213 shaped, in lattice order.
    """
    import shapely

    west, south, east, north = CITY_BBOX
    # Pick the lattice closest to square cells (in degrees) whose size is exactly n_grids.
    aspect = (east - west) / (north - south)
    best = None
    for cols in range(1, n_grids + 1):
        if n_grids % cols:
            continue
        rows = n_grids // cols
        score = abs(np.log((cols / rows) / aspect))
        if best is None or score < best[0]:
            best = (score, cols, rows)
    _, cols, rows = best
    rng = np.random.default_rng(seed)
    dx, dy = (east - west) / cols, (north - south) / rows
    ix, iy = np.meshgrid(np.arange(cols), np.arange(rows))
    x = west + (ix.ravel() + 0.5 + rng.uniform(-0.4, 0.4, ix.size)) * dx
    y = south + (iy.ravel() + 0.5 + rng.uniform(-0.4, 0.4, iy.size)) * dy
    box = shapely.box(west, south, east, north)
    cells = shapely.voronoi_polygons(shapely.multipoints(shapely.points(x, y)), extend_to=box, ordered=True)
    cells = shapely.intersection(shapely.get_parts(cells), box)
    codes = [f"320100{i // 1000:03d}{i % 1000:03d}{0:02d}" for i in range(len(cells))]
    return codes, list(cells)


def uniform_points(
    bbox: tuple[float, float, float, float], n: int, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    west, south, east, north = bbox
    rng = np.random.default_rng(seed)
    return rng.uniform(west, east, n), rng.uniform(south, north, n)


# --- Django ------------------------------------------------------------------------------------
_scratch_dirs: list[tempfile.TemporaryDirectory] = []


def scratch_dir(prefix: str) -> Path:
    """A temporary directory removed when the process exits."""
    handle = tempfile.TemporaryDirectory(prefix=prefix)
    _scratch_dirs.append(handle)
    return Path(handle.name)


@atexit.register
def _cleanup_scratch() -> None:
    for handle in _scratch_dirs:
        handle.cleanup()


def django_setup() -> None:
    """Configure Django without touching the checkout's var/ (settings write a dev secret there)."""
    from django.conf import settings

    if settings.configured:
        return
    os.environ["DJANGO_SETTINGS_MODULE"] = "civicgrid.settings"
    os.environ["CIVICGRID_VAR_DIR"] = str(scratch_dir("civicgrid-bench-var-"))
    import django

    django.setup()


# --- child processes ---------------------------------------------------------------------------
def child_env(var_dir: Path, database_url: str | None = None, **settings: str) -> dict[str, str]:
    """The environment of a child process running the project (Django settings are fixed per
    process): ours without any CIVICGRID_* setting, plus a var dir of its own, DEBUG off (it would
    keep every query in memory), WARNING logs, ``database_url`` (None: a SQLite file in the var
    dir) and any further ``settings`` (e.g. CIVICGRID_ALLOWED_HOSTS=SERVED_HOSTS)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CIVICGRID_")}
    env.update(
        CIVICGRID_VAR_DIR=str(var_dir),
        CIVICGRID_DEBUG="false",
        CIVICGRID_LOG_LEVEL="WARNING",
        DJANGO_SETTINGS_MODULE="civicgrid.settings",
        **settings,
    )
    if database_url:
        env["CIVICGRID_DATABASE_URL"] = database_url
    return env


def spawn_json(
    argv: list[str],
    *,
    env: dict[str, str],
    timeout: float,
    passes: Literal["stdout", "stderr"] | None = None,
) -> dict:
    """Run a benchmark's child process (from the checkout) and return the JSON it wrote.

    The child gets the path of the file to write as its last argument, after ``argv``. Its output
    is captured, and the end of it is in the RuntimeError raised when it fails; ``passes`` names
    the one stream that goes straight to ours instead, as it runs (a child's progress lines).
    """
    out = scratch_dir("civicgrid-bench-result-") / "result.json"
    streams = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE}
    if passes:
        del streams[passes]
    proc = subprocess.run([*argv, str(out)], env=env, cwd=ROOT, text=True, timeout=timeout, **streams)
    if proc.returncode != 0 or not out.exists():
        child = " ".join([Path(argv[1]).name, *argv[2:]])
        tail = (proc.stderr or proc.stdout or "").strip()[-1500:]
        raise RuntimeError(f"{child} exited with status {proc.returncode}:\n{tail}")
    return json.loads(out.read_text(encoding="utf-8"))


# --- PostgreSQL scratch databases --------------------------------------------------------------
def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0]


def pg_url(database: str) -> str:
    """The postgres:// URL (CIVICGRID_DATABASE_URL's form) of ``database`` on the server of PG_DSN."""
    from psycopg.conninfo import conninfo_to_dict

    p = conninfo_to_dict(PG_DSN)
    password = f":{p['password']}" if p.get("password") else ""
    where = f"{p.get('host', '127.0.0.1')}:{p.get('port', 5432)}"
    return f"postgres://{p.get('user', 'postgres')}{password}@{where}/{database}"


def pg_admin():
    """An autocommit connection to the server of PG_DSN, or why there is none (a str)."""
    try:
        import psycopg
    except ImportError as exc:
        return f"psycopg is not importable ({exc})"
    try:
        return psycopg.connect(PG_DSN, autocommit=True)
    except Exception as exc:
        return f"PostgreSQL unreachable ({_first_line(exc)})"


def pg_exists(database: str) -> bool:
    """Whether the server of PG_DSN holds ``database`` (to check that a scratch database went)."""
    admin = pg_admin()
    if isinstance(admin, str):
        raise RuntimeError(admin)
    with admin:
        return (
            admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,)).fetchone() is not None
        )


def pg_scratch(
    database: str,
    run: Callable[[str], dict],
    *,
    keep: bool = False,
    reuse: Callable[[], bool] | None = None,
) -> dict:
    """``run(url)`` in the database ``database`` on the server of PG_DSN, made fresh for it (a
    crashed run's leftover is dropped first) and dropped afterwards, even when ``run`` fails.
    Returns what ``run`` returned, or {"skipped": why} when psycopg is missing, the server is
    unreachable or the database cannot be created.

    For a filled database kept between runs on purpose: ``keep`` leaves it in place afterwards,
    and ``reuse`` (asked once the server answers) says whether the one already there serves as
    it is; when it says no, the database is made fresh.
    """
    admin = pg_admin()
    if isinstance(admin, str):
        return {"skipped": admin}
    from psycopg import sql

    drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database))
    with admin:
        if reuse is None or not reuse():
            try:
                admin.execute(drop)
                admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
            except Exception as exc:
                return {"skipped": f"cannot create a database ({_first_line(exc)})"}
        try:
            return run(pg_url(database))
        finally:
            if not keep:
                admin.execute(drop)


# --- filled databases kept between runs --------------------------------------------------------
# A benchmark that needs a large data set fills its database once and marks it: a row ``key``
# (what was filled: size, seed, version) in a small table of its own, written last. Later runs
# find the mark and reuse the data; a half-made or outdated database has no mark and is refilled.
def mark_filled(table: str, key: str, load_s: float) -> None:
    """In the child (Django's database): mark the database as filled with ``key``."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE IF NOT EXISTS {table} (key varchar(100) PRIMARY KEY, load_s float)")
        cursor.execute(f"INSERT INTO {table} (key, load_s) VALUES (%s, %s)", [key, load_s])


def filled_child(
    backend: str,
    out: Path,
    *,
    table: str,
    key: str,
    fill: Callable[[], dict],
    measure: Callable[[], dict],
    log: Callable[[str], None],
) -> None:
    """The child of a benchmark on a kept database: migrate, ``fill()`` unless the database is
    marked with ``key`` already, ``measure()``; the figures, the backend and how the data came
    (``{"reused", "load_s"}``) go to ``out`` as JSON."""
    import django
    from django.core.management import call_command
    from django.db import connection

    django.setup()
    call_command("migrate", verbosity=0)
    with connection.cursor() as cursor:
        marked = table in connection.introspection.table_names(cursor)
        if marked:
            cursor.execute(f"SELECT 1 FROM {table} WHERE key = %s", [key])
            marked = cursor.fetchone() is not None
    data = {"reused": True, "load_s": 0.0} if marked else fill()
    log("timing …")
    result = measure() | {"backend": backend, "data": data}
    out.write_text(json.dumps(result, default=str, ensure_ascii=False), encoding="utf-8")


def sqlite_kept(var: Path, *, table: str, key: str, refill: bool = False) -> Path:
    """``var``, the var dir of a SQLite database kept between runs, emptied first unless its
    civicgrid.sqlite3 is marked with ``key`` (and ``refill`` is off)."""
    marked = False
    path = var / "civicgrid.sqlite3"
    if path.exists() and not refill:
        try:
            with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
                marked = db.execute(f"SELECT 1 FROM {table} WHERE key = ?", (key,)).fetchone() is not None
        except sqlite3.Error:
            marked = False
    if not marked:
        shutil.rmtree(var, ignore_errors=True)  # half-made or outdated: start again
    var.mkdir(parents=True, exist_ok=True)
    return var


def pg_kept(
    database: str,
    var: Path,
    run: Callable[[str], dict],
    *,
    table: str,
    key: str,
    refill: bool = False,
    drop: bool = False,
) -> dict:
    """``run(url)`` in ``database``, a PostgreSQL database kept between runs (see pg_scratch),
    with ``var`` the child's var dir: it holds the key file the demo encrypted personal data
    with, so the two go together. Both are made fresh unless the database is marked with ``key``
    and the key file is there (and ``refill`` is off); ``drop`` removes both afterwards."""

    def reuse() -> bool:
        import psycopg
        from psycopg.conninfo import make_conninfo

        marked = False
        if not refill and (var / "pii-keys.json").exists():
            try:
                with psycopg.connect(make_conninfo(PG_DSN, dbname=database)) as db:
                    marked = (
                        db.execute(f"SELECT 1 FROM {table} WHERE key = %s", (key,)).fetchone() is not None
                    )
            except psycopg.Error:  # not there, or not filled
                marked = False
        if not marked:
            shutil.rmtree(var, ignore_errors=True)
        return marked

    def kept_run(url: str) -> dict:
        var.mkdir(parents=True, exist_ok=True)
        try:
            return run(url)
        finally:
            if drop:
                shutil.rmtree(var, ignore_errors=True)

    return pg_scratch(database, kept_run, keep=not drop, reuse=reuse)


def kept_worker_run(
    backend: str,
    *,
    command: list[str],
    cache_dir: Path,
    tag: str,
    pg_database: str,
    table: str,
    key: str,
    refill: bool,
    timeout: float,
    env: dict[str, str] | None = None,
) -> dict:
    """Run a benchmark's worker (``command`` + [backend]) on its filled database of ``backend``,
    kept between runs (``sqlite_kept`` / ``pg_kept``, var dirs ``<cache_dir>/<backend>-<tag>``);
    the worker's stderr passes through, so a first fill shows its progress."""

    def spawn(var: Path, url: str | None) -> dict:
        return spawn_json(
            [*command, backend], env=child_env(var, url) | (env or {}), timeout=timeout, passes="stderr"
        )

    if backend == "sqlite":
        var = cache_dir / f"sqlite-{tag}"
        sqlite_kept(var, table=table, key=key, refill=refill)
        return spawn(var, None) | {"cache": str(var)}
    var = cache_dir / f"postgresql-var-{tag}"  # holds the key file of the database's personal data
    return pg_kept(
        pg_database,
        var,
        lambda url: spawn(var, url) | {"database": pg_database},
        table=table,
        key=key,
        refill=refill,
    )


# --- machine and results -----------------------------------------------------------------------
def _command_output(args: list[str]) -> str | None:
    try:
        out = subprocess.run(args, capture_output=True, text=True, timeout=10, cwd=ROOT)
    except (OSError, subprocess.SubprocessError):
        return None
    text = (out.stdout or out.stderr).strip()
    return text.splitlines()[0] if text else None


def machine_info() -> dict:
    import shapely

    cpu = None
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    wrk = shutil.which("wrk")
    return {
        "hostname": platform.node(),
        "platform": platform.platform(),
        "cpu": cpu,
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "shapely": shapely.__version__,
        "geos": shapely.geos_version_string,
        "wrk": _command_output([wrk, "--version"]) if wrk else None,
        "git_commit": _command_output(["git", "rev-parse", "HEAD"]),
        "git_dirty": bool(_command_output(["git", "status", "--porcelain", "--untracked-files=no"])),
    }


def _json_default(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def write_results(filename: str, payload: dict) -> Path:
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / filename
    tmp = path.with_suffix(".tmp")
    tmp.write_text(
        json.dumps(payload, indent=2, ensure_ascii=False, default=_json_default) + "\n", encoding="utf-8"
    )
    tmp.replace(path)
    return path


def standalone(name: str, run: Callable[[], dict]) -> None:
    """Run one benchmark alone: print it, then save bench/results/<name>.json."""
    started = time.time()
    result = run()
    payload = {
        "generated_at": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(started)),
        "elapsed_s": round(time.time() - started, 1),
        "machine": machine_info(),
        "benchmarks": {name: result},
    }
    path = write_results(f"{name}.json", payload)
    print(f"\nresults saved to {path.relative_to(ROOT)}")

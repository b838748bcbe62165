"""Shared helpers for the benchmarks: formatting, tables, timing, data sets, results files.

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
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

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

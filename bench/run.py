"""Run every benchmark (``make bench``), print each table and a summary, save results JSON.

Each benchmark prints its figures next to a baseline measured in the same run; nothing asserts.
A benchmark that fails is reported (with its traceback) and the others still run. The results
go to bench/results/latest.json (git-ignored).

Usage: ``.venv/bin/python bench/run.py [locate|api|validation|scopes|cases_create|cases_list|open311|
devices_alarms|hotline_import|duplicates|assessment|patrol|insight …]`` (default: all, in that order; cases_list,
duplicates and insight fill their 1,000,000-case databases on their first run, then reuse them).
"""

from __future__ import annotations

import sys
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as c
import bench_api
import bench_assessment
import bench_cases_create
import bench_cases_list
import bench_devices_alarms
import bench_duplicates
import bench_hotline_import
import bench_insight
import bench_locate
import bench_open311
import bench_patrol
import bench_scopes
import bench_validation

BENCHMARKS = {
    bench_validation.NAME: bench_validation.run,
    bench_locate.NAME: bench_locate.run,
    bench_api.NAME: bench_api.run,
    bench_scopes.NAME: bench_scopes.run,
    bench_cases_create.NAME: bench_cases_create.run,
    bench_cases_list.NAME: bench_cases_list.run,
    bench_open311.NAME: bench_open311.run,
    bench_devices_alarms.NAME: bench_devices_alarms.run,
    bench_hotline_import.NAME: lambda: bench_hotline_import.run(
        ["sqlite", "postgresql"], bench_hotline_import.ORDERS
    ),
    bench_duplicates.NAME: bench_duplicates.run,
    bench_assessment.NAME: bench_assessment.run,
    bench_patrol.NAME: bench_patrol.run,
    bench_insight.NAME: bench_insight.run,
}


def main(argv: list[str]) -> int:
    chosen = argv or list(BENCHMARKS)
    unknown = [name for name in chosen if name not in BENCHMARKS]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}")
        return 2

    started = time.time()
    machine = c.machine_info()
    print("CivicGrid benchmarks")
    print(
        f"  {machine['cpu'] or 'unknown CPU'}, {machine['cpu_count']} cores; Python {machine['python']}, "
        f"NumPy {machine['numpy']}, Shapely {machine['shapely']} (GEOS {machine['geos']})"
    )
    commit = (machine["git_commit"] or "unknown")[:12] + (
        " (with local changes)" if machine["git_dirty"] else ""
    )
    print(f"  commit {commit}; figures are noisy on a shared machine — compare the ratios")

    results: dict[str, dict] = {}
    timings: dict[str, float] = {}
    for name in chosen:
        t0 = time.perf_counter()
        try:
            results[name] = BENCHMARKS[name]()
        except Exception as exc:
            print(f"\n{name}: FAILED — {type(exc).__name__}: {exc}")
            traceback.print_exc()
            results[name] = {"error": f"{type(exc).__name__}: {exc}", "summary": []}
        timings[name] = round(time.perf_counter() - t0, 1)

    c.heading("summary")
    rows = []
    for name in chosen:
        found = results[name]
        if "error" in found:
            rows.append((name, "—", "—", "FAILED", found["error"][:60]))
        elif found.get("skipped"):
            rows.append((name, "—", "—", "SKIPPED", found["skipped"][:60]))
        for item in found.get("summary", []):
            rows.append(
                (
                    item["benchmark"],
                    item["figure"],
                    item["target"],
                    c.verdict(item["met"]),
                    item["vs_baseline"],
                )
            )
    print(c.table(["benchmark", "figure", "target", "status", "vs baseline (same run)"], rows, align="lrrll"))
    elapsed = time.time() - started
    print()
    c.note(
        "time per benchmark: "
        + ", ".join(f"{k} {v:.0f} s" for k, v in timings.items())
        + f"; total {elapsed:.0f} s"
    )

    payload = {
        "generated_at": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(started)),
        "elapsed_s": round(elapsed, 1),
        "elapsed_per_benchmark_s": timings,
        "machine": machine,
        "summary": [item for name in chosen for item in results[name].get("summary", [])],
        "benchmarks": results,
    }
    path = c.write_results("latest.json", payload)
    c.note(f"results saved to {path.relative_to(c.ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

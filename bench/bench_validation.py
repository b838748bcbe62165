"""Benchmark 3 — coverage validation of the 615-grid Xuanwu demo generation.

Target: ``civicgrid.regions.validation.coverage_problems`` ≤ 2 s on the demo's 683 boundaries
(district, 7 streets, 60 communities, 615 grids).

Baseline in the same run, on the same entries: a naive validator written here — for every
parent, the intersection area of every pair of children (no STRtree, no ``coverage_is_valid``
fast path), every child's difference with the parent, and the parent minus the children's union
folded one ``union`` at a time. It uses the same area rule (planar bound, then geodesic area)
and tolerance, so both must find the same problems; a perturbed copy of one community (a grid moved ~20 m) checks that they do.

Run alone: ``.venv/bin/python bench/bench_validation.py``.
"""

from __future__ import annotations

import functools
import inspect
import statistics
import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as c
import numpy as np
import shapely
from pyproj import Geod

NAME = "validation"
TARGET_S = 2.0
_GEOD = Geod(ellps="WGS84")
# Upper bound of m² per square degree at Chinese latitudes. Floating-point slivers left by a
# difference have zero planar area, yet a few m² of *geodesic* area (a geodesic edge bulges away
# from the straight lon/lat segment under it), so like the validator, a piece counts only when
# its planar area could reach the tolerance.
_M2_PER_DEG2_MAX = 111_320.0**2


# --- the naive baseline -------------------------------------------------------------------------
def _polygon_areas_m2(geometry, tolerance_m2: float) -> list[float]:
    """Geodesic area of each polygonal part that could exceed the tolerance (parts can be lines)."""
    if geometry.is_empty:
        return []
    areas = []
    for part in shapely.get_parts(geometry):
        if part.geom_type in ("Polygon", "MultiPolygon") and not part.is_empty:
            if part.area * _M2_PER_DEG2_MAX >= tolerance_m2:
                areas.append(abs(_GEOD.geometry_area_perimeter(part)[0]))
    return areas


def naive_problems(entries: dict, tolerance_m2: float) -> list[tuple[str, tuple[str, ...]]]:
    """(kind, codes) of every gap, overlap and overhang above the tolerance, the slow way."""
    children: dict[str, list] = defaultdict(list)
    for entry in entries.values():
        if entry.parent_code is not None and entry.parent_code in entries:
            children[entry.parent_code].append(entry)
    found: list[tuple[str, tuple[str, ...]]] = []
    for parent in sorted(entries.values(), key=lambda e: e.code):
        if parent.level == "grid":
            continue
        kids = sorted(children.get(parent.code, []), key=lambda e: e.code)
        for i, a in enumerate(kids):
            for b in kids[i + 1 :]:
                for area in _polygon_areas_m2(a.geometry.intersection(b.geometry), tolerance_m2):
                    if area > tolerance_m2:
                        found.append(("overlap", (a.code, b.code)))
        for kid in kids:
            for area in _polygon_areas_m2(kid.geometry.difference(parent.geometry), tolerance_m2):
                if area > tolerance_m2:
                    found.append(("outside_parent", (kid.code, parent.code)))
        if kids:
            union = functools.reduce(lambda u, g: u.union(g), [k.geometry for k in kids])
            missing = parent.geometry.difference(union)
        else:
            missing = parent.geometry
        for area in _polygon_areas_m2(missing, tolerance_m2):
            if area > tolerance_m2:
                found.append(("gap", (parent.code,)))
    return found


def _keys(problems) -> list[tuple[str, tuple[str, ...]]]:
    """The validator's problems in the naive validator's terms (a gap lists neighbours too)."""
    out = []
    for p in problems:
        codes = tuple(p.codes[:1]) if p.kind == "gap" else tuple(p.codes)
        out.append((p.kind, codes))
    return out


def _by_kind(keys) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for kind, _ in keys:
        counts[kind] += 1
    return dict(sorted(counts.items()))


def perturbed_community(entries: dict, entry_cls) -> tuple[dict, str]:
    """One community (as a root) and its grids, with its first grid shifted ~20 m east."""
    community = next(e for e in sorted(entries.values(), key=lambda e: e.code) if e.level == "community")
    grids = sorted((e for e in entries.values() if e.parent_code == community.code), key=lambda e: e.code)
    moved = grids[0]
    subset = {community.code: entry_cls(community.code, community.level, None, community.geometry)}
    for g in grids:
        geom = (
            shapely.transform(g.geometry, lambda xy: xy + np.array([0.0002, 0.0]))
            if g is moved
            else g.geometry
        )
        subset[g.code] = entry_cls(g.code, g.level, g.parent_code, geom)
    return subset, moved.code


# --- the benchmark ------------------------------------------------------------------------------
def run() -> dict:
    c.django_setup()
    from django.conf import settings

    from civicgrid.regions.validation import Entry, coverage_problems

    c.heading("validation — coverage of the Xuanwu demo generation")
    divisions, build_s = c.demo_divisions()
    entries = {
        d.code: Entry(d.code, d.level, d.parent_code, d.geometry) for d in divisions if d.geometry is not None
    }
    levels = defaultdict(int)
    for e in entries.values():
        levels[e.level] += 1
    tolerance = float(settings.COVERAGE_TOLERANCE_M2)
    # Which regions must have a boundary: by default coverage_problems asks the database's region
    # tree; the bench has none, so it passes the demo's own territorial codes (what `civicgrid demo`
    # writes), keeping the validation pure.
    required = sorted(
        d.code for d in divisions if d.level in ("district", "street", "community") and not d.statistical_only
    )
    extra = {"required": required} if "required" in inspect.signature(coverage_problems).parameters else {}

    found: list = []

    def validate():
        nonlocal found
        found = coverage_problems(entries, **extra)

    times = c.repeat_timed(validate, repeats=5, max_seconds=15.0)
    fast_s = statistics.median(times)

    naive_found: list = []

    def validate_naive():
        nonlocal naive_found
        naive_found = naive_problems(entries, tolerance)

    naive_times = c.repeat_timed(validate_naive, repeats=3, max_seconds=20.0)
    naive_s = statistics.median(naive_times)

    # Correctness: the same verdict on the demo and on a deliberately broken community.
    fast_keys, naive_keys = sorted(_keys(found)), sorted(naive_found)
    broken, moved = perturbed_community(entries, Entry)
    broken_extra = {"required": [code for code in required if code in broken]} if extra else {}
    broken_fast = sorted(_keys(coverage_problems(broken, **broken_extra)))
    broken_naive = sorted(naive_problems(broken, tolerance))

    c.note(
        "entries: "
        + ", ".join(f"{levels[k]:,} {k}" for k in ("district", "street", "community", "grid"))
        + f" = {len(entries):,} boundaries; tolerance {tolerance:g} m² (geodesic)"
    )
    c.note(f"drawing the demo (xuanwu.build) took {build_s:.2f} s — not part of the figure")
    c.note(
        f"correctness: demo → validator {len(fast_keys)} problems, naive {len(naive_keys)}, "
        f"{'same' if fast_keys == naive_keys else 'DIFFERENT'}; one grid ({moved}) moved ~20 m → "
        f"validator {_by_kind(broken_fast)}, naive {_by_kind(broken_naive)}, "
        f"{'same' if broken_fast == broken_naive else 'DIFFERENT'}"
    )
    print()
    rows = [
        ("coverage_problems", len(times), fast_s, min(times), len(found)),
        ("naive all-pairs validator", len(naive_times), naive_s, min(naive_times), len(naive_found)),
    ]
    print(
        c.table(
            ["validator", "runs", "median", "best", "problems", "vs naive"],
            [
                (name, str(n), c.fmt_dur(med), c.fmt_dur(best), str(p), c.fmt_ratio(c.ratio(naive_s, med)))
                for name, n, med, best, p in rows
            ],
        )
    )
    print()
    c.note("vs naive = naive median time over this median time")
    met = fast_s <= TARGET_S
    print(f"  target: validate the 615-grid demo ≤ {TARGET_S:g} s → {c.verdict(met)} ({c.fmt_dur(fast_s)})")
    return {
        "entries": dict(levels),
        "tolerance_m2": tolerance,
        "demo_build_s": build_s,
        "coverage_problems": {"times_s": times, "median_s": fast_s, "problems": len(found)},
        "naive": {"times_s": naive_times, "median_s": naive_s, "problems": len(naive_found)},
        "agreement": {
            "demo_same": fast_keys == naive_keys,
            "perturbed_grid": moved,
            "perturbed_validator": _by_kind(broken_fast),
            "perturbed_naive": _by_kind(broken_naive),
            "perturbed_same": broken_fast == broken_naive,
        },
        "target_s": TARGET_S,
        "met": met,
        "ratio_vs_naive": c.ratio(naive_s, fast_s),
        "summary": [
            {
                "benchmark": "validate demo generation",
                "figure": c.fmt_dur(fast_s),
                "target": f"≤ {TARGET_S:g} s",
                "met": met,
                "vs_baseline": f"{c.fmt_ratio(c.ratio(naive_s, fast_s))} naive",
            }
        ],
    }


if __name__ == "__main__":
    c.standalone(NAME, run)

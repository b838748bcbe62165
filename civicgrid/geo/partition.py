"""Deterministic subdivision of a polygon into k plausible, gap-free parts.

Used by the demo to draw synthetic streets, communities and grids inside a real outline (no
public polygons exist below district level). The method is weighted k-means (Lloyd) over
points sampled from the parent with a density function, then the Voronoi diagram of the
centres clipped to the parent: dense places get more, smaller cells. Detached slivers that
clipping leaves behind are handed to the neighbour sharing the longest border, so every part is
one polygon wherever the parent allows it. The same seed gives the same parts, to the byte.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

Density = Callable[[np.ndarray, np.ndarray], np.ndarray]
# Coordinates are never rounded here: a vertex that clipping puts on a parent's long edge would
# move off that edge by up to half a centimetre, which over a kilometre-long edge is square
# metres of overhang. Doubles are written in their shortest exact form instead.


def sample_points(parent: BaseGeometry, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``n`` points uniformly distributed inside ``parent`` (rejection sampling on its bounds)."""
    xmin, ymin, xmax, ymax = parent.bounds
    shapely.prepare(parent)
    xs: list[np.ndarray] = []
    ys: list[np.ndarray] = []
    have = 0
    while have < n:
        x = rng.uniform(xmin, xmax, n * 2)
        y = rng.uniform(ymin, ymax, n * 2)
        inside = shapely.contains_xy(parent, x, y)
        xs.append(x[inside])
        ys.append(y[inside])
        have += int(inside.sum())
    return np.concatenate(xs)[:n], np.concatenate(ys)[:n]


def weighted_kmeans(
    x: np.ndarray, y: np.ndarray, w: np.ndarray, k: int, rng: np.random.Generator, *, init=None, iterations=25
) -> np.ndarray:
    """Lloyd's algorithm on weighted points; returns k centres, each moved onto a sample point."""
    pts = np.column_stack([x, y])
    if init is not None:
        centres = np.asarray(init, dtype=float).copy()
    else:
        # k-means++ seeding, driven by the generator so the result is reproducible.
        centres = np.empty((k, 2))
        centres[0] = pts[rng.choice(len(pts), p=w / w.sum())]
        d2 = np.sum((pts - centres[0]) ** 2, axis=1)
        for i in range(1, k):
            p = d2 * w
            centres[i] = pts[rng.choice(len(pts), p=p / p.sum())]
            d2 = np.minimum(d2, np.sum((pts - centres[i]) ** 2, axis=1))
    for _ in range(iterations):
        dist = ((pts[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2)
        label = dist.argmin(axis=1)
        for c in range(k):
            members = label == c
            if members.any():
                centres[c] = np.average(pts[members], axis=0, weights=w[members])
    # A centre of a concave parent can fall outside it; its sample medoid never does.
    dist = ((pts[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2)
    nearest = dist.argmin(axis=0)
    snapped = pts[nearest]
    # Two centres snapped to one sample would make an empty cell: nudge the later one.
    _, first = np.unique(nearest, return_index=True)
    for c in sorted(set(range(k)) - set(first.tolist())):
        taken = {tuple(s) for s in snapped[:c]}
        order = np.argsort(dist[:, c])
        snapped[c] = next(pts[i] for i in order if tuple(pts[i]) not in taken)
    return snapped


def voronoi_parts(parent: BaseGeometry, centres: np.ndarray) -> list[BaseGeometry]:
    """The Voronoi cells of ``centres`` clipped to ``parent``, in the order of ``centres``."""
    diagram = shapely.voronoi_polygons(shapely.multipoints(centres), extend_to=parent, ordered=True)
    cells = [cell.intersection(parent) for cell in diagram.geoms]
    return _absorb_fragments(cells)


def _absorb_fragments(cells: list[BaseGeometry]) -> list[BaseGeometry]:
    """Give each cell's detached smaller parts to the neighbour sharing the longest border."""
    cells = list(cells)
    for i, cell in enumerate(cells):
        if cell.geom_type != "MultiPolygon":
            continue
        parts = sorted(cell.geoms, key=lambda p: p.area, reverse=True)
        keep = [parts[0]]
        for part in parts[1:]:
            best, best_len = None, 0.0
            for j, other in enumerate(cells):
                if j == i:
                    continue
                shared = part.boundary.intersection(other).length
                if shared > best_len:
                    best, best_len = j, shared
            if best is None:
                keep.append(part)  # an island of the parent itself: nothing to merge with
            else:
                cells[best] = cells[best].union(part)
        cells[i] = shapely.union_all(keep)
    return cells


def subdivide(
    parent: BaseGeometry,
    k: int,
    *,
    density: Density,
    seed: int,
    anchors: Sequence[tuple[float, float]] | None = None,
    samples_per_part: int = 300,
) -> list[BaseGeometry]:
    """Split ``parent`` into ``k`` parts, smaller where ``density`` is higher."""
    if k < 1:
        raise ValueError("k must be at least 1")
    if k == 1:
        return [parent]
    rng = np.random.default_rng(seed)
    x, y = sample_points(parent, max(2000, k * samples_per_part), rng)
    w = density(x, y)
    centres = weighted_kmeans(x, y, w, k, rng, init=anchors, iterations=3 if anchors is not None else 25)
    return voronoi_parts(parent, centres)


def allocate(total: int, weights: Sequence[float], *, minimum: int = 1) -> list[int]:
    """Split an integer ``total`` in proportion to ``weights`` (largest remainder), each ≥ minimum."""
    n = len(weights)
    if total < minimum * n:
        raise ValueError(f"cannot give {n} parts at least {minimum} each out of {total}")
    w = np.asarray(weights, dtype=float)
    spare = total - minimum * n
    exact = w / w.sum() * spare
    counts = np.floor(exact).astype(int)
    remainder = spare - counts.sum()
    # Ties broken by position so the split is reproducible.
    order = np.lexsort((np.arange(n), -(exact - counts)))
    counts[order[:remainder]] += 1
    return [int(c) + minimum for c in counts]


def reading_order(geometries: Sequence[BaseGeometry]) -> list[int]:
    """Indices in CJ/T 213 numbering order: north→south in rows, west→east within a row.

    Rows are bands one typical cell high, so slightly staggered cells still read as one row.
    """
    points = [g.representative_point() for g in geometries]
    mean_area = float(np.mean([g.area for g in geometries]))
    band = max(mean_area**0.5, 1e-9)
    top = max(p.y for p in points)
    return sorted(
        range(len(points)), key=lambda i: (int((top - points[i].y) // band), points[i].x, points[i].y)
    )

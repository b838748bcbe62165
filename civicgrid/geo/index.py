"""GridIndex: point → grid lookup over one boundary generation, in process.

Two layers make it fast:

1. A uniform lattice over the generation's bounds. Each lattice cell is either *owned* (its
   whole box lies inside exactly one grid), *outside* (it touches no grid) or *ambiguous*
   (a boundary crosses it); ambiguous cells keep the short list of grids that touch them.
   Most points resolve with one array lookup.
2. For points in ambiguous cells, the candidate grids are tested with GEOS on prepared
   geometries — vectorised over all (point, candidate) pairs in bulk.

A point on an edge shared by two grids belongs to the grid whose code sorts first, every time:
candidates are kept in code order and interior hits are tried before boundary hits.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import shapely
from pyproj import Geod
from shapely import STRtree
from shapely.geometry.base import BaseGeometry

OUTSIDE = -1
_AMBIGUOUS = -2
_GEOD = Geod(ellps="WGS84")


@dataclass(frozen=True)
class Nearest:
    """The grid nearest to a point that lies in none, and the geodesic distance to it."""

    index: int
    code: str
    distance_m: float


class GridIndex:
    """Locate WGS-84 lon/lat points in a fixed set of non-overlapping polygons."""

    def __init__(
        self,
        codes: Sequence[str],
        geometries: Sequence[BaseGeometry],
        *,
        cells_per_grid: int = 96,
        max_cells: int = 2_000_000,
    ) -> None:
        if len(codes) != len(geometries):
            raise ValueError("codes and geometries differ in length")
        if not codes:
            raise ValueError("a GridIndex needs at least one grid")
        order = sorted(range(len(codes)), key=lambda i: codes[i])
        self.codes: list[str] = [codes[i] for i in order]
        self.geometries = np.array([geometries[i] for i in order], dtype=object)
        shapely.prepare(self.geometries)
        self.tree = STRtree(self.geometries)
        self._build_lattice(cells_per_grid, max_cells)

    def __len__(self) -> int:
        return len(self.codes)

    # --- building ---------------------------------------------------------------------------
    def _build_lattice(self, cells_per_grid: int, max_cells: int) -> None:
        xmin, ymin, xmax, ymax = shapely.total_bounds(self.geometries)
        width, height = max(xmax - xmin, 1e-9), max(ymax - ymin, 1e-9)
        target = min(max_cells, max(1024, len(self.codes) * cells_per_grid))
        cell = math.sqrt(width * height / target)
        self.nx = max(1, math.ceil(width / cell))
        self.ny = max(1, math.ceil(height / cell))
        self.x0, self.y0, self.cell = float(xmin), float(ymin), float(cell)
        self.inv_cell = 1.0 / self.cell
        n_cells = self.nx * self.ny

        owner = np.full(n_cells, OUTSIDE, dtype=np.int32)
        pair_cells: list[np.ndarray] = []
        pair_grids: list[np.ndarray] = []
        # Build in row bands so memory stays bounded for a 20,000-grid city.
        rows_per_band = max(1, 200_000 // self.nx)
        for row0 in range(0, self.ny, rows_per_band):
            rows = np.arange(row0, min(self.ny, row0 + rows_per_band))
            ix, iy = np.meshgrid(np.arange(self.nx), rows)
            ix, iy = ix.ravel(), iy.ravel()
            boxes = shapely.box(
                self.x0 + ix * cell, self.y0 + iy * cell, self.x0 + (ix + 1) * cell, self.y0 + (iy + 1) * cell
            )
            box_i, grid_i = self.tree.query(boxes, predicate="intersects")
            cell_ids = iy[box_i] * self.nx + ix[box_i]
            counts = np.bincount(box_i, minlength=len(boxes))
            single = counts[box_i] == 1
            covered = np.zeros(len(box_i), dtype=bool)
            if single.any():
                covered[single] = shapely.covers(self.geometries[grid_i[single]], boxes[box_i[single]])
            owned = single & covered
            owner[cell_ids[owned]] = grid_i[owned]
            ambiguous = ~owned
            owner[cell_ids[ambiguous]] = _AMBIGUOUS
            pair_cells.append(cell_ids[ambiguous])
            pair_grids.append(grid_i[ambiguous])

        cells = np.concatenate(pair_cells) if pair_cells else np.empty(0, dtype=np.int64)
        grids = np.concatenate(pair_grids) if pair_grids else np.empty(0, dtype=np.int64)
        # Sort by cell, then by grid index (= code order), so the first hit is the lowest code.
        by = np.lexsort((grids, cells))
        cells, grids = cells[by], grids[by]
        self._cand_grids = grids.astype(np.int32)
        ptr = np.zeros(n_cells + 1, dtype=np.int64)
        np.add.at(ptr, cells + 1, 1)
        self._cand_ptr = np.cumsum(ptr)
        self._owner = owner
        # array.array indexing is several times faster than NumPy scalar indexing.
        self._owner_py = array("i", owner.tobytes())
        self.ambiguous_share = float(np.mean(owner == _AMBIGUOUS))

    # --- single point -------------------------------------------------------------------------
    def locate(self, lon: float, lat: float) -> int:
        """Index of the grid containing (lon, lat) in WGS-84, or OUTSIDE."""
        fx = (lon - self.x0) * self.inv_cell
        fy = (lat - self.y0) * self.inv_cell
        if not (0.0 <= fx < self.nx and 0.0 <= fy < self.ny):
            return OUTSIDE
        cell_id = int(fy) * self.nx + int(fx)
        owner = self._owner_py[cell_id]
        if owner != _AMBIGUOUS:
            return owner
        lo, hi = self._cand_ptr[cell_id], self._cand_ptr[cell_id + 1]
        candidates = self._cand_grids[lo:hi].tolist()
        geoms = self.geometries
        for grid in candidates:
            if shapely.contains_xy(geoms[grid], lon, lat):
                return grid
        for grid in candidates:
            if shapely.intersects_xy(geoms[grid], lon, lat):
                return grid
        return OUTSIDE

    # --- many points --------------------------------------------------------------------------
    def locate_many(self, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        """Vectorised ``locate``: an int32 array of grid indices, OUTSIDE where none."""
        lon = np.asarray(lon, dtype=float)
        lat = np.asarray(lat, dtype=float)
        fx = (lon - self.x0) * self.inv_cell
        fy = (lat - self.y0) * self.inv_cell
        in_lattice = (fx >= 0) & (fx < self.nx) & (fy >= 0) & (fy < self.ny)
        result = np.full(lon.shape, OUTSIDE, dtype=np.int32)
        cell_ids = fy[in_lattice].astype(np.int64) * self.nx + fx[in_lattice].astype(np.int64)
        result[in_lattice] = self._owner[cell_ids]

        amb = np.flatnonzero(result == _AMBIGUOUS)
        if amb.size:
            result[amb] = self._resolve_ambiguous(lon, lat, amb)
        return result

    def _resolve_ambiguous(self, lon: np.ndarray, lat: np.ndarray, points: np.ndarray) -> np.ndarray:
        cell_ids = ((lat[points] - self.y0) * self.inv_cell).astype(np.int64) * self.nx + (
            (lon[points] - self.x0) * self.inv_cell
        ).astype(np.int64)
        starts = self._cand_ptr[cell_ids]
        lengths = self._cand_ptr[cell_ids + 1] - starts
        pair_point = np.repeat(np.arange(points.size), lengths)
        offsets = np.arange(pair_point.size) - np.repeat(np.cumsum(lengths) - lengths, lengths)
        pair_grid = self._cand_grids[np.repeat(starts, lengths) + offsets]
        px, py = lon[points][pair_point], lat[points][pair_point]

        found = np.full(points.size, OUTSIDE, dtype=np.int32)
        for predicate in (shapely.contains_xy, shapely.intersects_xy):
            todo = found[pair_point] == OUTSIDE
            if not todo.any():
                break
            hit = np.zeros(pair_point.size, dtype=bool)
            hit[todo] = predicate(self.geometries[pair_grid[todo]], px[todo], py[todo])
            hit_pairs = np.flatnonzero(hit)
            # Pairs are in code order within a point; keep each point's first hit.
            first_points, first_at = np.unique(pair_point[hit_pairs], return_index=True)
            found[first_points] = pair_grid[hit_pairs[first_at]]
        return found

    # --- outside the coverage -----------------------------------------------------------------
    def nearest(self, lon: float, lat: float) -> Nearest:
        point = shapely.Point(lon, lat)
        grid = int(self.tree.query_nearest(point, all_matches=False)[0])
        near_point = shapely.shortest_line(self.geometries[grid], point).coords[0]
        _, _, distance = _GEOD.inv(lon, lat, near_point[0], near_point[1])
        return Nearest(index=grid, code=self.codes[grid], distance_m=float(distance))

"""GPS tracks of patrols: which points to trust, how long the walk was, and how much of a grid it
covered. Pure NumPy/Shapely (no Django), so the rules can be tested against hand-computed figures.

Flags. A point less accurate than ``max_accuracy_m`` is *inaccurate*. A point reached from the
previous *used* point faster than ``max_speed_kmh`` is a *jump* (a phone that fell back to a cell
tower or Wi-Fi fix reports positions hundreds of metres off). The first point is used. Flags are
kept, never thrown away: the worker and the chief see them.

A worker who really moved fast (a bus between two blocks) would otherwise leave every later
point a jump, since they are all far from the last used one. So a point that is a jump from the
last used point but plausible from the jump just before it is used again: the track resumes
there. Either way, the line never runs across a jump: the next used point after one starts a new
piece of track, because nobody knows where the worker walked while the fixes were wrong.

Metres. Distances and buffers are computed in a local frame centred on the area at hand: an
equirectangular projection scaled by the WGS-84 radii of curvature at the centre. It is an affine
map of lon/lat, so area *shares* are the same in degrees and in metres, and over a grid (≲ 2 km)
its distances are within 0.01 % of geodesic ones — more than good enough next to GPS error, and
cheaper than pyproj by a wide margin.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

# The values of patrol.models.PointFlag (geo imports no Django).
OK, INACCURATE, JUMP = 0, 1, 2
DEFAULT_DISTANCE_M = 30.0
# The WGS-84 ellipsoid.
_A = 6_378_137.0
_E2 = 0.00669437999014
# A buffer's round ends as GEOS draws them by default: 8 segments per quarter circle.
_QUAD_SEGS = 8
# Track vertices closer than this to the line through their neighbours add nothing a 30 m
# buffer could show next to GPS noise of several metres; dropping them makes buffering faster.
_SIMPLIFY_M = 1.0
# Segments per stretch of track buffered at once (see ``coverage``).
_CHUNK = 25


class LocalFrame:
    """Metres east (x) and north (y) of a centre point, for an area a few kilometres across."""

    def __init__(self, lon0: float, lat0: float):
        self.lon0, self.lat0 = float(lon0), float(lat0)
        phi = math.radians(self.lat0)
        w = 1.0 - _E2 * math.sin(phi) ** 2
        prime_vertical = _A / math.sqrt(w)
        meridional = _A * (1.0 - _E2) / w**1.5
        self.kx = prime_vertical * math.cos(phi) * math.pi / 180.0  # metres per degree of longitude
        self.ky = meridional * math.pi / 180.0  # metres per degree of latitude

    @classmethod
    def around(cls, geometry: BaseGeometry) -> LocalFrame:
        xmin, ymin, xmax, ymax = geometry.bounds
        return cls((xmin + xmax) / 2, (ymin + ymax) / 2)

    def xy(self, lon, lat) -> tuple[np.ndarray, np.ndarray]:
        lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
        return (lon - self.lon0) * self.kx, (lat - self.lat0) * self.ky

    def to_metres(self, geometry: BaseGeometry) -> BaseGeometry:
        return shapely.transform(geometry, lambda c: np.column_stack(self.xy(c[:, 0], c[:, 1])))

    def to_degrees(self, geometry: BaseGeometry) -> BaseGeometry:
        return shapely.transform(
            geometry,
            lambda c: np.column_stack((c[:, 0] / self.kx + self.lon0, c[:, 1] / self.ky + self.lat0)),
        )


@dataclass(frozen=True)
class Fix:
    """A position already judged (its time in seconds since the epoch)."""

    t: float
    lon: float
    lat: float


@dataclass(frozen=True)
class FlagState:
    """Where flagging stands after the points so far: the last used point, and the last accurate
    point if it was a jump after that one (from which the track may resume)."""

    last_used: Fix | None = None
    last_jump: Fix | None = None


@dataclass
class Flagged:
    flags: np.ndarray  # int8: OK, INACCURATE or JUMP per point
    # Per point: the accuracy (m) of an inaccurate one, the speed (km/h) of a jump, else NaN.
    measure: np.ndarray
    state: FlagState


def flag_points(
    t: Sequence[float],
    lon: Sequence[float],
    lat: Sequence[float],
    accuracy: Sequence[float | None],
    *,
    max_speed_kmh: float,
    max_accuracy_m: float,
    state: FlagState | None = None,
) -> Flagged:
    """Flag each point of a batch (in track order), continuing from ``state`` (the points before).
    An accuracy of None (not reported) is not held against the point."""
    state = state or FlagState()
    t = np.asarray(t, dtype=float)
    acc = np.array([np.nan if a is None else a for a in accuracy], dtype=float)
    n = len(t)
    flags = np.zeros(n, dtype=np.int8)
    measure = np.full(n, np.nan)
    poor = acc > max_accuracy_m  # NaN compares False: unknown accuracy is usable
    flags[poor] = INACCURATE
    measure[poor] = acc[poor]
    if n == 0:
        return Flagged(flags, measure, state)
    frame = LocalFrame(float(lon[0]), float(lat[0]))
    x, y = frame.xy(lon, lat)
    limit = max_speed_kmh / 3.6  # m/s

    def anchor(fix: Fix | None):
        if fix is None:
            return None
        ax, ay = frame.xy(fix.lon, fix.lat)
        return float(ax), float(ay), fix.t

    def speed(a, i: int) -> float:
        dist = math.hypot(x[i] - a[0], y[i] - a[1])
        dt = t[i] - a[2]
        if dt <= 0:  # the same instant (or a clock stepping back): only standing still is possible
            return 0.0 if dist < 1.0 else math.inf
        return dist / dt

    used, jump = anchor(state.last_used), anchor(state.last_jump)
    used_fix, jump_fix = state.last_used, state.last_jump
    for i in range(n):
        if poor[i]:
            continue
        here = (float(x[i]), float(y[i]), float(t[i]))
        if used is None or speed(used, i) <= limit or (jump is not None and speed(jump, i) <= limit):
            used, jump = here, None
            used_fix, jump_fix = Fix(float(t[i]), float(lon[i]), float(lat[i])), None
        else:
            flags[i] = JUMP
            measure[i] = speed(used, i) * 3.6
            jump = here
            jump_fix = Fix(float(t[i]), float(lon[i]), float(lat[i]))
    return Flagged(flags, measure, FlagState(used_fix, jump_fix))


def pieces(flags: Sequence[int]) -> list[np.ndarray]:
    """Indices of the used points, split into pieces of track wherever a jump lies between two
    used points (a jump never draws a line)."""
    flags = np.asarray(flags)
    used = np.flatnonzero(flags == OK)
    if used.size == 0:
        return []
    jumps = np.cumsum(flags == JUMP)
    # A new piece starts at a used point when a jump was flagged since the previous used point.
    breaks = np.flatnonzero(jumps[used[1:]] != jumps[used[:-1]]) + 1
    return np.split(used, breaks)


def track_length_m(lon, lat, flags, frame: LocalFrame | None = None) -> float:
    """Metres walked along the used points, piece by piece."""
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    if lon.size == 0:
        return 0.0
    frame = frame or LocalFrame(float(lon.mean()), float(lat.mean()))
    x, y = frame.xy(lon, lat)
    return float(sum(np.hypot(np.diff(x[p]), np.diff(y[p])).sum() for p in pieces(flags)))


def track_lines(lon, lat, flags) -> BaseGeometry:
    """The used track in WGS-84: a MultiLineString of its pieces (a lone point makes no line)."""
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    lines = [shapely.linestrings(lon[p], lat[p]) for p in pieces(flags) if p.size > 1]
    return shapely.multilinestrings(lines) if lines else shapely.MultiLineString()


@dataclass
class Coverage:
    share: float  # of the grid's area, 0..1
    covered: BaseGeometry  # the covered part of the grid, WGS-84
    covered_m2: float
    grid_m2: float


def coverage(grid: BaseGeometry, lon, lat, flags, *, distance_m: float = DEFAULT_DISTANCE_M) -> Coverage:
    """The part of ``grid`` (WGS-84 polygon) within ``distance_m`` of the used track."""
    frame = LocalFrame.around(grid)
    area = frame.to_metres(grid)
    grid_m2 = float(area.area)
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    parts = pieces(flags)
    if not parts or grid_m2 <= 0:
        return Coverage(0.0, shapely.Polygon(), 0.0, grid_m2)
    x, y = frame.xy(lon, lat)
    shapes = []
    for p in parts:
        line = shapely.linestrings(x[p], y[p]) if p.size > 1 else None
        if line is None or line.length == 0:  # one fix, or standing still: a disc, not nothing
            shapes.append(shapely.points(x[p[0]], y[p[0]]))
            continue
        coords = shapely.get_coordinates(shapely.simplify(line, _SIMPLIFY_M))
        # Short stretches (sharing their end vertices) buffered one by one and then merged: GEOS
        # buffers one long line that crosses itself again and again (a patrol walks its streets
        # back and forth) some 30 times slower than it unions the pieces' buffers.
        for i in range(0, max(len(coords) - 1, 1), _CHUNK):
            shapes.append(shapely.linestrings(coords[i : i + _CHUNK + 1]))
    reach = shapely.union_all(
        shapely.buffer(np.array(shapes, dtype=object), distance_m, quad_segs=_QUAD_SEGS)
    )
    covered = shapely.intersection(reach, area)
    covered_m2 = float(covered.area)
    return Coverage(min(1.0, covered_m2 / grid_m2), frame.to_degrees(covered), covered_m2, grid_m2)


def union_share(grid: BaseGeometry, covered: Sequence[BaseGeometry]) -> tuple[float, BaseGeometry]:
    """The share of ``grid`` covered by the union of several covered areas (WGS-84), and the union.
    The local frame is affine, so the share in degrees equals the share in metres."""
    parts = [g for g in covered if g is not None and not g.is_empty]
    if not parts or grid.area <= 0:
        return 0.0, shapely.Polygon()
    union = shapely.intersection(shapely.union_all(parts), grid)
    return min(1.0, float(union.area / grid.area)), union

"""Square-ish spatial cells for "what is near this point" on an ordinary B-tree index.

A point's cell is one integer (row × 2^20 + column) on a fixed lattice of 0.0025° of latitude
(≈ 278 m) by 0.003° of longitude (≈ 283 m at Nanjing's 32°N). The cells within ``radius_m`` of
a point are a small block around its own (3 × 3 for the usual 100 m), so a nearby search is a
handful of index ranges, not a scan, on SQLite and PostgreSQL alike. Exact distances are then
computed for the few candidates (``distance_m``).
"""

from __future__ import annotations

import math

LAT_STEP = 0.0025
LON_STEP = 0.003
_COLS = 1 << 20
# Metres per degree of latitude (mean); longitude shrinks by cos(latitude).
_M_PER_DEG = 111_320.0


def _row_col(lon: float, lat: float) -> tuple[int, int]:
    return math.floor((lat + 90.0) / LAT_STEP), math.floor((lon + 180.0) / LON_STEP)


def cell_of(lon: float, lat: float) -> int:
    """The cell holding (lon, lat), WGS-84 degrees."""
    row, col = _row_col(lon, lat)
    return row * _COLS + col


def cells_near(lon: float, lat: float, radius_m: float) -> list[int]:
    """Every cell that may hold a point within ``radius_m`` metres of (lon, lat)."""
    d_lat = radius_m / _M_PER_DEG
    d_lon = radius_m / (_M_PER_DEG * max(math.cos(math.radians(lat)), 0.01))
    row0, col0 = _row_col(lon - d_lon, lat - d_lat)
    row1, col1 = _row_col(lon + d_lon, lat + d_lat)
    return [r * _COLS + c for r in range(row0, row1 + 1) for c in range(col0, col1 + 1)]


def distance_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle distance in metres (haversine on a 6,371 km sphere)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6_371_000.0 * math.asin(min(1.0, math.sqrt(h)))

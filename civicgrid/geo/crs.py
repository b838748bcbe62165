"""Chinese coordinate systems: WGS-84 (canonical), GCJ-02 and BD-09.

GCJ-02 is the obfuscated datum that Chinese law requires of published maps (Amap, Tencent);
BD-09 is Baidu's further offset of it. The forward transforms are the published formulas; the
inverses are solved by fixed-point iteration to well under a millimetre, because the one-step
inverse in common use is off by about a metre (see shared/data/xuanwu/README.md).

Every function takes scalars or NumPy arrays (lon first, then lat) and returns the same kind.
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np

CRS = Literal["wgs84", "gcj02", "bd09"]
CRS_CHOICES: tuple[str, ...] = ("wgs84", "gcj02", "bd09")

# Krasovsky 1940 ellipsoid as used by the GCJ-02 formulas.
_A = 6378245.0
_EE = 0.00669342162296594323
_X_PI = math.pi * 3000.0 / 180.0
# Below 1e-10 degrees (about 0.01 mm) the iteration has converged.
_EPS = 1e-10
_MAX_ITER = 30


def _out_of_china(lon, lat):
    # The published transform leaves points outside this box unchanged.
    return (lon < 72.004) | (lon > 137.8347) | (lat < 0.8293) | (lat > 55.8271)


def _delta(lon, lat):
    x = lon - 105.0
    y = lat - 35.0
    sqrt_abs_x = np.sqrt(np.abs(x))
    d_lat = (
        -100.0
        + 2.0 * x
        + 3.0 * y
        + 0.2 * y * y
        + 0.1 * x * y
        + 0.2 * sqrt_abs_x
        + (20.0 * np.sin(6.0 * x * math.pi) + 20.0 * np.sin(2.0 * x * math.pi)) * 2.0 / 3.0
        + (20.0 * np.sin(y * math.pi) + 40.0 * np.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
        + (160.0 * np.sin(y / 12.0 * math.pi) + 320.0 * np.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    )
    d_lon = (
        300.0
        + x
        + 2.0 * y
        + 0.1 * x * x
        + 0.1 * x * y
        + 0.1 * sqrt_abs_x
        + (20.0 * np.sin(6.0 * x * math.pi) + 20.0 * np.sin(2.0 * x * math.pi)) * 2.0 / 3.0
        + (20.0 * np.sin(x * math.pi) + 40.0 * np.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
        + (150.0 * np.sin(x / 12.0 * math.pi) + 300.0 * np.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    )
    rad_lat = lat / 180.0 * math.pi
    magic = 1.0 - _EE * np.sin(rad_lat) ** 2
    sqrt_magic = np.sqrt(magic)
    d_lat = (d_lat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrt_magic) * math.pi)
    d_lon = (d_lon * 180.0) / (_A / sqrt_magic * np.cos(rad_lat) * math.pi)
    return d_lon, d_lat


def _as_arrays(lon, lat):
    scalar = np.isscalar(lon) and np.isscalar(lat)
    return np.asarray(lon, dtype=float), np.asarray(lat, dtype=float), scalar


def _result(lon, lat, scalar):
    if scalar:
        return float(lon), float(lat)
    return lon, lat


def wgs84_to_gcj02(lon, lat):
    lon, lat, scalar = _as_arrays(lon, lat)
    d_lon, d_lat = _delta(lon, lat)
    outside = _out_of_china(lon, lat)
    return _result(np.where(outside, lon, lon + d_lon), np.where(outside, lat, lat + d_lat), scalar)


def gcj02_to_bd09(lon, lat):
    lon, lat, scalar = _as_arrays(lon, lat)
    z = np.sqrt(lon * lon + lat * lat) + 0.00002 * np.sin(lat * _X_PI)
    theta = np.arctan2(lat, lon) + 0.000003 * np.cos(lon * _X_PI)
    return _result(z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006, scalar)


def _invert(forward, lon, lat):
    """Solve forward(x) = target by fixed-point iteration (the Jacobian is near identity)."""
    lon, lat, scalar = _as_arrays(lon, lat)
    x, y = lon.copy(), lat.copy()
    for _ in range(_MAX_ITER):
        fx, fy = forward(x, y)
        dx, dy = fx - lon, fy - lat
        x = x - dx
        y = y - dy
        if np.all(np.abs(dx) < _EPS) and np.all(np.abs(dy) < _EPS):
            break
    return _result(x, y, scalar)


def gcj02_to_wgs84(lon, lat):
    return _invert(wgs84_to_gcj02, lon, lat)


def bd09_to_gcj02(lon, lat):
    return _invert(gcj02_to_bd09, lon, lat)


def wgs84_to_bd09(lon, lat):
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


def bd09_to_wgs84(lon, lat):
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))


def _identity(lon, lat):
    lon, lat, scalar = _as_arrays(lon, lat)
    return _result(lon, lat, scalar)


_TO_WGS84 = {"wgs84": _identity, "gcj02": gcj02_to_wgs84, "bd09": bd09_to_wgs84}
_FROM_WGS84 = {"wgs84": _identity, "gcj02": wgs84_to_gcj02, "bd09": wgs84_to_bd09}


def convert(lon, lat, *, source: str, target: str):
    """Convert coordinates between any two of ``wgs84``, ``gcj02`` and ``bd09``."""
    if source not in _TO_WGS84 or target not in _FROM_WGS84:
        raise ValueError(f"unknown CRS: {source!r} → {target!r}; use one of {', '.join(CRS_CHOICES)}")
    if source == target:
        return _identity(lon, lat)
    return _FROM_WGS84[target](*_TO_WGS84[source](lon, lat))


def to_wgs84(lon, lat, crs: str):
    return convert(lon, lat, source=crs, target="wgs84")

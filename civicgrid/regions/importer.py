"""Reading a boundary file: GeoJSON in, checked features out, every problem located.

Nothing here writes to the database; ``services.generation_import`` decides what to keep.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

import numpy as np
import shapely
from django.utils.translation import gettext as _
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from civicgrid.geo.coverage import Problem
from civicgrid.regions.codes import parse_grid_code
from civicgrid.regions.models import GridType, Level, Region

# Mainland China with a margin; a point outside is not a Chinese lon/lat.
CHINA_LON = (73.0, 136.0)
CHINA_LAT = (3.0, 54.0)

_LEVEL_ALIASES = {
    "district": Level.DISTRICT,
    "区": Level.DISTRICT,
    "县": Level.DISTRICT,
    "street": Level.STREET,
    "街道": Level.STREET,
    "乡镇": Level.STREET,
    "community": Level.COMMUNITY,
    "社区": Level.COMMUNITY,
    "grid": Level.GRID,
    "网格": Level.GRID,
}
_GRID_TYPE_ALIASES = {
    "comprehensive": GridType.COMPREHENSIVE,
    "综合": GridType.COMPREHENSIVE,
    "综合网格": GridType.COMPREHENSIVE,
    "dedicated": GridType.DEDICATED,
    "专属": GridType.DEDICATED,
    "专属网格": GridType.DEDICATED,
}
ATTRIBUTE_FIELDS = ("households", "population", "buildings", "land_use")


@dataclass
class PropertyMap:
    """Which feature property holds which field; offices' files name them differently."""

    code: str = "code"
    name: str = "name"
    level: str = "level"
    parent: str = "parent_code"
    grid_type: str = "grid_type"

    @classmethod
    def from_pairs(cls, pairs: list[str]) -> PropertyMap:
        """Parse ``field=property`` pairs as given on the command line."""
        mapping = cls()
        for pair in pairs:
            target, _sep, prop = pair.partition("=")
            if not prop or target not in cls.__dataclass_fields__:
                fields = ", ".join(cls.__dataclass_fields__)
                raise ValueError(f"bad mapping {pair!r}: use FIELD=PROPERTY with FIELD one of {fields}")
            setattr(mapping, target, prop)
        return mapping


@dataclass
class Feature:
    """One checked feature of an imported file."""

    index: int
    code: str
    name: str
    level: str
    parent_code: str | None
    geometry: BaseGeometry
    grid_type: str = ""
    attributes: dict = field(default_factory=dict)


def _problem(kind: str, message: str, *, feature=None, codes=(), lon=None, lat=None) -> Problem:
    return Problem(
        kind=kind, codes=list(codes), area_m2=None, lon=lon, lat=lat, message=message, feature=feature
    )


def _first_xy(geometry_json) -> tuple[float | None, float | None]:
    coords = geometry_json.get("coordinates") if isinstance(geometry_json, dict) else None
    while isinstance(coords, list) and coords and isinstance(coords[0], list):
        coords = coords[0]
    if isinstance(coords, list) and len(coords) >= 2 and all(isinstance(c, int | float) for c in coords[:2]):
        return float(coords[0]), float(coords[1])
    return None, None


def _check_lonlat(geometry: BaseGeometry, index: int, code: str) -> Problem | None:
    xy = shapely.get_coordinates(geometry)
    lon, lat = xy[:, 0], xy[:, 1]
    in_china = (lon >= CHINA_LON[0]) & (lon <= CHINA_LON[1]) & (lat >= CHINA_LAT[0]) & (lat <= CHINA_LAT[1])
    if in_china.all():
        return None
    first = (float(xy[0, 0]), float(xy[0, 1]))
    swapped = (lat >= CHINA_LON[0]) & (lat <= CHINA_LON[1]) & (lon >= CHINA_LAT[0]) & (lon <= CHINA_LAT[1])
    if swapped.all():
        return _problem(
            "swapped_axes",
            _("Coordinates look like lat/lon; GeoJSON needs lon/lat (longitude first)."),
            feature=index,
            codes=[code] if code else [],
            lon=first[1],
            lat=first[0],
        )
    if (np.abs(lon) > 180).any() or (np.abs(lat) > 90).any():
        message = _("Coordinates look like projected metres; give WGS-84 longitude/latitude in degrees.")
        return _problem("projected_coordinates", message, feature=index, codes=[code] if code else [])
    return _problem(
        "outside_china",
        _("Coordinates fall outside China; give WGS-84 longitude/latitude."),
        feature=index,
        codes=[code] if code else [],
        lon=first[0],
        lat=first[1],
    )


_REASON_AT = re.compile(r"\[\s*(-?[\d.eE+-]+)\s+(-?[\d.eE+-]+)\s*\]")


def _check_geometry(raw, index: int, code: str) -> tuple[BaseGeometry | None, Problem | None]:
    codes = [code] if code else []
    if not isinstance(raw, dict) or raw.get("type") not in ("Polygon", "MultiPolygon"):
        kind = raw.get("type") if isinstance(raw, dict) else None
        message = _("Geometry must be a Polygon or MultiPolygon, not %(kind)s.") % {
            "kind": kind or _("nothing")
        }
        lon, lat = _first_xy(raw)
        return None, _problem("not_polygon", message, feature=index, codes=codes, lon=lon, lat=lat)
    try:
        geometry = shape(raw)
    except Exception as exc:  # shapely raises several types for malformed rings
        lon, lat = _first_xy(raw)
        message = _("Geometry cannot be read: %(reason)s") % {"reason": exc}
        return None, _problem("invalid_geometry", message, feature=index, codes=codes, lon=lon, lat=lat)
    if geometry.is_empty:
        return None, _problem("invalid_geometry", _("Geometry is empty."), feature=index, codes=codes)
    bad_crs = _check_lonlat(geometry, index, code)
    if bad_crs:
        return None, bad_crs
    if not geometry.is_valid:
        reason = shapely.is_valid_reason(geometry)
        at = _REASON_AT.search(reason)
        lon, lat = (float(at[1]), float(at[2])) if at else _first_xy(raw)
        message = _("Invalid polygon: %(reason)s") % {"reason": reason}
        return None, _problem("invalid_geometry", message, feature=index, codes=codes, lon=lon, lat=lat)
    return geometry, None


def _int_or_none(value):
    if value in (None, ""):
        return None
    number = int(value)
    if number < 0:
        raise ValueError("negative")
    return number


def read_features(data: bytes, mapping: PropertyMap | None = None) -> tuple[list[Feature], list[Problem]]:
    """Parse and check a GeoJSON FeatureCollection; returns the good features and every problem."""
    mapping = mapping or PropertyMap()
    try:
        document = json.loads(data.decode("utf-8-sig") if isinstance(data, bytes) else data)
    except UnicodeDecodeError as exc:
        return [], [_problem("invalid_json", _("File is not UTF-8 text: %(reason)s") % {"reason": exc})]
    except json.JSONDecodeError as exc:
        message = _("Invalid JSON at line %(line)s, column %(col)s: %(reason)s") % {
            "line": exc.lineno,
            "col": exc.colno,
            "reason": exc.msg,
        }
        return [], [_problem("invalid_json", message)]
    if not isinstance(document, dict) or document.get("type") != "FeatureCollection":
        return [], [_problem("not_feature_collection", _("The file must be a GeoJSON FeatureCollection."))]
    raw_features = document.get("features")
    if not isinstance(raw_features, list) or not raw_features:
        return [], [_problem("no_features", _("The FeatureCollection has no features."))]

    regions = {r.code: r for r in Region.objects.only("code", "level", "statistical_only")}
    features: list[Feature] = []
    problems: list[Problem] = []
    seen: dict[str, int] = {}
    for index, raw in enumerate(raw_features):
        props = raw.get("properties") or {} if isinstance(raw, dict) else {}
        code = str(props.get(mapping.code) or "").strip()
        geometry, geometry_problem = _check_geometry(
            raw.get("geometry") if isinstance(raw, dict) else None, index, code
        )
        if geometry_problem:
            problems.append(geometry_problem)
        spot = geometry.representative_point() if geometry is not None else None
        where = {"lon": round(spot.x, 7), "lat": round(spot.y, 7)} if spot else {}

        if not code:
            problems.append(
                _problem(
                    "missing_code",
                    _("Feature has no code (property %(p)s).") % {"p": mapping.code},
                    feature=index,
                    **where,
                )
            )
            continue
        if code in seen:
            message = _("Code %(code)s is used by features %(a)s and %(b)s (counting from 0).") % {
                "code": code,
                "a": seen[code],
                "b": index,
            }
            problems.append(_problem("duplicate_code", message, feature=index, codes=[code], **where))
            continue
        seen[code] = index

        found_level = _LEVEL_ALIASES.get(str(props.get(mapping.level) or "grid").strip().lower())
        if found_level is None:
            message = _("Unknown level %(level)r.") % {"level": props.get(mapping.level)}
            problems.append(_problem("bad_level", message, feature=index, codes=[code], **where))
            continue
        level = found_level.value
        parent_code = str(props.get(mapping.parent) or "").strip() or None
        grid_type = ""
        if level == Level.GRID:
            parsed = parse_grid_code(code)
            if parsed is None:
                message = _("Grid code %(code)s does not fit the configured format.") % {"code": code}
                problems.append(_problem("bad_code_format", message, feature=index, codes=[code], **where))
                continue
            if parent_code and parent_code != parsed[0]:
                message = _("Grid %(code)s names community %(given)s but its code says %(coded)s.") % {
                    "code": code,
                    "given": parent_code,
                    "coded": parsed[0],
                }
                problems.append(
                    _problem("parent_mismatch", message, feature=index, codes=[code, parent_code], **where)
                )
                continue
            parent_code = parsed[0]
            community = regions.get(parent_code)
            if community is None or community.level != Level.COMMUNITY or community.statistical_only:
                message = _("Grid %(code)s belongs to community %(parent)s, which does not exist.") % {
                    "code": code,
                    "parent": parent_code,
                }
                problems.append(
                    _problem("unknown_community", message, feature=index, codes=[code, parent_code], **where)
                )
                continue
            raw_type = str(props.get(mapping.grid_type) or "comprehensive").strip().lower()
            grid_type = str(_GRID_TYPE_ALIASES.get(raw_type, ""))
            if not grid_type:
                message = _("Unknown grid type %(t)r.") % {"t": props.get(mapping.grid_type)}
                problems.append(_problem("bad_grid_type", message, feature=index, codes=[code], **where))
                continue
        else:
            known = regions.get(code)
            if known is None or known.level != level:
                message = _(
                    "%(level)s %(code)s is not in the region tree; load the division codes first."
                ) % {"level": Level(level).label, "code": code}
                problems.append(_problem("unknown_region", message, feature=index, codes=[code], **where))
                continue

        attributes = {}
        try:
            for name in ("households", "population", "buildings"):
                if props.get(name) not in (None, ""):
                    attributes[name] = _int_or_none(props[name])
        except (TypeError, ValueError):
            message = _("Attribute %(name)s must be a whole number ≥ 0.") % {"name": name}
            problems.append(_problem("bad_attribute", message, feature=index, codes=[code], **where))
            continue
        if props.get("land_use"):
            attributes["land_use"] = str(props["land_use"])[:32]
        if geometry is None:
            continue
        name_value = str(props.get(mapping.name) or "").strip() or code
        features.append(Feature(index, code, name_value, level, parent_code, geometry, grid_type, attributes))
    return features, problems

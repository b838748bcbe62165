"""Reads of the region tree: locate, search, export.

Region geography is public information inside the district (no personal data lives here);
when people and scopes arrive, the per-role filters belong in these functions.
"""

from __future__ import annotations

import json

import numpy as np
import shapely
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _
from shapely.geometry import shape

from civicgrid.audit.services import audit_record
from civicgrid.errors import DomainError, NotFound
from civicgrid.geo import crs as geocrs
from civicgrid.geo.index import OUTSIDE
from civicgrid.regions import locator
from civicgrid.regions.models import Boundary, BoundaryGeneration, Level, Region


def _check_crs(crs: str) -> None:
    if crs not in geocrs.CRS_CHOICES:
        raise DomainError(
            "bad_crs", _("Unknown coordinate system %(crs)s; use wgs84, gcj02 or bd09.") % {"crs": crs}
        )


def _outside_error(loaded: locator.LoadedIndex, lon: float, lat: float) -> dict:
    nearest = loaded.index.nearest(lon, lat)
    place = loaded.places[nearest.index]
    return {
        "code": "outside_district",
        "message": _("The point is outside every grid; the nearest grid %(grid)s is %(d).0f m away.")
        % {"grid": place["grid"]["name"], "d": nearest.distance_m},
        "detail": {"nearest_grid": place["grid"], "distance_m": round(nearest.distance_m, 1)},
    }


def grid_locate(*, lon: float, lat: float, crs: str = "wgs84", generation: int | str | None = None) -> dict:
    """The grid, community, street and district at a point, in the active or a named generation."""
    _check_crs(crs)
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise DomainError("bad_coordinates", _("Longitude must be within ±180 and latitude within ±90."))
    loaded = locator.loaded_index(generation)
    wlon, wlat = geocrs.to_wgs84(lon, lat, crs)
    found = loaded.index.locate(wlon, wlat)
    if found == OUTSIDE:
        error = _outside_error(loaded, wlon, wlat)
        raise DomainError(error["code"], error["message"], error["detail"], status=404)
    return {
        "generation": {"id": loaded.generation_id, "name": loaded.generation_name},
        "wgs84": {"lon": round(wlon, 8), "lat": round(wlat, 8)},
        **loaded.places[found],
    }


def grid_locate_many(
    *, points: list[tuple[float, float]], crs: str = "wgs84", generation: int | str | None = None
) -> tuple[locator.LoadedIndex, list[dict]]:
    """Locate many points at once; each result is a place or an ``error`` of its own."""
    _check_crs(crs)
    loaded = locator.loaded_index(generation)
    xy = np.asarray(points, dtype=float).reshape(-1, 2)
    valid = np.isfinite(xy).all(axis=1) & (np.abs(xy[:, 0]) <= 180) & (np.abs(xy[:, 1]) <= 90)
    lon, lat = geocrs.to_wgs84(np.where(valid, xy[:, 0], 0.0), np.where(valid, xy[:, 1], 0.0), crs)
    found = loaded.index.locate_many(lon, lat)
    results = []
    for i, grid in enumerate(found.tolist()):
        if not valid[i]:
            results.append(
                {"error": {"code": "bad_coordinates", "message": _("Not a longitude/latitude pair.")}}
            )
        elif grid == OUTSIDE:
            results.append({"error": _outside_error(loaded, float(lon[i]), float(lat[i]))})
        else:
            results.append(loaded.places[grid])
    return loaded, results


def generation_get(generation: int | str | None) -> BoundaryGeneration:
    return BoundaryGeneration.objects.get(id=locator.resolve_generation(generation))


def generation_list() -> QuerySet[BoundaryGeneration]:
    return BoundaryGeneration.objects.all()


def _to_crs(geometry, crs: str):
    if crs == "wgs84":
        return geometry
    return shapely.transform(
        geometry, lambda xy: np.column_stack(geocrs.convert(xy[:, 0], xy[:, 1], source="wgs84", target=crs))
    )


def generation_geojson(
    *, generation: BoundaryGeneration, level: str | None = None, crs: str = "wgs84"
) -> dict:
    """A generation as a GeoJSON FeatureCollection that ``grids import`` reads back unchanged."""
    _check_crs(crs)
    rows = (
        Boundary.objects.filter(generation=generation)
        .select_related("region__parent__parent")
        .order_by("region__code")
    )
    if level:
        if level not in Level.values:
            raise DomainError("bad_level", _("Unknown level %(level)s.") % {"level": level})
        rows = rows.filter(region__level=level)
    features = []
    for row in rows:
        region = row.region
        parent = region.parent
        geometry = (
            row.geojson() if crs == "wgs84" else shapely.geometry.mapping(_to_crs(shape(row.geojson()), crs))
        )
        props = {
            "code": region.code,
            "name": region.name,
            "level": region.level,
            "parent_code": parent.code if parent else None,
            "area_m2": row.area_m2,
            "synthetic": row.synthetic,
        }
        if region.level == Level.GRID:
            props.update(
                grid_type=region.grid_type,
                community=parent.name,
                street=parent.parent.name if parent.parent else None,
                street_code=parent.parent.code if parent.parent else None,
                population=region.population,
                households=region.households,
                buildings=region.buildings,
                land_use=region.land_use,
            )
        features.append({"type": "Feature", "properties": props, "geometry": geometry})
    return {
        "type": "FeatureCollection",
        "name": generation.name,
        "crs_note": "WGS-84 lon/lat (RFC 7946)" if crs == "wgs84" else f"{crs.upper()} lon/lat",
        "features": features,
    }


def generation_geojson_text(**kwargs) -> str:
    return json.dumps(generation_geojson(**kwargs), ensure_ascii=False, separators=(",", ":"))


def generation_export_text(
    *, generation: BoundaryGeneration, level: str | None = None, crs: str = "wgs84"
) -> str:
    """An export for someone to take away (API, CLI): the same text, recorded on the audit trail."""
    text = generation_geojson_text(generation=generation, level=level, crs=crs)
    audit_record(
        action="export.geojson",
        object_type="generation",
        object_id=generation.id,
        detail={"name": generation.name, "level": level or "all", "crs": crs},
    )
    return text


def region_search(*, q: str = "", level: str | None = None, parent: str | None = None, limit: int = 50):
    """Regions whose code starts with, or whose name contains, ``q``."""
    query = Region.objects.select_related("parent")
    if level:
        query = query.filter(level=level)
    if parent:
        query = query.filter(parent__code=parent)
    if q:
        query = query.filter(Q(code__startswith=q) | Q(name__icontains=q))
    return list(query.order_by("level", "code")[: max(1, min(limit, 500))])


def region_get(code: str) -> Region:
    region = Region.objects.select_related("parent__parent__parent").filter(code=code).first()
    if region is None:
        raise NotFound("region_not_found", _("Region %(code)s does not exist.") % {"code": code})
    return region


def region_boundary(region: Region, generation: int | str | None = None) -> Boundary | None:
    generation_id = locator.resolve_generation(generation)
    return Boundary.objects.filter(region=region, generation_id=generation_id).first()

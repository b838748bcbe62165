import json

import shapely
from shapely.geometry import shape

from civicgrid.regions import selectors
from civicgrid.regions.models import BoundaryGeneration


def grid_collection() -> dict:
    """The active generation's grids as GeoJSON, the way an office would get them to edit."""
    generation = BoundaryGeneration.objects.get(state="active")
    return selectors.generation_geojson(generation=generation, level="grid")


def feature(collection: dict, code: str) -> dict:
    return next(f for f in collection["features"] if f["properties"]["code"] == code)


def set_geometry(collection: dict, code: str, geometry) -> None:
    feature(collection, code)["geometry"] = shapely.geometry.mapping(geometry)


def geometry(collection: dict, code: str):
    return shape(feature(collection, code)["geometry"])


def dumps(collection: dict) -> bytes:
    return json.dumps(collection, ensure_ascii=False).encode()

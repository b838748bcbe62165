"""Per-process cache of GridIndex objects, one per boundary generation.

A committed generation's boundaries never change, so its index is built once per process and
kept. Which generation is active can change in another process, so that answer is cached for
a couple of seconds only. Nothing here assumes a single process.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field

from django.utils.translation import gettext as _
from shapely.geometry import shape

from civicgrid.errors import DomainError, NotFound
from civicgrid.geo.index import GridIndex
from civicgrid.regions.models import Boundary, BoundaryGeneration, GenerationState, Level, Region

ACTIVE_TTL_SECONDS = 2.0


@dataclass
class LoadedIndex:
    generation_id: int
    generation_name: str
    index: GridIndex
    # places[i] describes grid i of the index: grid, community, street and district.
    places: list[dict]
    # The database id of every region the places name, by code (kept out of the places, which
    # the public locate API returns).
    region_ids: dict[str, int] = field(default_factory=dict)


_lock = threading.Lock()
_indexes: dict[int, LoadedIndex] = {}
_active: tuple[float, int | None] = (0.0, None)


def forget() -> None:
    """Drop cached answers (after an activation, and between tests)."""
    global _active
    with _lock:
        _indexes.clear()
        _active = (0.0, None)


def active_generation_id() -> int:
    global _active
    checked_at, generation_id = _active
    now = time.monotonic()
    if generation_id is None or now - checked_at > ACTIVE_TTL_SECONDS:
        generation_id = (
            BoundaryGeneration.objects.filter(state=GenerationState.ACTIVE)
            .values_list("id", flat=True)
            .first()
        )
        if generation_id is None:
            raise DomainError("no_active_generation", _("No boundary generation is active yet."), status=503)
        _active = (now, generation_id)
    return generation_id


def resolve_generation(generation: int | str | None) -> int:
    """A generation id from an id, a name, "active" or None (= the active one)."""
    if generation in (None, "", "active"):
        return active_generation_id()
    query = BoundaryGeneration.objects.all()
    found = (
        (
            query.filter(id=int(generation))
            if str(generation).isdigit()
            else query.filter(name=str(generation))
        )
        .values_list("id", flat=True)
        .first()
    )
    if found is None:
        raise NotFound(
            "generation_not_found", _("Boundary generation %(g)s does not exist.") % {"g": generation}
        )
    return found


def _place(region: Region) -> dict:
    return {"code": region.code, "name": region.name}


def _load(generation_id: int) -> LoadedIndex:
    generation = BoundaryGeneration.objects.get(id=generation_id)
    rows = (
        Boundary.objects.filter(generation_id=generation_id, region__level=Level.GRID)
        .select_related("region__parent__parent__parent")
        .only("geometry", "region__code", "region__name", "region__grid_type", "region__parent")
    )
    codes, geometries, by_code, ids = [], [], {}, {}
    for row in rows:
        grid = row.region
        community = grid.parent
        street = community.parent
        district = street.parent
        ids.update((r.code, r.pk) for r in (grid, community, street, district) if r is not None)
        codes.append(grid.code)
        geometries.append(shape(json.loads(row.geometry)))
        by_code[grid.code] = {
            "grid": {**_place(grid), "type": grid.grid_type},
            "community": _place(community),
            "street": _place(street),
            "district": _place(district) if district else None,
        }
    if not codes:
        raise DomainError("empty_generation", _("Generation %(g)s has no grids.") % {"g": generation.name})
    index = GridIndex(codes, geometries)
    return LoadedIndex(generation_id, generation.name, index, [by_code[c] for c in index.codes], ids)


def loaded_index(generation: int | str | None = None) -> LoadedIndex:
    if isinstance(generation, int) and generation in _indexes:  # loaded: the id exists
        return _indexes[generation]
    generation_id = resolve_generation(generation)
    loaded = _indexes.get(generation_id)
    if loaded is None:
        with _lock:
            loaded = _indexes.get(generation_id)
            if loaded is None:
                loaded = _indexes[generation_id] = _load(generation_id)
    return loaded


def communities() -> list[dict]:
    """The communities of the active generation's grids, by street: [{street, communities:
    [{code, name}]}] — for a place picker that needs no map."""
    loaded = loaded_index()
    streets: dict[str, dict] = {}
    for place in loaded.places:
        street = streets.setdefault(place["street"]["code"], {"street": place["street"], "communities": {}})
        street["communities"].setdefault(place["community"]["code"], place["community"])
    return [
        {"street": s["street"], "communities": sorted(s["communities"].values(), key=lambda c: c["code"])}
        for _code, s in sorted(streets.items())
    ]


def community_point(code: str) -> tuple[float, float] | None:
    """A point inside the community's largest grid (active generation), or None if it has none."""
    loaded = loaded_index()
    inside = [i for i, place in enumerate(loaded.places) if place["community"]["code"] == code]
    if not inside:
        return None
    largest = max(inside, key=lambda i: loaded.index.geometries[i].area)
    point = loaded.index.geometries[largest].representative_point()
    return round(point.x, 7), round(point.y, 7)

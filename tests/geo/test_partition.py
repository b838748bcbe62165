import json

import numpy as np
import pytest
import shapely

from civicgrid.geo import partition
from civicgrid.geo.coverage import validate_children

L_SHAPE = shapely.Polygon([(0, 0), (4, 0), (4, 1), (1, 1), (1, 4), (0, 4)])


def _flat(x, y):
    return np.ones_like(x)


def test_allocate_hits_the_total_exactly_and_respects_the_minimum():
    counts = partition.allocate(615, [5.0, 1.0, 0.1, 3.3], minimum=4)
    assert sum(counts) == 615 and min(counts) >= 4
    assert counts[0] > counts[3] > counts[1] > counts[2]
    with pytest.raises(ValueError):
        partition.allocate(3, [1, 1], minimum=2)


def test_subdivide_tiles_a_concave_parent_into_single_polygons():
    parts = partition.subdivide(L_SHAPE, 9, density=_flat, seed=1)
    assert len(parts) == 9
    assert all(p.geom_type == "Polygon" for p in parts)
    assert validate_children("P", L_SHAPE, [str(i) for i in range(9)], parts, tolerance_m2=1e-6) == []


def test_subdivide_is_byte_for_byte_reproducible():
    def run():
        parts = partition.subdivide(L_SHAPE, 7, density=_flat, seed=42)
        return json.dumps([shapely.geometry.mapping(p) for p in parts])

    assert run() == run()
    assert run() != json.dumps(
        [shapely.geometry.mapping(p) for p in partition.subdivide(L_SHAPE, 7, density=_flat, seed=43)]
    )


def test_dense_places_get_smaller_parts():
    square = shapely.box(0, 0, 10, 10)
    parts = partition.subdivide(square, 20, density=lambda x, y: np.where(x < 5, 10.0, 1.0), seed=3)
    west = [p.area for p in parts if p.centroid.x < 5]
    east = [p.area for p in parts if p.centroid.x >= 5]
    assert np.mean(west) < np.mean(east)


def test_reading_order_goes_west_to_east_then_north_to_south():
    cells = [shapely.box(c, r, c + 1, r + 1) for r in range(2) for c in range(2)]  # SW, SE, NW, NE
    assert partition.reading_order(cells) == [2, 3, 0, 1]

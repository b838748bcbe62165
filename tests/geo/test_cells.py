import math
import random

import pytest

from civicgrid.geo.cells import cell_of, cells_near, distance_m


def test_distance_of_known_points():
    # One minute of latitude is 1,852 m by definition of the nautical mile (to 0.3 % on a sphere).
    assert distance_m(118.8, 32.0, 118.8, 32.0 + 1 / 60) == pytest.approx(1852, rel=0.003)
    assert distance_m(118.8, 32.0, 118.8, 32.0) == 0


@pytest.mark.parametrize("radius", [10, 100, 300, 1000])
def test_every_point_within_the_radius_lies_in_a_listed_cell(radius):
    rng = random.Random(radius)
    for _ in range(300):
        lon, lat = 118.78 + rng.random() * 0.1, 32.02 + rng.random() * 0.08
        near = set(cells_near(lon, lat, radius))
        assert cell_of(lon, lat) in near
        for _ in range(20):
            bearing, dist = rng.random() * 2 * math.pi, rng.random() * radius * 0.999
            other_lat = lat + dist * math.cos(bearing) / 111_320
            other_lon = lon + dist * math.sin(bearing) / (111_320 * math.cos(math.radians(lat)))
            if distance_m(lon, lat, other_lon, other_lat) <= radius:
                assert cell_of(other_lon, other_lat) in near


def test_a_small_radius_needs_few_cells():
    assert len(cells_near(118.8, 32.05, 100)) <= 9
    assert cell_of(118.8, 32.05) != cell_of(118.8, 32.0525)

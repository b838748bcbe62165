import numpy as np
import pytest
import shapely

from civicgrid.geo.index import OUTSIDE, GridIndex


def _squares(n=4, size=0.01, x0=118.8, y0=32.0):
    """An n×n checkerboard of squares; code "r{row}c{col}"."""
    codes, geoms = [], []
    for r in range(n):
        for c in range(n):
            codes.append(f"r{r}c{c}")
            geoms.append(shapely.box(x0 + c * size, y0 + r * size, x0 + (c + 1) * size, y0 + (r + 1) * size))
    return codes, geoms


def test_it_finds_the_square_containing_a_point():
    index = GridIndex(*_squares())
    assert index.codes[index.locate(118.815, 32.025)] == "r2c1"


def test_a_point_on_a_shared_edge_goes_to_the_lowest_code_every_time():
    index = GridIndex(*_squares())
    # x = 118.81 is the edge between c0 and c1; the corner 32.01 touches four squares.
    for lon, lat, expected in [(118.81, 32.005, "r0c0"), (118.81, 32.01, "r0c0"), (118.815, 32.02, "r1c1")]:
        single = {index.codes[index.locate(lon, lat)] for _ in range(3)}
        bulk = index.locate_many(np.array([lon] * 3), np.array([lat] * 3))
        assert single == {expected}
        assert {index.codes[i] for i in bulk} == {expected}


def test_it_says_outside_and_names_the_nearest_grid_with_its_distance():
    index = GridIndex(*_squares())
    assert index.locate(118.70, 32.0) == OUTSIDE
    assert index.locate_many(np.array([118.70]), np.array([32.0]))[0] == OUTSIDE
    nearest = index.nearest(118.79, 32.005)  # 0.01° west of r0c0
    assert nearest.code == "r0c0"
    assert nearest.distance_m == pytest.approx(944, rel=0.01)


def test_it_agrees_with_a_naive_search_on_irregular_cells():
    rng = np.random.default_rng(7)
    outline = shapely.Polygon(
        [(118.78, 32.02), (118.90, 32.03), (118.88, 32.10), (118.79, 32.09), (118.83, 32.06)]
    )
    seeds = shapely.points(rng.uniform(118.78, 118.90, 400), rng.uniform(32.02, 32.10, 400))
    seeds = seeds[shapely.contains(outline, seeds)]
    cells = [
        c.intersection(outline)
        for c in shapely.voronoi_polygons(shapely.multipoints(seeds), extend_to=outline).geoms
    ]
    codes = [f"{i:04d}" for i in range(len(cells))]
    index = GridIndex(codes, cells)
    x = rng.uniform(118.77, 118.91, 3000)
    y = rng.uniform(32.01, 32.11, 3000)
    # Include vertices, the hardest points: they lie on several cells' boundaries.
    vertices = shapely.get_coordinates(np.array(cells[:50]))[:300]
    x, y = np.concatenate([x, vertices[:, 0]]), np.concatenate([y, vertices[:, 1]])
    bulk = index.locate_many(x, y)
    for i in range(len(x)):
        expected = next(
            (j for j, g in enumerate(index.geometries) if shapely.intersects_xy(g, x[i], y[i])), OUTSIDE
        )
        assert bulk[i] == expected
        assert index.locate(x[i], y[i]) == expected


def test_it_refuses_mismatched_input():
    with pytest.raises(ValueError):
        GridIndex(["a"], [])
    with pytest.raises(ValueError):
        GridIndex([], [])

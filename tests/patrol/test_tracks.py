"""geo.tracks against hand-computed figures: flags (accuracy, jumps, resuming after a real move,
continuing across batches), track length, coverage of a square grid, and the weekly union."""

from __future__ import annotations

import math

import numpy as np
import pytest
import shapely
from pyproj import Geod

from civicgrid.geo import tracks
from civicgrid.geo.tracks import INACCURATE, JUMP, OK, LocalFrame

LON0, LAT0 = 118.80, 32.05
FRAME = LocalFrame(LON0, LAT0)
D = 30.0


def lonlat(x, y):
    """Metres east/north of the centre → lon/lat."""
    return LON0 + np.asarray(x, dtype=float) / FRAME.kx, LAT0 + np.asarray(y, dtype=float) / FRAME.ky


def square(half: float = 200.0):
    (x0, x1), (y0, y1) = lonlat([-half, half], [-half, half])
    return shapely.box(x0, y0, x1, y1)


def flag(x, y, t=None, accuracy=None, **kwargs):
    n = len(x)
    lon, lat = lonlat(x, y)
    t = np.arange(n) * 5.0 if t is None else t
    accuracy = [5.0] * n if accuracy is None else accuracy
    limits = {"max_speed_kmh": 30, "max_accuracy_m": 50} | kwargs
    return tracks.flag_points(t, lon, lat, accuracy, **limits)


def test_the_local_frame_measures_like_the_ellipsoid():
    geod = Geod(ellps="WGS84")
    for dx, dy in ((1000, 0), (0, 1000), (700, -700)):
        lon, lat = lonlat(dx, dy)
        _a, _b, metres = geod.inv(LON0, LAT0, float(lon), float(lat))
        assert metres == pytest.approx(math.hypot(dx, dy), rel=1e-4)
    box = square(100)
    back = FRAME.to_degrees(FRAME.to_metres(box))
    assert shapely.equals_exact(back, box, tolerance=1e-12)


def test_a_steady_walk_is_used_whole():
    found = flag(np.arange(10) * 5.0, np.zeros(10))
    assert found.flags.tolist() == [OK] * 10
    assert found.state.last_used.lon == pytest.approx(float(lonlat(45, 0)[0]))


def test_a_vague_fix_is_flagged_with_its_accuracy_and_skipped():
    found = flag(np.arange(5) * 5.0, np.zeros(5), accuracy=[5, 5, 80, None, 5])
    assert found.flags.tolist() == [OK, OK, INACCURATE, OK, OK]  # None: not reported, not held against it
    assert found.measure[2] == 80 and np.isnan(found.measure[3])
    # A vague fix does not break the line.
    assert [p.tolist() for p in tracks.pieces(found.flags)] == [[0, 1, 3, 4]]


def test_a_wild_fix_is_a_jump_with_its_speed_and_the_line_skips_it():
    x, y = np.arange(11) * 5.0, np.zeros(11)
    y[5] = 500.0  # 500 m north for one fix, 5 s after the one before
    found = flag(x, y)
    assert found.flags.tolist() == [OK] * 5 + [JUMP] + [OK] * 5
    # Speed from the last used point (20 m, 0): √(5² + 500²) m in 5 s.
    assert found.measure[5] == pytest.approx(math.hypot(5, 500) / 5 * 3.6, rel=1e-3)
    assert [p.tolist() for p in tracks.pieces(found.flags)] == [[0, 1, 2, 3, 4], [6, 7, 8, 9, 10]]
    lon, lat = lonlat(x, y)
    # 4 legs of 5 m on each side; the 10 m from fix 4 to fix 6 is not walked along a drawn line.
    assert tracks.track_length_m(lon, lat, found.flags) == pytest.approx(40.0, abs=0.01)
    covered = tracks.coverage(square(), lon, lat, found.flags).covered
    wild = shapely.Point(*lonlat(25, 250))
    assert covered.distance(wild) * FRAME.ky > 150  # nothing drawn towards the wild fix


def test_the_first_point_is_used_and_a_real_move_resumes_the_track():
    # Walk, then a bus ride: the first fix after it is a jump, the next one (plausible from that
    # one) is used again, and the track goes on from there as a new piece.
    x = np.array([0, 5, 10, 2000, 2005, 2010, 2015], dtype=float)
    found = flag(x, np.zeros(7))
    assert found.flags.tolist() == [OK, OK, OK, JUMP, OK, OK, OK]
    assert [p.tolist() for p in tracks.pieces(found.flags)] == [[0, 1, 2], [4, 5, 6]]
    lon, lat = lonlat(x, np.zeros(7))
    assert tracks.track_length_m(lon, lat, found.flags) == pytest.approx(20.0, abs=0.01)


def test_flags_continue_across_batches_as_if_sent_at_once():
    x, y = np.arange(20) * 5.0, np.zeros(20)
    y[[7, 13]] = 400.0
    acc = [5.0] * 20
    acc[9] = 90.0
    whole = flag(x, y, accuracy=acc)
    first = flag(x[:8], y[:8], accuracy=acc[:8])
    assert first.state.last_jump is not None  # the batch ended on a jump
    second = flag(x[8:], y[8:], t=np.arange(8, 20) * 5.0, accuracy=acc[8:], state=first.state)
    assert np.concatenate([first.flags, second.flags]).tolist() == whole.flags.tolist()
    assert whole.flags[[7, 9, 13]].tolist() == [JUMP, INACCURATE, JUMP]


def test_standing_still_and_a_repeated_instant_are_not_jumps():
    found = flag(np.zeros(4), np.zeros(4), t=np.array([0, 5, 5, 10.0]))
    assert found.flags.tolist() == [OK] * 4
    assert flag(np.array([0, 50.0]), np.zeros(2), t=np.array([0, 0.0])).flags.tolist() == [OK, JUMP]


def test_coverage_of_a_straight_track_through_a_square_grid():
    # A 300 m track through the middle of a 400 m × 400 m grid: a 300 × 60 m band and two half
    # discs of 30 m, i.e. 2·D·L + π·D² = 18,000 + 2,827.4 = 20,827.4 m² of 160,000 m².
    lon, lat = lonlat(np.linspace(-150, 150, 61), np.zeros(61))
    found = tracks.coverage(square(), lon, lat, np.zeros(61), distance_m=D)
    expected = 2 * D * 300 + math.pi * D**2
    assert found.grid_m2 == pytest.approx(160_000, rel=1e-9)
    # GEOS draws a round end with 8 segments a quarter: its half discs are 0.64 % short (−18 m²).
    assert found.covered_m2 == pytest.approx(expected, rel=1e-3)
    assert found.share == pytest.approx(expected / 160_000, rel=1e-3)
    assert found.covered.geom_type == "Polygon" and square().covers(found.covered.buffer(-1e-9))


def test_coverage_near_the_edge_is_clipped_to_the_grid():
    # The same track 10 m inside the northern edge: the band keeps 30 + 10 m of its width, and each
    # end's half disc loses half of the circular segment beyond the edge (chord 10 m from the
    # centre): r²·acos(d/r) − d·√(r² − d²) = 900·acos(1/3) − 10·√800 = 825.02 m², halved.
    lon, lat = lonlat(np.linspace(-150, 150, 61), np.full(61, 190.0))
    found = tracks.coverage(square(), lon, lat, np.zeros(61))
    segment = 900 * math.acos(1 / 3) - 10 * math.sqrt(800)
    cap = math.pi * 900 / 2 - segment / 2
    assert found.covered_m2 == pytest.approx(300 * 40 + 2 * cap, rel=1e-3)


def test_a_track_outside_the_grid_covers_nothing_and_no_track_covers_nothing():
    lon, lat = lonlat(np.linspace(300, 600, 61), np.zeros(61))
    assert tracks.coverage(square(), lon, lat, np.zeros(61)).share == 0
    empty = tracks.coverage(square(), [], [], [])
    assert empty.share == 0 and empty.covered.is_empty


def test_one_fix_or_standing_still_covers_a_disc():
    lon, lat = lonlat([0.0, 0.0, 0.0], [0.0, 0.0, 0.0])
    assert tracks.coverage(square(), lon, lat, [OK, OK, OK]).covered_m2 == pytest.approx(
        math.pi * D**2, rel=1e-2
    )
    assert tracks.coverage(square(), lon[:1], lat[:1], [OK]).covered_m2 == pytest.approx(
        math.pi * D**2, rel=1e-2
    )
    assert tracks.coverage(square(), lon, lat, [INACCURATE] * 3).share == 0


def test_the_weekly_union_counts_ground_walked_twice_once():
    grid = square()
    west = tracks.coverage(grid, *lonlat(np.linspace(-150, 0, 31), np.zeros(31)), np.zeros(31))
    east = tracks.coverage(grid, *lonlat(np.linspace(-50, 150, 41), np.zeros(41)), np.zeros(41))
    share, union = tracks.union_share(grid, [west.covered, east.covered, None])
    # Together they are the 300 m track of the first test.
    assert share == pytest.approx((2 * D * 300 + math.pi * D**2) / 160_000, rel=2e-3)
    assert max(west.share, east.share) < share < west.share + east.share
    assert union.geom_type == "Polygon"
    nothing, empty = tracks.union_share(grid, [])
    assert nothing == 0 and empty.is_empty

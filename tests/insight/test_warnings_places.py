"""Hotspots and repeat places: Gi* against a hand-computed 3 × 3 lattice, rook adjacency from
shapes, repeat places from cases reported through the services."""

from __future__ import annotations

import math

import numpy as np
import pytest
from django.utils import timezone
from shapely.geometry import box

from civicgrid.accounts.models import User
from civicgrid.accounts.scopes import scope_for
from civicgrid.insight import hotspots, rollups
from civicgrid.insight.models import Alert, AlertKind, InsightSettings
from civicgrid.regions.models import Region

from ..cases.conftest import report
from ..cases.steps import GRID_A, GRID_B, GW_A, STREET_B, point_in

# A 3 × 3 lattice of unit squares, numbered row by row:  0 1 2 / 3 4 5 / 6 7 8.
LATTICE = [box(c, r, c + 1, r + 1) for r in range(3) for c in range(3)]


def test_neighbours_share_an_edge_not_a_corner():
    found = [list(nb) for nb in hotspots.neighbours_of(LATTICE)]
    assert found[0] == [1, 3]
    assert found[1] == [0, 2, 4]
    assert found[4] == [1, 3, 5, 7]
    assert found[8] == [5, 7]


def test_gi_star_matches_the_hand_computation():
    # One busy cell in the middle: x̄ = 2, S = √(108/9 − 4) = √8.
    x = [1, 1, 1, 1, 10, 1, 1, 1, 1]
    z = hotspots.gi_star(x, hotspots.neighbours_of(LATTICE))
    s = math.sqrt(8)
    # centre: W = 5, Σ = 14 → (14 − 10) / (√8 · √((45 − 25) / 8))
    assert z[4] == pytest.approx(4 / (s * math.sqrt(20 / 8)))
    assert z[4] == pytest.approx(0.894427, abs=1e-6)
    # edge middle: W = 4 (itself, two corners, the centre), Σ = 13 → 5 / (√8 · √((36 − 16) / 8))
    assert z[1] == pytest.approx(1.118034, abs=1e-6)
    # corner: W = 3, Σ = 3 → −3 / (√8 · √((27 − 9) / 8))
    assert z[0] == pytest.approx(-0.707107, abs=1e-6)
    assert np.allclose(z[[0, 2, 6, 8]], z[0]) and np.allclose(z[[1, 3, 5, 7]], z[1])


def test_gi_star_is_zero_when_every_grid_is_alike():
    assert list(hotspots.gi_star([3] * 9, hotspots.neighbours_of(LATTICE))) == [0.0] * 9


def test_levels_follow_the_95_and_99_percent_bounds():
    assert [hotspots.level_of(z) for z in (2.6, 2.0, 0.0, -2.0, -2.6)] == [
        "hot99",
        "hot95",
        "",
        "cold95",
        "cold99",
    ]


def test_a_cluster_of_busy_grids_is_hot_on_the_demo_map(idemo):
    point = point_in(GRID_A)
    for _ in range(12):
        report(GW_A, point=point, case_class="E0201", title="小广告")
    rollups.rebuild()
    result = hotspots.hotspots()
    rows = {r.code: r for r in result.rows}
    assert len(rows) == Region.objects.filter(level="grid", boundaries__generation__state="active").count()
    assert rows[GRID_A].cases == 12 and rows[GRID_A].z > 0
    assert rows[GRID_B].cases == 0 and rows[GRID_B].z < rows[GRID_A].z
    # Grid B's street operator sees only their street's grids.
    seen = hotspots.hotspots_visible(result, scope_for(User.objects.get(username=STREET_B)))
    assert GRID_B in {r.code for r in seen} and GRID_A not in {r.code for r in seen}


@pytest.fixture
def repeats(idemo):
    """Three 小广告 reports at one spot of grid A, two of another class there."""
    point = point_in(GRID_A)
    cases = [report(GW_A, point=point, case_class="E0201", title="小广告") for _ in range(3)]
    cases += [report(GW_A, point=point, case_class="E0102", title="暴露垃圾") for _ in range(2)]
    return cases


def test_a_spot_reported_three_times_is_a_repeat_place(repeats):
    places = hotspots.repeat_places()
    assert [(p.class_code, p.cases, p.grid_code) for p in places] == [("E0201", 3, GRID_A)]
    assert places[0].cell == repeats[0].cell
    assert f"region={GRID_A}&case_class=E0201" in places[0].link


def test_reports_of_one_class_spread_along_a_street_are_not_a_repeat_place(idemo):
    lon, lat = point_in(GRID_A)
    for i in range(3):  # 61 m apart: the same ~280 m cell, but three spots
        report(GW_A, point=(lon, lat + i * 0.00055), case_class="E0201", title="小广告")
    assert hotspots.repeat_places() == []
    report(GW_A, point=(lon, lat + 0.0001), case_class="E0201", title="小广告")
    report(GW_A, point=(lon + 0.0001, lat), case_class="E0201", title="小广告")  # ~10 m from the first
    assert [(p.class_code, p.cases) for p in hotspots.repeat_places()] == [("E0201", 3)]


def test_the_repeat_threshold_is_a_setting(repeats):
    InsightSettings.objects.filter(pk=1).update(repeat_count=2)
    assert {p.class_code for p in hotspots.repeat_places()} == {"E0201", "E0102"}


def test_repeat_places_raise_one_warning_each_however_often_they_run(repeats):
    first = hotspots.repeats_raise()
    again = hotspots.repeats_raise()
    assert (first.raised, again.raised) == (1, 0)
    alert = Alert.objects.get(kind=AlertKind.REPEAT)
    grid = Region.objects.get(code=GRID_A)
    assert alert.grid_id == grid.pk and alert.street_id == grid.parent.parent_id
    assert alert.case_class.code == "E0201" and alert.major_class.code == "E02"
    assert alert.observed == 3 and alert.day == timezone.localdate(repeats[2].created_at)


def test_a_hot_grid_raises_one_hotspot_warning_a_week(idemo):
    point = point_in(GRID_A)
    for _ in range(12):
        report(GW_A, point=point, case_class="E0201", title="小广告")
    rollups.rebuild()
    first, again = hotspots.hotspots_raise(), hotspots.hotspots_raise()
    assert first.raised >= 1 and again.raised == 0
    grid = Region.objects.get(code=GRID_A)
    alert = Alert.objects.get(kind=AlertKind.HOTSPOT, grid=grid)
    year, week, _wd = timezone.localdate().isocalendar()
    assert alert.key == f"hotspot:{year}-W{week:02d}:{grid.pk}"
    assert alert.score >= hotspots.Z99 and alert.observed == 12 and alert.street_id == grid.parent.parent_id
    assert Alert.objects.filter(kind=AlertKind.HOTSPOT, grid__code=GRID_B).count() == 0

"""The demo year's planted bursts (civicgrid.demo.spikes): a pure function of the seed, joined to
a full year's report times, and planned as cases of the burst's grid, class and spot."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.utils import timezone

from civicgrid.demo import cases_plan, cases_year, spikes

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 20, 15, 30, tzinfo=SHANGHAI)
GRIDS = [f"3201020020{i:04d}" for i in range(1, 41)]
CLASSES = ["E0102", "E0201", "E0502", "G0401", "G0101"]


def _plants(seed: int = 2026, last_day: date = date(2026, 11, 20)):
    return spikes.plants(seed=seed, grids=GRIDS, classes=CLASSES, last_day=last_day, tz=SHANGHAI)


def test_the_plants_are_the_same_for_the_same_seed_and_differ_for_another():
    assert _plants() == _plants()
    assert _plants() != _plants(seed=7)


def test_the_plants_fall_in_the_year_after_a_baseline_and_end_the_day_before_its_last():
    found = _plants()
    last_day = date(2026, 11, 20)
    assert len(found) == spikes.PLANTS
    assert found[-1].day == last_day - timedelta(days=1)
    assert all(last_day - timedelta(days=365 - spikes.FIRST_DAY) <= p.day < last_day for p in found)
    assert len({(p.day, p.grid, p.major) for p in found}) == len(found)
    for p in found:
        assert p.case_class in CLASSES and p.grid in GRIDS
        assert spikes.EXTRA[0] <= p.extra <= spikes.EXTRA[1] == 15 and len(p.times) == p.extra
        assert {timezone.localtime(t, SHANGHAI).date() for t in p.times} == {p.day}


def test_a_full_year_gets_the_planted_times_and_they_are_planned_as_the_burst(idemo):
    ctx = cases_year.Context(now=NOW, seed=5)
    world = ctx.world
    planted = spikes.planted_times(spikes.plants_of_world(world, seed=5))
    small = cases_plan.created_times(world, n=200, seed=5)
    assert not set(small) & set(planted)  # small loads (the tests') keep their counts
    full = cases_plan.created_times(world, n=spikes.PLANT_FROM, seed=5)
    assert len(full) == spikes.PLANT_FROM + len(planted) and set(planted) <= set(full)
    tables = cases_plan.Tables(world, 5)
    at = sorted(planted)[0]
    plant = planted[at]
    plan = cases_plan.plan_case(world, tables, seed=5, index=1, created=at)
    grid = next(g for g in world.grids if g.code == plant.grid)
    assert (plan.grid, plan.case_class) == (plant.grid, plant.case_class)
    assert (plan.lon, plan.lat) == grid.points[plant.spot % len(grid.points)]

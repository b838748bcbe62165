"""The patrol demo: key places inside every grid, eight weeks of patrols with summaries for every
grid worker, real tracks only in the demo worker's grid — and a second run adds nothing."""

from __future__ import annotations

import shapely
from django.db.models import Count, F

from civicgrid.accounts.models import GridPost, GridStaffing
from civicgrid.patrol import demo, services
from civicgrid.patrol.models import CheckIn, CoverageWeek, KeyPlace, Patrol, PatrolState, TrackPoint
from civicgrid.regions import locator
from civicgrid.regions.models import Level, Region


def _counts():
    return [m.objects.count() for m in (KeyPlace, Patrol, TrackPoint, CheckIn, CoverageWeek)]


def test_the_demo_seeds_places_patrols_and_real_tracks_once(pdemo):
    demo.seed(progress=lambda line: None)
    grids = Region.objects.filter(level=Level.GRID).count()
    per_grid = list(KeyPlace.objects.values("grid").annotate(n=Count("id")).values_list("n", flat=True))
    assert len(per_grid) == grids and min(per_grid) >= 2 and max(per_grid) <= 4
    loaded = locator.loaded_index()
    shapes = dict(zip(loaded.index.codes, loaded.index.geometries, strict=True))
    for place in KeyPlace.objects.select_related("grid")[:: max(1, len(per_grid) // 50)]:
        assert shapes[place.grid.code].covers(shapely.Point(place.lon, place.lat)), place.name

    first = GridStaffing.objects.filter(post=GridPost.FULL_TIME).order_by("id").first()
    workers = (
        GridStaffing.objects.filter(post__in=(GridPost.FULL_TIME, GridPost.PART_TIME))
        .values("user")
        .distinct()
    )
    assert Patrol.objects.values("worker").distinct().count() == workers.count()
    assert not Patrol.objects.exclude(state=PatrolState.ENDED).exists()
    tracked = Patrol.objects.filter(grid=first.grid)
    assert tracked.count() >= 8 * 3
    assert set(TrackPoint.objects.values_list("patrol__grid", flat=True).distinct()) == {first.grid_id}
    # The demo grid's figures are the product's own, computed from the stored track.
    patrol = tracked.filter(worker=first.user).order_by("started_at").last()
    track = services.patrol_track(patrol)
    assert patrol.points == len(track.flags) > 500 and patrol.flagged == sum(f != 0 for f in track.flags)
    assert 0 < patrol.coverage < 1 and patrol.covered
    week = CoverageWeek.objects.get(
        worker=first.user, grid=first.grid, week=services.week_of(patrol.started_at)
    )
    assert week.coverage >= patrol.coverage and week.patrols >= 1
    # Elsewhere: summaries and weeks without tracks, check-ins at the grid's own places.
    other = Patrol.objects.exclude(grid=first.grid).first()
    assert other.covered is None and other.points > 0 and other.distance_m > 0 and 0 < other.coverage < 1
    assert not CheckIn.objects.exclude(place__grid=F("patrol__grid")).exists()
    assert CheckIn.objects.filter(accepted=True).count() > CheckIn.objects.filter(accepted=False).count() > 0

    before = _counts()
    demo.seed(progress=lambda line: None)
    assert _counts() == before

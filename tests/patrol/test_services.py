"""patrol.services on the database: plans and their rules, the weekly coverage rows, the guards
that hold whatever the caller checked first, and the shipped defaults."""

from __future__ import annotations

from datetime import timedelta

import pytest
import shapely
from django.db import IntegrityError, transaction
from django.utils import timezone

from civicgrid.audit.models import AuditRecord
from civicgrid.errors import DomainError
from civicgrid.geo import tracks
from civicgrid.patrol import defaults, services
from civicgrid.patrol.models import (
    CoverageWeek,
    DutyRule,
    Patrol,
    PatrolPlan,
    PatrolState,
    PlaceRule,
    TrackPoint,
)
from civicgrid.regions.models import Region

from .conftest import GRID_A, GRID_A2, GW_A, GW_A2, PT_A, key, place, start, user, walk


def _stop(patrol, **kwargs):
    return services.patrol_stop(user=patrol.worker, patrol_id=patrol.pk, **kwargs)


def test_a_grids_own_plan_overrides_the_default(pdemo):
    grid = Region.objects.get(code=GRID_A)
    assert services.plan_for(grid.pk).grid_id is None
    PatrolPlan.objects.create(grid=grid, max_speed_kmh=10, coverage_distance_m=50)
    assert services.plan_for(grid.pk).max_speed_kmh == 10
    # A fix 9 m after the last, 3 s later (≈ 11 km/h), is a jump under the grid's own plan.
    patrol = start()
    points = walk(n=3, step_m=9, every_s=3)
    assert [
        f["seq"] for f in services.track_ingest(user=user(GW_A), patrol_id=patrol.pk, points=points).flagged
    ] == [1, 2]


def test_without_any_plan_row_the_shipped_figures_apply(pdemo):
    PatrolPlan.objects.all().delete()
    plan = services.plan_for(None)
    assert plan.pk is None and plan.coverage_distance_m == 30 and plan.max_accuracy_m == 50


def test_the_stop_summarises_and_keeps_the_weeks_coverage(pdemo):
    grid = Region.objects.get(code=GRID_A)
    shape = services.grid_shape(grid)
    monday = timezone.localdate() - timedelta(days=timezone.localdate().weekday() + 7)
    at = timezone.make_aware(timezone.datetime.combine(monday, timezone.datetime.min.time())) + timedelta(
        hours=9
    )
    first = start(at=at)
    points = walk(n=21, start=at, x0=-100)  # 100 m from the western end
    services.track_ingest(user=user(GW_A), patrol_id=first.pk, points=points)
    first = _stop(first, ended_at=at + timedelta(minutes=70))
    expected = tracks.coverage(shape, [p.lon for p in points], [p.lat for p in points], [0] * 21)
    assert first.coverage == pytest.approx(expected.share, abs=1e-4) and first.duration_s == 70 * 60
    assert shapely.from_wkb(bytes(first.covered)).equals_exact(expected.covered, 1e-9)
    week = CoverageWeek.objects.get(worker=first.worker, grid=grid, week=monday)
    assert (week.coverage, week.patrols, week.seconds) == (first.coverage, 1, 4200)
    # A second round the next day, on to the east: the week holds the union, not the sum.
    later = at + timedelta(days=1)
    second = start(at=later)
    services.track_ingest(user=user(GW_A), patrol_id=second.pk, points=walk(n=21, start=later, x0=0))
    second = _stop(second, ended_at=later + timedelta(minutes=30))
    week.refresh_from_db()
    union, _shape = tracks.union_share(shape, [shapely.from_wkb(bytes(p.covered)) for p in (first, second)])
    assert week.patrols == 2 and week.seconds == 4200 + 1800
    assert week.coverage == pytest.approx(union, abs=1e-4)
    assert max(first.coverage, second.coverage) < week.coverage < first.coverage + second.coverage
    # A patrol of the week before has its own row; a part-time colleague's rounds are theirs.
    services.patrol_stop(user=user(GW_A), patrol_id=start(at=at - timedelta(days=7)).pk)
    assert CoverageWeek.objects.filter(worker=first.worker, grid=grid).count() == 2
    assert not CoverageWeek.objects.filter(worker__username=PT_A).exists()


def test_a_patrol_without_points_covers_nothing_and_cannot_end_before_it_began(pdemo):
    patrol = start()
    with pytest.raises(DomainError) as refused:
        _stop(patrol, ended_at=patrol.started_at - timedelta(minutes=1))
    assert refused.value.code == "ends_before_start"
    ended = _stop(patrol)
    assert (ended.points, ended.distance_m, ended.coverage, ended.covered) == (0, 0, 0, None)


def test_the_database_holds_one_active_patrol_per_worker_and_one_point_per_seq(pdemo):
    patrol = start()
    with pytest.raises(IntegrityError), transaction.atomic():
        Patrol.objects.create(
            worker=patrol.worker, grid=patrol.grid, started_at=timezone.now(), client_key=key()
        )
    services.track_ingest(user=user(GW_A), patrol_id=patrol.pk, points=walk(n=2))
    with pytest.raises(IntegrityError), transaction.atomic():
        TrackPoint.objects.create(patrol=patrol, seq=1, at=timezone.now(), lon=118.8, lat=32.05)
    assert Patrol.objects.filter(state=PatrolState.ACTIVE).count() == 1


def test_a_check_in_names_only_the_workers_own_patrol(pdemo):
    other = start(PT_A)
    school = place()
    with pytest.raises(DomainError) as refused:
        services.checkin_create(
            user=user(GW_A),
            place_id=school.pk,
            lon=school.lon,
            lat=school.lat,
            accuracy=5,
            client_key=key(),
            patrol_id=other.pk,
        )
    assert refused.value.code == "patrol_not_found"


def test_the_defaults_are_installed_once_and_edits_survive(pdemo):
    assert PatrolPlan.objects.filter(grid__isnull=True).count() == 1
    plan = PatrolPlan.objects.get(grid__isnull=True)
    assert (
        dict(PlaceRule.objects.filter(plan=plan).values_list("kind", "visits_per_period"))
        == defaults.PLACE_RULES
    )
    titles = list(DutyRule.objects.values_list("title", flat=True))
    assert titles[:8] == ["定人", "定岗", "定责", "定时", "定区域", "定任务", "定标准", "定考核"]
    assert titles[8:] == ["一轮", "响应派遣任务", "响应群众诉求"]
    respond = DutyRule.objects.get(code=defaults.RESPONSE_RESIDENT)
    assert (respond.value, respond.unit) == (24, "小时")
    respond.value = 12
    respond.save()
    PlaceRule.objects.filter(plan=plan, kind="market").delete()
    assert defaults.defaults_install(PatrolPlan, PlaceRule, DutyRule) == 1  # only the missing rule
    assert DutyRule.objects.get(code=defaults.RESPONSE_RESIDENT).value == 12
    assert defaults.defaults_install(PatrolPlan, PlaceRule, DutyRule) == 0


def test_the_sweep_ends_forgotten_patrols_at_their_last_point(pdemo, settings):
    """A worker forgot to stop: after PATROL_IDLE_MINUTES without a point the sweep ends the
    patrol at its last point (the forgotten hours are neither patrol time nor coverage), audits it
    as the system's, and leaves patrols still being walked alone."""
    settings.PATROL_IDLE_MINUTES = 120
    now = timezone.now()
    forgotten = start(at=now - timedelta(hours=5))
    points = walk(n=13, start=now - timedelta(hours=5))  # one minute of walking, then nothing
    services.track_ingest(user=user(GW_A), patrol_id=forgotten.pk, points=points)
    walking = start(GW_A2, GRID_A2, at=now - timedelta(hours=4))
    services.track_ingest(
        user=user(GW_A2), patrol_id=walking.pk, points=walk(GRID_A2, n=3, start=now - timedelta(minutes=20))
    )
    assert services.patrol_sweep(now=now) == 1
    forgotten.refresh_from_db()
    walking.refresh_from_db()
    assert forgotten.state == PatrolState.ENDED and forgotten.ended_at == points[-1].at
    assert forgotten.duration_s == 60 and forgotten.points == 13 and forgotten.coverage > 0
    assert walking.state == PatrolState.ACTIVE
    record = AuditRecord.objects.filter(action="patrol.auto_stop", object_id=str(forgotten.pk)).get()
    assert record.actor_id is None
    # A patrol with no point at all ends at its start; a second sweep changes nothing.
    silent = start(at=now - timedelta(hours=3))
    assert services.patrol_sweep(now=now) == 1
    silent.refresh_from_db()
    assert (silent.state, silent.ended_at, silent.duration_s) == (PatrolState.ENDED, silent.started_at, 0)
    assert services.patrol_sweep(now=now) == 0
    # The worker may start again at once.
    assert start().state == PatrolState.ACTIVE

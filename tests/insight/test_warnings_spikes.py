"""Spike warnings: the detector on seeded synthetic counts (quiet on ordinary Poisson noise, loud on
a burst), and end to end — cases reported through the services, the rollups rebuilt, a warning
raised once however often it runs."""

from __future__ import annotations

from datetime import date, timedelta
from io import StringIO
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pytest
from django.core.management import call_command
from django.utils import timezone

from civicgrid.cases.models import Case, CaseClass
from civicgrid.demo import cases_year, spikes
from civicgrid.insight import rollups, warnings
from civicgrid.insight.models import Alert, AlertKind, AlertStatus
from civicgrid.regions.models import Region

from ..cases.conftest import report
from ..cases.steps import GRID_A, GRID_B, GW_A, GW_B, point_in

RULES = warnings.Rules(baseline_days=56, min_count=4, p_value=0.001)


def _synthetic(seed: int, days: int = 120, grids: int = 60, majors: int = 8) -> warnings.Series:
    """A district's ordinary days: each grid × 大类 its own steady rate (a few busy ones), the
    weekends at 55 %, Poisson noise; seeded."""
    rng = np.random.default_rng(seed)
    rate = rng.gamma(0.8, 0.25, size=(grids, majors))  # mostly well under one report a day
    rate[rng.integers(0, grids, 3), rng.integers(0, majors, 3)] = 3.0  # a few standing hotspots
    first = date(2026, 1, 5)  # a Monday
    rhythm = np.array([1.0 if (first + timedelta(days=d)).weekday() < 5 else 0.55 for d in range(days)])
    counts = rng.poisson(rate[None, :, :] * rhythm[:, None, None]).astype(np.int32)
    return warnings.Series(first, np.arange(1, grids + 1), np.arange(1, majors + 1), counts)


def _days(series: warnings.Series, skip: int):
    return [series.first + timedelta(days=d) for d in range(skip, len(series.counts))]


def test_it_stays_quiet_on_ordinary_days():
    series = _synthetic(seed=11)
    days = _days(series, skip=56)
    found = [s for day in days for s in warnings.detect(series, day, RULES)]
    checked = len(days) * series.counts.shape[1] * series.counts.shape[2]
    # 64 days × 480 grid × 大类. Chance alone allows p_value per cell (30 here); the floor on the
    # expected count and the minimum of 4 reports keep it far below that (3 on this seed).
    assert checked == 30_720
    assert len(found) <= checked * RULES.p_value / 5
    assert all(s.observed >= RULES.min_count and s.p <= RULES.p_value for s in found)


def test_it_catches_a_burst_on_top_of_the_noise():
    series = _synthetic(seed=11)
    day = series.first + timedelta(days=90)
    series.counts[90, 7, 2] += 6  # six extra reports of one 大类 in one grid
    found = warnings.detect(series, day, RULES)
    burst = [s for s in found if (s.grid_id, s.major_id) == (8, 3)]
    assert len(burst) == 1
    assert burst[0].observed == series.counts[90, 7, 2] and burst[0].p <= RULES.p_value
    assert burst[0].severity in (1, 2, 3)


def test_its_expectation_follows_the_districts_day():
    """The same share on a day twice as busy district-wide expects twice as many."""
    base = np.array([[10, 0], [90, 0]])
    quiet = warnings.expected_counts(base, np.array([[0, 0], [20, 0]]), floor=0.5)
    busy = warnings.expected_counts(base, np.array([[0, 0], [40, 0]]), floor=0.5)
    assert busy[0, 0] == pytest.approx(2 * quiet[0, 0])
    assert quiet[0, 1] == 0.5  # nothing of that class anywhere: the floor


def test_the_poisson_tail_matches_the_sum_of_the_terms():
    assert warnings.poisson_tail(0, 2.0) == 1.0
    assert warnings.poisson_tail(1, 2.0) == pytest.approx(1 - np.exp(-2.0))
    assert warnings.poisson_tail(6, 0.5) == pytest.approx(1.4164e-5, rel=1e-3)
    assert warnings.severity_of(1e-6, 0.001) == 3 and warnings.severity_of(5e-5, 0.001) == 2
    assert warnings.severity_of(5e-4, 0.001) == 1


@pytest.fixture
def burst(idemo):
    """Six 小广告 reports in grid A today by its grid worker, two ordinary ones elsewhere."""
    point_a, point_b = point_in(GRID_A), point_in(GRID_B)
    cases = [report(GW_A, point=point_a, case_class="E0201", title="小广告") for _ in range(6)]
    cases += [report(GW_B, point=point_b, case_class="E0201", title="小广告") for _ in range(2)]
    rollups.rebuild()
    return cases


def test_it_raises_a_spike_from_cases_reported_through_the_services(burst):
    day = timezone.localdate(burst[0].created_at)
    result = warnings.spikes_run(day=day)
    assert result.raised == 1
    grid = Region.objects.get(code=GRID_A)
    major = CaseClass.objects.get(code="E02")
    alert = Alert.objects.get(kind=AlertKind.SPIKE)
    assert alert.key == f"spike:{day.isoformat()}:{grid.pk}:{major.pk}"
    assert alert.observed == 6 and alert.expected == warnings.EXPECTED_FLOOR
    assert alert.street_id == grid.parent.parent_id and alert.grid_id == grid.pk
    assert alert.severity == 2 and alert.status == AlertStatus.OPEN
    query = parse_qs(urlsplit(alert.link).query)
    assert query == {
        "region": [GRID_A],
        "case_class": ["E02"],
        "date_from": [day.isoformat()],
        "date_to": [day.isoformat()],
    }


def test_a_rerun_updates_the_same_warning_and_keeps_its_status(burst):
    day = timezone.localdate(burst[0].created_at)
    warnings.spikes_run(day=day)
    Alert.objects.update(status=AlertStatus.ACKNOWLEDGED)
    report(GW_A, point=point_in(GRID_A), case_class="E0201", title="小广告")
    rollups.rebuild()
    again = warnings.spikes_run(day=day)
    assert (again.raised, again.updated) == (0, 1)
    alert = Alert.objects.get(kind=AlertKind.SPIKE)
    assert alert.observed == 7 and alert.status == AlertStatus.ACKNOWLEDGED
    assert warnings.spikes_run(day=day) == warnings.RunResult(raised=0, updated=0)
    assert Alert.objects.count() == 1


def test_a_year_run_reads_the_rollups_once_and_finds_the_same(burst):
    day = timezone.localdate(burst[0].created_at)
    year = warnings.spikes_between(day - timedelta(days=30), day, RULES)
    assert [(s.day, s.observed) for s in year] == [(day, 6)]


def test_the_command_raises_the_days_warnings(burst):
    day = timezone.localdate(burst[0].created_at)
    out = StringIO()
    call_command("insight", "warnings", "--day", day.isoformat(), stdout=out)
    assert "spikes: 1 raised" in out.getvalue()
    assert Alert.objects.filter(kind=AlertKind.SPIKE).count() == 1
    assert Alert.objects.filter(kind=AlertKind.REPEAT).count() == 1  # six at one spot: a repeat place too


def test_the_backtest_counts_caught_missed_and_false(burst, monkeypatch):
    """The backtest on a tiny "demo year": the burst is planted, one more plant is not there."""
    Case.objects.update(submitted_by=cases_year.SUBMITTER)
    day = timezone.localdate(burst[0].created_at)
    planted = [
        spikes.Plant(day, GRID_A, "E0201", 6, 0, ()),
        spikes.Plant(day, GRID_B, "E0102", 9, 0, ()),
    ]
    monkeypatch.setattr(spikes, "plants", lambda **kwargs: planted)
    result = spikes.backtest(seed=1, skip_days=0)
    assert (result.plants, result.caught, result.warnings, result.false) == (2, 1, 1, 0)
    assert result.missed == [planted[1]] and result.false_per_1000 == 0.0
    out = StringIO()
    call_command("warnings_backtest", stdout=out)
    assert "caught 1; missed 1" in out.getvalue()

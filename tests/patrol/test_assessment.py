"""The monthly assessment's figures against a small month worked out by hand (March 2026).

Grid A (梅园新村社区第1网格) has a full-time worker (GW_A) and a part-time one (PT_A) and its own
plan: one period a month, 4 rounds of ≥ 60 min, coverage target 50 %. Grid A2 (same community)
has GW_A2 on the default plan (5 rounds a week of ≥ 60 min, target 80 %). March 2026 has five
Mondays (2, 9, 16, 23, 30): the week of 30 March, with 1–5 April, belongs to March. Office hours
08:30–12:00, 13:30–17:30; verification and check stages run 1 working hour; the duty rules give
2 hours to answer a task and 24 hours to answer a resident. The assessment is read on 10 April.
"""

from __future__ import annotations

from datetime import date

import pytest

from civicgrid.accounts.models import User
from civicgrid.cases.services import Upload
from civicgrid.patrol.assessment import Month, assessment, composite, weights
from civicgrid.patrol.models import (
    CheckIn,
    CoverageWeek,
    DutyRule,
    KeyPlace,
    KeyPlaceKind,
    Patrol,
    PatrolPlan,
    PatrolState,
    Period,
)
from civicgrid.regions.models import Region

from ..cases.conftest import actor, local, report
from ..cases.steps import (
    CHIEF_A,
    GRID_A,
    GRID_A2,
    GW_A,
    GW_A2,
    PT_A,
    SELF_RESOLVABLE,
    Frozen,
    do,
    handler_of,
    jpeg,
    point_in,
)

MARCH = Month(2026, 3)
READ_AT = local(2026, 4, 10, 12, 0)


def _user(username: str) -> User:
    return User.objects.get(username=username)


def _patrol(who: str, grid: Region, start, seconds: int, *, state=PatrolState.ENDED) -> Patrol:
    from datetime import timedelta

    return Patrol.objects.create(
        worker=_user(who),
        grid=grid,
        state=state,
        started_at=start,
        ended_at=start + timedelta(seconds=seconds) if state == PatrolState.ENDED else None,
        duration_s=seconds,
    )


def _checkin(who: str, place: KeyPlace, at, *, accepted: bool = True) -> CheckIn:
    return CheckIn.objects.create(
        worker=_user(who),
        place=place,
        at=at,
        lon=place.lon,
        lat=place.lat,
        distance_m=3.0 if accepted else 120.0,
        accepted=accepted,
        reason="" if accepted else "outside_geofence",
    )


def _patrol_month(grid_a: Region, grid_a2: Region) -> None:
    # GW_A, grid A (one period: the calendar month, in local time):
    _patrol(GW_A, grid_a, local(2026, 2, 28, 23, 30), 3600)  # February: out
    _patrol(GW_A, grid_a, local(2026, 3, 1, 0, 30), 600)  # 1 March local (28 Feb UTC): in, too short
    _patrol(GW_A, grid_a, local(2026, 3, 2, 9, 0), 3600)  # a round (exactly 60 min)
    _patrol(GW_A, grid_a, local(2026, 3, 5, 9, 0), 5400)  # a round
    _patrol(GW_A, grid_a, local(2026, 3, 9, 14, 0), 1800)  # too short
    _patrol(GW_A, grid_a, local(2026, 3, 20, 9, 0), 7200)  # a round
    _patrol(GW_A, grid_a, local(2026, 3, 25, 9, 0), 0, state=PatrolState.ACTIVE)  # not ended: out
    _patrol(GW_A, grid_a, local(2026, 4, 1, 9, 0), 3600)  # April: out
    # → 5 patrols, 600+3600+5400+1800+7200 = 18,600 s = 5.2 h; 3 rounds of 4 required.
    _patrol(PT_A, grid_a, local(2026, 3, 10, 10, 0), 4000)  # → 1 patrol, 1.1 h, 1 round of 4
    # GW_A2, grid A2 (weekly: a week belongs to the month of its Monday):
    _patrol(GW_A2, grid_a2, local(2026, 2, 28, 10, 0), 3600)  # week of 23 Feb: out
    _patrol(GW_A2, grid_a2, local(2026, 3, 2, 10, 0), 3600)  # week of 2 Mar
    _patrol(GW_A2, grid_a2, local(2026, 3, 3, 10, 0), 3600)  # week of 2 Mar
    _patrol(GW_A2, grid_a2, local(2026, 3, 30, 10, 0), 3600)  # week of 30 Mar
    _patrol(GW_A2, grid_a2, local(2026, 4, 2, 10, 0), 3600)  # week of 30 Mar: still March's
    _patrol(GW_A2, grid_a2, local(2026, 4, 6, 10, 0), 3600)  # week of 6 Apr: out
    _patrol(GW_A2, grid_a, local(2026, 3, 4, 10, 0), 3600)  # not GW_A2's grid: out
    # → 4 patrols, 4.0 h; rounds min(2,5) + min(2,5) = 4 of 5 weeks × 5 = 25.


def _coverage_weeks(grid_a: Region, grid_a2: Region) -> None:
    rows = [
        (GW_A, grid_a, date(2026, 2, 23), 0.9),  # February's week: out
        (GW_A, grid_a, date(2026, 3, 2), 0.6),
        (GW_A, grid_a, date(2026, 3, 9), 0.3),
        (GW_A, grid_a, date(2026, 3, 23), 0.5),
        (GW_A, grid_a, date(2026, 3, 30), 0.4),
        (GW_A2, grid_a2, date(2026, 3, 2), 0.8),
        (GW_A2, grid_a2, date(2026, 3, 30), 0.4),
    ]
    CoverageWeek.objects.bulk_create(
        [
            CoverageWeek(worker=_user(w), grid=g, week=d, coverage=c, patrols=1, seconds=3600)
            for w, g, d, c in rows
        ]
    )
    # GW_A: (0.6 + 0.3 + 0 + 0.5 + 0.4) / 5 = 0.36; against 50 %: (1 + 0.6 + 0 + 1 + 0.8) / 5 = 0.68.
    # PT_A: no weeks → 0 and 0. GW_A2: (0.8 + 0.4) / 5 = 0.24; against 80 %: (1 + 0.5) / 5 = 0.3.


def _key_places(grid_a: Region, grid_a2: Region) -> None:
    def place(grid, name, kind, **extra):
        lon, lat = point_in(grid.code)
        return KeyPlace.objects.create(grid=grid, name=name, kind=kind, lon=lon, lat=lat, **extra)

    school = place(grid_a, "测试小学", KeyPlaceKind.SCHOOL)  # the default plan's rule: 2 a period
    market = place(grid_a, "测试菜场", KeyPlaceKind.MARKET, visits_per_period=3)  # its own: 3
    old = place(grid_a, "测试老楼", KeyPlaceKind.OLD_BUILDING, active=False)  # inactive: out
    site = place(grid_a2, "测试工地", KeyPlaceKind.CONSTRUCTION)  # the default rule: 3 a week
    # Grid A needs 2 + 3 = 5 visits in its one period, from each of its workers.
    for day in (3, 4, 5):
        _checkin(GW_A, school, local(2026, 3, day, 10, 0))  # 3 visits, 2 count
    _checkin(GW_A, school, local(2026, 3, 6, 10, 0), accepted=False)  # refused: out
    _checkin(GW_A, market, local(2026, 3, 10, 10, 0))  # 1
    _checkin(GW_A, market, local(2026, 4, 1, 10, 0))  # April: out
    _checkin(GW_A, old, local(2026, 3, 10, 11, 0))  # inactive place: out
    # → GW_A 3/5
    _checkin(PT_A, school, local(2026, 3, 12, 10, 0))  # → PT_A 1/5
    # Grid A2 needs 3 a week × 5 weeks = 15.
    for day in (2, 3, 4, 5):
        _checkin(GW_A2, site, local(2026, 3, day, 10, 0))  # week of 2 Mar: 4 visits, 3 count
    _checkin(GW_A2, site, local(2026, 4, 1, 10, 0))  # week of 30 Mar: 1
    # → GW_A2 4/15


def _resident(clock: Frozen, at, grid: str = GRID_A):
    clock.to(at)
    return report("", channel="resident", point=point_in(grid))


def _step(clock: Frozen, at, who, case, action: str, **kwargs):
    clock.to(at)
    return do(who, case, action, **kwargs)


def _to_checking(clock: Frozen, case, at):
    """Register, dispatch, accept, and report the result at ``at``: the check stage starts then."""
    clock.to(at.replace(hour=8, minute=31))
    if case.state == "reported":
        do("shiftlead", case, "register")
    do("operator", case, "dispatch")
    do(handler_of(case), case, "accept")
    return _step(clock, at, handler_of(case), case, "feedback")


def _cases(clock: Frozen) -> None:
    # Reports by the workers (grid-worker channel):
    def worker_report(who, at):
        clock.to(at)
        return report(who, point=point_in(GRID_A), case_class=SELF_RESOLVABLE)

    worker_report(GW_A, local(2026, 2, 27, 10, 0))  # February: out
    r1 = _step(
        clock,
        local(2026, 3, 3, 10, 30),
        "shiftlead",
        worker_report(GW_A, local(2026, 3, 3, 10, 0)),
        "register",
    )
    _step(
        clock, local(2026, 3, 4, 10, 30), "shiftlead", worker_report(GW_A, local(2026, 3, 4, 10, 0)), "void"
    )
    worker_report(GW_A, local(2026, 3, 5, 10, 0))  # still awaiting registration: undecided
    r4 = _step(
        clock,
        local(2026, 3, 6, 10, 30),
        "shiftlead",
        worker_report(GW_A, local(2026, 3, 6, 10, 0)),
        "register",
    )
    files = [Upload("before.jpg", jpeg((200, 0, 0)), "before"), Upload("after.jpg", jpeg(), "after")]
    _step(
        clock,
        local(2026, 3, 9, 10, 5),
        GW_A,
        worker_report(GW_A, local(2026, 3, 9, 10, 0)),
        "self_resolve",
        files=files,
    )
    _step(
        clock,
        local(2026, 3, 10, 10, 30),
        "shiftlead",
        worker_report(PT_A, local(2026, 3, 10, 10, 0)),
        "register",
    )
    # GW_A: 5 reports, 3 valid (2 registered, 1 resolved on the spot), 1 voided, 1 undecided → 3/4.
    # PT_A: 1 report, valid → 1/1.

    # Residents' reports in grid A, each verified within 1 working hour of its report (by 10:00):
    v1 = _resident(clock, local(2026, 3, 2, 9, 0))
    _step(clock, local(2026, 3, 2, 9, 40), GW_A, v1, "verify")  # GW_A on time; 40 min
    v2 = _resident(clock, local(2026, 3, 3, 9, 0))
    _step(clock, local(2026, 3, 3, 9, 10), GW_A, v2, "note")  # GW_A's first word after 10 min
    _step(clock, local(2026, 3, 3, 11, 30), GW_A, v2, "verify")  # late; 150 min > 2 h
    v3 = _resident(clock, local(2026, 3, 4, 9, 0))
    _step(clock, local(2026, 3, 4, 9, 30), PT_A, v3, "verify")  # PT_A on time; 30 min
    v4 = _resident(clock, local(2026, 3, 5, 9, 0))
    _step(clock, local(2026, 3, 5, 9, 20), CHIEF_A, v4, "verify")  # the chief: against GW_A and PT_A
    v5 = _resident(clock, local(2026, 3, 6, 9, 0))
    _step(clock, local(2026, 3, 6, 9, 30), "shiftlead", v5, "void")  # voided while waiting: out
    _resident(clock, local(2026, 3, 30, 16, 0))  # never verified, late since 17:00: against both
    a2 = _resident(clock, local(2026, 3, 2, 9, 0), GRID_A2)
    _step(clock, local(2026, 3, 2, 9, 5), GW_A2, a2, "verify")  # GW_A2 on time; 5 min

    # Check stages (1 working hour from the feedback):
    _to_checking(clock, r4, local(2026, 3, 10, 9, 0))
    _step(clock, local(2026, 3, 10, 9, 30), GW_A, r4, "check_pass")  # on time; 30 min
    _to_checking(clock, r1, local(2026, 3, 11, 9, 0))
    _step(clock, local(2026, 3, 11, 11, 0), GW_A, r1, "check_fail")  # late; exactly 2 h: in time
    _step(clock, local(2026, 3, 12, 9, 0), handler_of(r1), r1, "feedback")
    _step(clock, local(2026, 3, 12, 9, 15), PT_A, r1, "check_pass")  # the rework's check: PT_A, 15 min
    _ = (v1, v2, v3)


@pytest.fixture
def march(pdemo, monkeypatch):
    grid_a, grid_a2 = Region.objects.get(code=GRID_A), Region.objects.get(code=GRID_A2)
    PatrolPlan.objects.create(
        grid=grid_a, period=Period.MONTH, rounds_per_period=4, min_minutes=60, coverage_target=0.5
    )
    DutyRule.objects.filter(code="response-task").update(value=2, unit="小时")
    DutyRule.objects.filter(code="response-resident").update(value=24, unit="小时")
    clock = Frozen(monkeypatch, local(2026, 3, 1, 8, 0))
    _patrol_month(grid_a, grid_a2)
    _coverage_weeks(grid_a, grid_a2)
    _key_places(grid_a, grid_a2)
    _cases(clock)
    clock.to(READ_AT)
    return clock


def _rows(reader: str = "chief-320102002001", **kwargs):
    result = assessment(scope=actor(reader).scope, month=MARCH, **kwargs)
    return result, {r.username: r for r in result.rows}


def test_it_counts_patrol_hours_and_rounds_by_the_plans_periods(march):
    _result, rows = _rows()
    gw, pt, a2 = rows[GW_A], rows[PT_A], rows[GW_A2]
    assert (gw.patrols, gw.patrol_seconds, gw.patrol_hours, gw.rounds_made) == (5, 18_600, 5.2, 3)
    assert (gw.rounds.done, gw.rounds.due) == (3, 4)
    assert (pt.patrols, pt.patrol_hours, pt.rounds.done, pt.rounds.due) == (1, 1.1, 1, 4)
    assert (a2.patrols, a2.patrol_hours, a2.rounds_made, a2.rounds.done, a2.rounds.due) == (4, 4.0, 4, 4, 25)


def test_it_averages_the_months_weekly_coverage_with_missing_weeks_as_zero(march):
    _result, rows = _rows()
    assert rows[GW_A].coverage == pytest.approx(0.36)
    assert rows[GW_A].coverage_score == pytest.approx(0.68)
    assert (rows[PT_A].coverage, rows[PT_A].coverage_score) == (0.0, 0.0)
    assert rows[GW_A2].coverage == pytest.approx(0.24)
    assert rows[GW_A2].coverage_score == pytest.approx(0.3)


def test_it_counts_key_place_visits_per_period_up_to_the_requirement(march):
    _result, rows = _rows()
    assert (rows[GW_A].places.done, rows[GW_A].places.due) == (3, 5)
    assert (rows[PT_A].places.done, rows[PT_A].places.due) == (1, 5)
    assert (rows[GW_A2].places.done, rows[GW_A2].places.due) == (4, 15)


def test_it_counts_reports_and_their_valid_share(march):
    _result, rows = _rows()
    gw = rows[GW_A]
    assert (gw.reports, gw.valid_reports.done, gw.reports_invalid, gw.reports_pending) == (5, 3, 1, 1)
    assert gw.valid_reports.rate == pytest.approx(0.75)
    assert (rows[PT_A].reports, rows[PT_A].valid_reports.rate) == (1, 1.0)
    assert (rows[GW_A2].reports, rows[GW_A2].valid_reports.rate) == (0, None)


def test_it_counts_verifications_and_checks_on_time(march):
    _result, rows = _rows()
    gw, pt, a2 = rows[GW_A], rows[PT_A], rows[GW_A2]
    # GW_A: v1 on time, v2 late, v4 (the chief's) and the unverified one against them → 1/4.
    assert (gw.verify.done, gw.verify.due) == (1, 4)
    # PT_A: v3 on time, v4 and the unverified one → 1/3.
    assert (pt.verify.done, pt.verify.due) == (1, 3)
    assert (a2.verify.done, a2.verify.due) == (1, 1)
    # Checks: GW_A passed one on time and failed one late; the rework's check is PT_A's.
    assert (gw.check.done, gw.check.due) == (1, 2)
    assert (pt.check.done, pt.check.due) == (1, 1)
    assert (a2.check.done, a2.check.due) == (0, 0) and a2.check.rate is None


def test_it_measures_the_two_responses_against_the_duty_rules(march):
    _result, rows = _rows()
    gw, pt, a2 = rows[GW_A], rows[PT_A], rows[GW_A2]
    # Tasks (2 h): GW_A v1 40 min ✓, v2 150 ✗, v4 ✗, unverified ✗, check 30 ✓, check 120 ✓ → 3/6.
    assert (gw.task_response.done, gw.task_response.due) == (3, 6)
    assert gw.task_response.median_minutes == 80.0  # of 30, 40, 120, 150
    assert (pt.task_response.done, pt.task_response.due, pt.task_response.median_minutes) == (2, 4, 22.5)
    # Residents (24 h): GW_A v1 40 min ✓, v2 10 min (the note) ✓, v4 ✗, unverified ✗ → 2/4.
    assert (gw.resident_response.done, gw.resident_response.due) == (2, 4)
    assert gw.resident_response.median_minutes == 25.0
    assert (pt.resident_response.done, pt.resident_response.due, pt.resident_response.median_minutes) == (
        1,
        3,
        30.0,
    )
    assert (a2.resident_response.done, a2.resident_response.due, a2.resident_response.median_minutes) == (
        1,
        1,
        5.0,
    )


def test_it_scores_and_grades_by_the_configured_weights(march, settings):
    _result, rows = _rows()
    # GW_A: 40 × 0.75 + 20 × 0.68 + 20 × 0.25 + 20 × 0.5 = 58.6 → D
    assert (rows[GW_A].score, rows[GW_A].grade) == (58.6, "D")
    # PT_A: 40 × 1 + 20 × 0 + 20 × 1/3 + 20 × 1 = 66.7 → C
    assert (rows[PT_A].score, rows[PT_A].grade) == (66.7, "C")
    # GW_A2 has no decided report and no check: (20 × 0.3 + 20 × 1) / 40 = 65.0 → C
    assert (rows[GW_A2].score, rows[GW_A2].grade) == (65.0, "C")
    settings.ASSESSMENT_WEIGHTS = {"verify_on_time": 1, "places": 1}
    # GW_A: (0.25 + 0.6) / 2 = 42.5 → D
    assert composite(rows[GW_A], weights()) == (42.5, "D")


def test_it_refuses_unknown_weights(settings):
    from django.core.exceptions import ImproperlyConfigured

    settings.ASSESSMENT_WEIGHTS = {"valid_reports": 40, "leaks": 20}
    with pytest.raises(ImproperlyConfigured):
        weights()


def test_a_missing_duty_rule_falls_back_to_the_shipped_default(march):
    DutyRule.objects.filter(code__in=["response-task", "response-resident"]).delete()
    result, rows = _rows()
    assert {k: v.label() for k, v in result.limits.items()} == {"task": "2小时", "resident": "24小时"}
    assert (rows[GW_A].task_response.done, rows[GW_A].task_response.due) == (3, 6)
    DutyRule.objects.create(code="response-task", title="响应派遣任务", text="…", value=30, unit="分钟")
    result, rows = _rows()
    # 30 minutes: only the 30-minute check counts now.
    assert (rows[GW_A].task_response.done, rows[GW_A].task_response.due) == (1, 6)


def test_a_stage_still_running_before_its_deadline_is_not_yet_due(march):
    march.to(local(2026, 3, 30, 16, 30))  # the last report came in at 16:00 and may wait until 17:00
    _result, rows = _rows()
    assert (rows[GW_A].verify.done, rows[GW_A].verify.due) == (1, 3)
    assert (rows[GW_A].resident_response.done, rows[GW_A].resident_response.due) == (2, 3)

"""The rollups: what a case counts for (hand-made rows), and the incremental refresh agreeing with a
rebuild from the event log after every kind of change — moves, a clock running out, a new day."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.db.models import Sum

from civicgrid.insight import rollups
from civicgrid.insight.models import KEY_FIELDS, MEASURES, CaseDay, CaseFact, EventDay, RollupState
from civicgrid.insight.rollups import Steps, fact_of

from ..cases.conftest import local
from ..cases.steps import GRID_A, GRID_B, Frozen, S, do, doer, walk

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


def row(**fields) -> dict:
    """A case's columns as ``fact_of`` reads them: a closed case by default."""
    base = {
        "id": 7,
        "created_at": datetime(2026, 3, 2, 17, 30, tzinfo=UTC),  # 01:30 on the 3rd in Nanjing
        "district_id": 1,
        "street_id": 2,
        "community_id": 3,
        "grid_id": 4,
        "major_class_id": 5,
        "case_class_id": 6,
        "channel": "grid_worker",
        "state": S.CLOSED,
        "department_id": 9,
        "registered_at": datetime(2026, 3, 3, 1, 0, tzinfo=UTC),
        "dispatched_at": datetime(2026, 3, 3, 2, 0, tzinfo=UTC),
        "closed_at": datetime(2026, 3, 4, 17, 30, tzinfo=UTC),
        "rework_count": 0,
        "return_count": 0,
        "extension_count": 0,
        "late_stages": 0,
        "stage_deadline": None,
        "paused_at": None,
        "satisfaction": "",
        "followup": None,
    }
    return base | fields


def test_it_counts_a_closed_case_on_the_local_day_it_was_reported():
    fact = fact_of(row(), Steps(feedbacks=1, reported_by=42), NOW)
    assert str(fact["day"]) == "2026-03-03"  # 17:30 UTC is 01:30 next day in Asia/Shanghai
    assert fact["worker_id"] == 42
    ones = {m for m in MEASURES if fact[m] == 1}
    assert ones == {
        "cases",
        "worker_reports",
        "worker_valid",
        "registered",
        "registered_on_time",
        "dispatched",
        "dispatched_ok",
        "handled",
        "handled_on_time",
        "closed",
        "closed_on_time",
    }
    assert fact["close_minutes"] == 2 * 24 * 60


def test_it_counts_late_steps_returns_reworks_and_extensions():
    fact = fact_of(
        row(return_count=1, rework_count=2, extension_count=1, late_stages=1),
        Steps(feedbacks=3, late_feedbacks=1, late_register=True),
        NOW,
    )
    assert fact["registered"] == 1 and fact["registered_on_time"] == 0
    assert fact["dispatched"] == 1 and fact["dispatched_ok"] == 0
    assert fact["handled"] == 1 and fact["handled_on_time"] == 0
    assert fact["closed"] == 1 and fact["closed_on_time"] == 0
    assert fact["reworked"] == 1 and fact["extended"] == 1


def test_overdue_needs_a_running_clock_past_its_deadline():
    past, future = NOW - timedelta(minutes=1), NOW + timedelta(minutes=1)
    handling = {"state": S.HANDLING, "closed_at": None}
    assert fact_of(row(**handling, stage_deadline=past), Steps(), NOW)["overdue_handle"] == 1
    assert fact_of(row(**handling, stage_deadline=future), Steps(), NOW)["overdue"] == 0
    paused = fact_of(row(**handling, stage_deadline=past, paused_at=past), Steps(), NOW)
    assert paused["overdue"] == 0 and paused["open"] == 1
    checking = fact_of(row(state=S.CHECKING, closed_at=None, stage_deadline=past), Steps(), NOW)
    assert checking["overdue"] == 1 and checking["overdue_handle"] == 0  # not the department's


def test_a_voided_report_is_a_report_but_not_registered():
    fact = fact_of(row(state=S.VOIDED, registered_at=None, dispatched_at=None, closed_at=None), Steps(), NOW)
    assert fact["cases"] == fact["worker_reports"] == 1
    assert fact["worker_valid"] == fact["registered"] == fact["open"] == 0


def test_a_follow_up_call_wins_over_the_residents_rating():
    call = {"contacted": True, "resolved": False, "satisfaction": "basic"}
    fact = fact_of(row(followup=call, satisfaction="satisfied"), Steps(), NOW)
    assert (fact["visited"], fact["contacted"], fact["resolved"]) == (1, 1, 0)
    assert (fact["satisfied"], fact["basic"]) == (0, 1)
    rated = fact_of(row(satisfaction="dissatisfied"), Steps(), NOW)
    assert (rated["visited"], rated["contacted"], rated["resolved"], rated["satisfied"]) == (1, 1, 0, 0)
    unrated = fact_of(row(), Steps(), NOW)
    assert unrated["visited"] == unrated["contacted"] == 0


# -- against the database --------------------------------------------------------------------------


def _snapshot() -> dict:
    facts = {f["case_id"]: f for f in CaseFact.objects.values()}
    days = sorted(tuple(r[k] for k in (*KEY_FIELDS, *MEASURES)) for r in CaseDay.objects.values())
    moves = sorted(EventDay.objects.values_list("day", "grid_id", "action", "n", "late"))
    return {"facts": facts, "days": days, "moves": moves}


def test_the_refresh_after_moves_agrees_with_a_rebuild(idemo, monkeypatch):
    clock = Frozen(monkeypatch, local(2026, 3, 9, 9, 0))
    closed = walk(S.CLOSED, grid=GRID_A)
    waiting = walk(S.DISPATCHED, grid=GRID_B, case_class="E0101")
    rollups.rebuild()
    assert CaseFact.objects.count() == 2
    assert CaseDay.objects.aggregate(n=Sum("closed"))["n"] == 1

    clock.to(local(2026, 3, 9, 10, 0))
    do(doer("rate", closed), closed, "rate")
    do(doer("accept", waiting), waiting, "accept")
    walk(S.REPORTED, grid=GRID_B)  # a new case
    result = rollups.refresh()
    assert result.cases == 3
    incremental = _snapshot()
    rollups.rebuild()
    assert _snapshot() == incremental
    totals = CaseDay.objects.aggregate(cases=Sum("cases"), open=Sum("open"), visited=Sum("visited"))
    assert totals == {"cases": 3, "open": 2, "visited": 1}
    day = EventDay.objects.filter(day=local(2026, 3, 9).date())
    assert day.filter(action="accept").aggregate(n=Sum("n"))["n"] == 2  # both cases, that day
    assert day.filter(action="close").aggregate(n=Sum("n"))["n"] == 1


def test_a_clock_running_out_makes_a_case_overdue_without_any_move(idemo, monkeypatch):
    clock = Frozen(monkeypatch, local(2026, 3, 9, 9, 0))
    case = walk(S.HANDLING, grid=GRID_A, case_class="E0201")  # 1 working day to handle
    rollups.refresh()  # never built: the first refresh builds
    assert RollupState.objects.get().rebuilt_at is not None
    assert CaseFact.objects.get(case_id=case.pk).overdue == 0
    case.refresh_from_db()
    clock.to(case.stage_deadline + timedelta(minutes=5))
    result = rollups.refresh()
    assert result.cases == 1
    assert CaseFact.objects.get(case_id=case.pk).overdue_handle == 1
    assert CaseDay.objects.aggregate(n=Sum("overdue_handle"))["n"] == 1
    again = rollups.refresh()  # nothing new: the same figures
    assert CaseDay.objects.aggregate(n=Sum("overdue_handle"))["n"] == 1
    assert again.buckets <= 1


def test_a_rebuild_replaces_everything_and_a_refresh_counts_nothing_twice(idemo, monkeypatch):
    Frozen(monkeypatch, local(2026, 3, 9, 9, 0))
    walk(S.REGISTERED, grid=GRID_A)
    rollups.rebuild()
    first = _snapshot()
    rollups.refresh()
    rollups.refresh()
    assert _snapshot() == first
    rollups.rebuild()
    assert _snapshot() == first
    assert EventDay.objects.aggregate(n=Sum("n"))["n"] == 2  # report + register

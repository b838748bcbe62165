"""Time limits on the working-day clock through the real flow, the SLA sweep's notices, and the
event log as the clock's record. Time is frozen: every expected deadline is worked out by hand
from the limit text, the office hours (08:30–12:00, 13:30–17:30) and the State Council calendar."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from civicgrid.cases import limits, workflow
from civicgrid.cases.models import CalendarOverride, Case, CaseClass, Stage
from civicgrid.cases.sla import sla_sweep
from civicgrid.errors import DomainError
from civicgrid.notifications.models import Notification

from .conftest import local
from .steps import CHIEF_A, GW_A, PT_A, STREET_A, Frozen, S, do, doer, walk

pytestmark = pytest.mark.django_db


def _dispatched(clock, at, case_class: str, **fields) -> Case:
    """Reported, registered and dispatched at ``at`` (the handling clock starts there)."""
    clock.to(at)
    return walk(S.DISPATCHED, case_class=case_class, **fields)


# (class, its normal limit, handling deadline when dispatched on 2026-09-30 at 16:00). National
# Day and the Mid-Autumn break run 1–7 October; Saturday 10 October is worked instead (调休).
NATIONAL_DAY = [
    ("E0201", "1工作日", local(2026, 10, 8, 16, 0)),  # 1.5 h on 30 Sep + 6 h on 8 Oct
    ("E0106", "4工作时", local(2026, 10, 8, 11, 0)),  # 1.5 h on 30 Sep + 2.5 h from 08:30
    ("E0110", "2工作日", local(2026, 10, 9, 16, 0)),
    ("E0302", "3工作日", local(2026, 10, 10, 16, 0)),  # the 调休 Saturday counts
    ("E0501", "5工作日", local(2026, 10, 13, 16, 0)),  # Sunday 11 Oct does not
]


def test_a_case_dispatched_before_national_day_is_due_after_the_holiday(cases_demo, monkeypatch):
    clock = Frozen(monkeypatch, local(2026, 9, 30, 16, 0))
    for code, limit_text, due in NATIONAL_DAY:
        assert CaseClass.objects.get(code=code).limit_normal == limit_text
        case = _dispatched(clock, local(2026, 9, 30, 16, 0), code)
        assert case.due_at == due, code
        # Accepting within the hour: 16:00 + 1 working hour, still on 30 September.
        assert case.stage == Stage.ACCEPT and case.stage_deadline == local(2026, 9, 30, 17, 0)
        do(doer("accept", case), case, "accept")
        assert (case.stage, case.stage_deadline, case.due_at) == (Stage.HANDLE, due, due), code


def test_a_short_stage_runs_over_the_holiday_too(cases_demo, monkeypatch):
    Frozen(monkeypatch, local(2026, 9, 30, 17, 15))
    case = walk(S.REPORTED, case_class="E0201")
    # Registration has 0.5 working hours: 15 minutes on 30 Sep, 15 on the first working morning.
    assert case.stage_deadline == local(2026, 10, 8, 8, 45)


def test_a_report_after_office_hours_starts_its_clock_next_morning(cases_demo, monkeypatch):
    clock = Frozen(monkeypatch, local(2026, 11, 16, 19, 0))
    evening = walk(S.VERIFYING)
    # Verification: 1 working hour from Tuesday 08:30; the warning at 80 % (48 minutes).
    assert (evening.stage, evening.stage_started_at) == (Stage.VERIFY, local(2026, 11, 16, 19, 0))
    assert evening.stage_deadline == local(2026, 11, 17, 9, 30)
    assert evening.stage_warn_at == local(2026, 11, 17, 9, 18)
    clock.to(local(2026, 11, 17, 12, 30))
    lunch = walk(S.VERIFYING)
    assert lunch.stage_deadline == local(2026, 11, 17, 14, 30)


def test_an_emergency_runs_on_natural_hours_through_the_night(cases_demo, monkeypatch):
    clock = Frozen(monkeypatch, local(2026, 11, 20, 19, 0))  # a Friday evening
    case = walk(S.REPORTED, case_class="E0101", urgency="emergency")
    assert case.stage_deadline == local(2026, 11, 20, 19, 10)  # register: 10 minutes
    clock.to(local(2026, 11, 20, 19, 5))
    do("shiftlead", case, "register")
    clock.to(local(2026, 11, 20, 19, 8))
    do("operator", case, "dispatch")
    # E0101 in an emergency: 2 hours; acceptance 15 minutes; warnings at 80 % of real time.
    assert case.due_at == local(2026, 11, 20, 21, 8)
    assert case.stage_deadline == local(2026, 11, 20, 19, 23) and not case.clock_working
    assert case.stage_warn_at == local(2026, 11, 20, 19, 20)
    clock.to(local(2026, 11, 20, 19, 20))
    do("dept-d01", case, "accept")
    assert case.stage_warn_at == local(2026, 11, 20, 20, 46, 24)  # 80 % of the 108 minutes left
    clock_data = case.events.last().data["clock"]
    assert clock_data["limit"] == {"amount": 2, "unit": "natural_hours"}
    # The same class when normal: 15 working days, Monday 7 December 09:00 from Monday 16 Nov.
    normal = _dispatched(clock, local(2026, 11, 16, 9, 0), "E0101")
    assert normal.due_at == local(2026, 12, 7, 9, 0) and normal.clock_working


def test_a_class_with_a_natural_limit_is_due_the_same_night(cases_demo, monkeypatch):
    clock = Frozen(monkeypatch, local(2026, 11, 20, 19, 0))
    case = _dispatched(clock, local(2026, 11, 20, 19, 0), "E0402")  # 路面塌陷: 4小时 when normal
    assert case.due_at == local(2026, 11, 20, 23, 0)


def test_a_local_day_off_pushes_the_deadline_and_an_extra_working_day_pulls_it(cases_demo, monkeypatch):
    clock = Frozen(monkeypatch, local(2026, 11, 16, 16, 0))
    before = _dispatched(clock, local(2026, 11, 16, 16, 0), "E0201")
    assert before.due_at == local(2026, 11, 17, 16, 0)
    CalendarOverride.objects.create(day=date(2026, 11, 17), is_workday=False, note="区运动会")
    CalendarOverride.objects.create(day=date(2026, 11, 22), is_workday=True, note="补班")
    limits.forget()
    after = _dispatched(clock, local(2026, 11, 16, 16, 0), "E0201")
    assert after.due_at == local(2026, 11, 18, 16, 0)
    friday = _dispatched(clock, local(2026, 11, 20, 16, 0), "E0201")
    assert friday.due_at == local(2026, 11, 22, 16, 0)
    assert Case.objects.get(pk=before.pk).due_at == local(2026, 11, 17, 16, 0)  # set when dispatched


def test_the_warning_comes_at_80_percent_of_the_working_time(cases_demo, monkeypatch):
    clock = Frozen(monkeypatch, local(2026, 11, 16, 9, 0))
    case = _dispatched(clock, local(2026, 11, 16, 9, 0), "E0101")
    do("dept-d01", case, "accept")
    # 80 % of 15 working days is 12: Wednesday 2 December 09:00.
    assert case.stage_warn_at == local(2026, 12, 2, 9, 0)
    assert case.stage_deadline == local(2026, 12, 7, 9, 0)


def _notices(case: Case, kind: str) -> set[str]:
    return set(
        Notification.objects.filter(case=case, kind=f"case.{kind}").values_list("user__username", flat=True)
    )


# The stage, the state that runs it, and who is waited for (who gets its warnings and notices).
OWNERS = {
    Stage.VERIFY: (S.VERIFYING, {GW_A, PT_A}),
    Stage.REGISTER: (S.REPORTED, {"shiftlead", STREET_A}),
    Stage.DISPATCH: (S.REGISTERED, {"operator", "shiftlead", STREET_A}),
    Stage.ACCEPT: (S.DISPATCHED, {"dept-d01"}),
    Stage.HANDLE: (S.HANDLING, {"dept-d01"}),
    Stage.CHECK: (S.CHECKING, {GW_A, PT_A}),
    Stage.CLOSE: (S.CHECKED, {"shiftlead", STREET_A}),
}


def test_the_sweep_tells_the_stage_owners_once_per_stage(cases_demo, monkeypatch):
    clock = Frozen(monkeypatch, local(2026, 11, 16, 9, 0))
    cases = {stage: walk(state) for stage, (state, _) in OWNERS.items()}
    quiet = [walk(S.CLOSED), walk(S.VOIDED), walk(S.SUSPENDED)]
    paused = walk(S.HANDLING)
    do("dept-d01", paused, "pause")
    assert sla_sweep(now=local(2026, 12, 31, 9, 0)) == {"warning": 7, "overdue": 7}
    for stage, (_, owners) in OWNERS.items():
        assert _notices(cases[stage], "warning") == _notices(cases[stage], "overdue") == owners, stage
    assert CHIEF_A not in _notices(cases[Stage.CHECK], "overdue")
    for case in [*quiet, paused]:
        assert not Notification.objects.filter(case=case, kind__in=["case.warning", "case.overdue"]).exists()

    count = Notification.objects.count()
    assert sla_sweep(now=local(2026, 12, 31, 9, 0)) == {"warning": 0, "overdue": 0}
    assert Notification.objects.count() == count

    handled = cases[Stage.HANDLE]
    clock.to(local(2026, 11, 16, 10, 0))
    do("dept-d01", handled, "feedback")
    do("dept-d01", paused, "unpause")
    assert sla_sweep(now=local(2026, 12, 31, 9, 0)) == {"warning": 2, "overdue": 2}
    assert _notices(handled, "overdue") == {"dept-d01", GW_A, PT_A}
    assert Notification.objects.filter(case=handled, kind="case.overdue").count() == 3


def test_the_warning_and_the_overdue_notice_come_at_their_times(cases_demo, monkeypatch):
    clock = Frozen(monkeypatch, local(2026, 11, 16, 9, 0))
    case = _dispatched(clock, local(2026, 11, 16, 9, 0), "E0201")
    do("dept-d01", case, "accept")
    warn, due = local(2026, 11, 16, 16, 30), local(2026, 11, 17, 9, 0)
    assert (case.stage_warn_at, case.stage_deadline) == (warn, due)
    assert sla_sweep(now=local(2026, 11, 16, 16, 29)) == {"warning": 0, "overdue": 0}
    assert sla_sweep(now=warn) == {"warning": 1, "overdue": 0}
    assert sla_sweep(now=local(2026, 11, 17, 8, 59)) == {"warning": 0, "overdue": 0}
    assert sla_sweep(now=due) == {"warning": 0, "overdue": 1}
    assert sla_sweep(now=local(2026, 11, 18, 9, 0)) == {"warning": 0, "overdue": 0}
    assert _notices(case, "warning") == _notices(case, "overdue") == {"dept-d01"}
    row = Case.objects.get(pk=case.pk)
    assert row.warned_seq == row.overdue_seq == row.stage_seq


def test_an_approved_extension_warns_and_notices_again_by_its_new_deadline(cases_demo, monkeypatch):
    clock = Frozen(monkeypatch, local(2026, 11, 16, 9, 0))
    case = _dispatched(clock, local(2026, 11, 16, 9, 0), "E0201")
    do("dept-d01", case, "accept")
    assert sla_sweep(now=local(2026, 11, 16, 16, 30)) == {"warning": 1, "overdue": 0}
    clock.to(local(2026, 11, 16, 17, 0))
    do("dept-d01", case, "extend_request")  # 2 more working days
    case = do("shiftlead", case, "extend_approve")
    assert case.stage_deadline == local(2026, 11, 19, 9, 0)
    assert sla_sweep(now=local(2026, 11, 17, 9, 0)) == {"warning": 0, "overdue": 0}  # the old deadline
    assert sla_sweep(now=case.stage_warn_at) == {"warning": 1, "overdue": 0}
    assert sla_sweep(now=case.stage_deadline) == {"warning": 0, "overdue": 1}
    assert Notification.objects.filter(case=case, kind="case.warning").count() == 2


def test_a_case_waiting_on_an_extension_cannot_be_suspended(cases_demo, monkeypatch):
    Frozen(monkeypatch, local(2026, 11, 16, 9, 0))
    case = walk(S.HANDLING)
    do("dept-d01", case, "extend_request")
    with pytest.raises(DomainError) as refused:
        do("dept-d01", case, "suspend")
    assert refused.value.status == 409


CLOCK_FIELDS = ["state", "stage", "stage_seq", "stage_started_at", "stage_deadline", "stage_warn_at", "due_at",
                "clock_working", "paused_at", "pending_extension", "late_stages", "rework_count",
                "return_count", "extension_count", "version"]  # fmt: skip


def _clock(case) -> dict:
    return {name: getattr(case, name) for name in CLOCK_FIELDS}


def replay(case: Case) -> list[dict]:
    """Rebuild the case from its events alone with ``apply_move``; its clock after every step."""
    events = list(case.events.order_by("seq"))
    first = events[0]
    fresh = Case(channel=case.channel, case_class=case.case_class, urgency=case.urgency, lon=case.lon,
                 lat=case.lat, grid_id=case.grid_id)  # fmt: skip
    fresh.pk = case.pk
    who = workflow.Actor(user_id=first.actor_id)
    workflow.start_case(fresh, at=first.at, actor=who, role=first.actor_role, initial=first.to_state)
    steps = [_clock(fresh)]
    for event in events[1:]:
        workflow.apply_move(fresh, workflow.MOVES[event.action], actor=workflow.Actor(user_id=event.actor_id),
                            role=event.actor_role, at=event.at, seq=event.seq, note=event.note,
                            data=dict(event.data))  # fmt: skip
        steps.append(_clock(fresh))
    return steps


def test_the_event_log_reproduces_the_clock(cases_demo, monkeypatch):
    clock = Frozen(monkeypatch, local(2026, 11, 16, 9, 0))
    case = walk(S.REPORTED)
    shown = [_clock(Case.objects.get(pk=case.pk))]
    for at, who, action, kwargs in [
        ((9, 40), "shiftlead", "register", {}),  # 10 minutes late: registration had until 09:30
        ((9, 50), "operator", "dispatch", {}),
        ((10, 0), "dept-d01", "accept", {}),
        ((10, 30), "dept-d01", "pause", {}),
        ((11, 15), "dept-d01", "unpause", {}),
        ((11, 30), "dept-d01", "extend_request", {"data": {"limit": "4工作时"}}),
        ((13, 40), "shiftlead", "extend_approve", {}),
        ((14, 0), "dept-d01", "feedback", {}),
        ((14, 30), GW_A, "check_fail", {}),
        ((15, 0), "dept-d01", "feedback", {}),
        ((15, 30), GW_A, "check_pass", {}),
        ((16, 0), "shiftlead", "close", {}),
    ]:
        clock.to(local(2026, 11, 16, *at))
        do(who, case, action, **kwargs)
        shown.append(_clock(Case.objects.get(pk=case.pk)))

    events = list(case.events.order_by("seq"))
    assert [e.action for e in events][-1] == "close" and len(events) == len(shown)
    for event, seen in zip(events, shown, strict=True):
        if "clock" in event.data and event.data["clock"].get("stage"):
            written = event.data["clock"]
            assert datetime.fromisoformat(written["deadline"]) == seen["stage_deadline"], event.action
            assert written["stage"] == seen["stage"], event.action
    assert shown[1]["late_stages"] == 1 and shown[-1]["rework_count"] == 1
    assert shown[-1]["extension_count"] == 1
    # Dispatched at 09:50 with 1工作日: due Tuesday 09:50; 45 minutes paused; 4 working hours more.
    assert shown[2]["due_at"] == local(2026, 11, 17, 9, 50)
    assert shown[5]["due_at"] == local(2026, 11, 17, 10, 35)
    assert shown[7]["due_at"] == local(2026, 11, 17, 16, 5)
    # Reworked at 14:30: a fresh working day from then.
    assert shown[9]["due_at"] == local(2026, 11, 17, 14, 30)
    assert replay(case) == shown

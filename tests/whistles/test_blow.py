"""Blowing a whistle: who may, the deadlines per kind, the case's timeline, and every refusal
(a clear code, recorded on the audit trail, nothing written)."""

from __future__ import annotations

import pytest

from civicgrid.accounts.models import Department
from civicgrid.audit.models import AuditRecord
from civicgrid.cases.models import CaseEvent, CaseState
from civicgrid.errors import DomainError
from civicgrid.notifications.models import Notification
from civicgrid.whistles import services
from civicgrid.whistles.models import Summons, Whistle, WhistleLimit

from ..cases.steps import GRID_A, Frozen, walk
from .conftest import (
    COMMUNITY_A,
    GW_A,
    STAFF_A,
    STREET_A,
    STREET_A_CODE,
    STREET_B,
    STREET_B_CODE,
    actor,
    blow,
    local,
)


def _nothing_written() -> None:
    assert Whistle.objects.count() == 0 and Summons.objects.count() == 0
    assert not Notification.objects.filter(kind__startswith="whistle.").exists()


def _refused(code: str, who: str = STREET_A, status: int = 400, **kwargs) -> DomainError:
    with pytest.raises(DomainError) as caught:
        blow(who, **kwargs)
    assert caught.value.code == code and caught.value.status == status
    _nothing_written()
    record = AuditRecord.objects.filter(action="whistle.refused").latest("id")
    assert record.detail["code"] == code
    return caught.value


def test_it_blows_a_standalone_whistle_summoning_two_departments(wdemo):
    whistle = blow(STREET_A, departments=("D01", "D02"), lead="D02", place="珠江路与太平北路路口")
    assert whistle.number.startswith("CS") and whistle.is_open
    assert whistle.region.code == STREET_A_CODE and whistle.street.code == STREET_A_CODE
    assert whistle.blown_as == "street_operator" and whistle.lead.code == "D02" and whistle.case is None
    codes = sorted(whistle.summonses.values_list("department__code", flat=True))
    assert codes == ["D01", "D02"]
    told = set(Notification.objects.filter(kind="whistle.summoned").values_list("user__username", flat=True))
    assert told == {"dept-d01", "dept-d02"}
    assert AuditRecord.objects.filter(action="whistle.blow", object_id=whistle.number).exists()


@pytest.mark.parametrize(
    ("kind", "at", "deadline"),
    [
        # emergency: 30 natural minutes, evenings and weekends included
        ("emergency", local(2026, 11, 28, 22, 50), local(2026, 11, 28, 23, 20)),
        # tough: 4 working hours; Friday 16:00 → 1.5 h on Friday, 2.5 h on Monday morning
        ("tough", local(2026, 11, 27, 16, 0), local(2026, 11, 30, 11, 0)),
        # tough, blown in the evening: from 08:30 next morning, over the lunch break
        ("tough", local(2026, 11, 25, 19, 0), local(2026, 11, 26, 14, 0)),
        # routine: 1 working day (7.5 h of office time) over the weekend
        ("routine", local(2026, 11, 27, 10, 0), local(2026, 11, 30, 10, 0)),
    ],
)
def test_it_sets_the_report_in_deadline_per_kind(wdemo, monkeypatch, kind, at, deadline):
    Frozen(monkeypatch, at)
    whistle = blow(kind=kind)
    assert {s.deadline for s in whistle.summonses.all()} == {deadline}


def test_the_limits_are_configurable(wdemo, monkeypatch):
    WhistleLimit.objects.create(kind="emergency", limit="15分钟")
    Frozen(monkeypatch, local(2026, 11, 28, 9, 0))
    whistle = blow(kind="emergency")
    assert whistle.limit == "15分钟"
    assert whistle.summonses.first().deadline == local(2026, 11, 28, 9, 15)


def test_a_whistle_on_a_case_is_noted_on_its_timeline(wdemo):
    case = walk(CaseState.REGISTERED, grid=GRID_A)
    version = case.version
    whistle = blow(STREET_A, case=case.number, departments=("D03",))
    case.refresh_from_db()
    assert whistle.case == case and whistle.title == case.title and whistle.lead.code == "D03"
    assert case.version == version + 1  # through the case services: the version moved on
    note = CaseEvent.objects.filter(case=case).latest("seq")
    assert note.action == "note" and whistle.number in note.note and note.actor.username == STREET_A


def test_community_staff_blow_for_their_community(wdemo):
    whistle = blow(STAFF_A)
    assert whistle.region.code == COMMUNITY_A and whistle.street.code == STREET_A_CODE
    assert whistle.blown_as == "community_staff"


def test_the_command_centre_blows_anywhere(wdemo):
    whistle = blow("operator", region=STREET_B_CODE)
    assert whistle.region.code == STREET_B_CODE and whistle.blown_as == "operator"


def test_a_retried_submission_returns_the_same_whistle(wdemo):
    data = services.WhistleInput(kind="routine", departments=["D01"], title="井盖缺失")
    first = services.whistle_blow(
        actor=actor(STREET_A), data=data, idempotency_key="same-key-123", submitted_by="u1"
    )
    again = services.whistle_blow(
        actor=actor(STREET_A), data=data, idempotency_key="same-key-123", submitted_by="u1"
    )
    assert again.replayed and again.whistle.pk == first.whistle.pk
    assert Whistle.objects.count() == 1 and Summons.objects.count() == 1
    with pytest.raises(DomainError) as caught:
        services.whistle_blow(
            actor=actor(STREET_A), data=data, idempotency_key="same-key-123", submitted_by="u2"
        )
    assert caught.value.code == "idempotency_key_reused" and caught.value.status == 409


def test_it_refuses_a_department_that_does_not_exist(wdemo):
    error = _refused("unknown_department", departments=("D01", "D99"))
    assert error.detail == {"unknown": ["D99"]}


def test_it_refuses_an_inactive_department(wdemo):
    Department.objects.filter(code="D02").update(active=False)
    assert _refused("unknown_department", departments=("D01", "D02")).detail == {"unknown": ["D02"]}


def test_it_refuses_a_lead_not_summoned(wdemo):
    _refused("lead_not_summoned", departments=("D01", "D02"), lead="D03")


def test_it_refuses_no_department(wdemo):
    with pytest.raises(DomainError) as caught:
        services.whistle_blow(
            actor=actor(STREET_A),
            data=services.WhistleInput(kind="routine", departments=["", " "], title="x"),
            idempotency_key="no-departments-1",
            submitted_by=STREET_A,
        )
    assert caught.value.code == "departments_required"
    _nothing_written()


def test_it_refuses_a_department_named_twice(wdemo):
    assert _refused("duplicate_departments", departments=("D01", "D02", "D01")).detail == {
        "duplicates": ["D01"]
    }


def test_it_refuses_several_departments_without_a_lead(wdemo):
    with pytest.raises(DomainError) as caught:
        services.whistle_blow(
            actor=actor(STREET_A),
            data=services.WhistleInput(kind="routine", departments=["D01", "D02"], title="x"),
            idempotency_key="no-lead-0001",
            submitted_by=STREET_A,
        )
    assert caught.value.code == "lead_required"
    _nothing_written()


def test_it_refuses_an_unknown_kind(wdemo):
    _refused("unknown_kind", kind="whatever")


def test_it_refuses_a_standalone_matter_without_a_title(wdemo):
    _refused("text_required", title="  ")


def test_it_refuses_a_whistle_on_a_closed_case(wdemo):
    case = walk(CaseState.CLOSED, grid=GRID_A)
    events = CaseEvent.objects.filter(case=case).count()
    _refused("case_closed", status=409, case=case.number)
    assert CaseEvent.objects.filter(case=case).count() == events


@pytest.mark.parametrize(
    ("who", "region"),
    [
        (GW_A, ""),  # a grid worker never blows
        ("dept-d01", ""),  # nor a department
        (STREET_B, STREET_A_CODE),  # another street's operator
        (STAFF_A, STREET_A_CODE),  # community staff for the whole street
        ("resident1", ""),
        ("auditor", ""),
    ],
)
def test_who_may_not_blow(wdemo, who, region):
    _refused("whistle_forbidden", who=who, status=403, region=region)


def test_a_street_may_not_blow_on_a_case_it_cannot_see(wdemo):
    case = walk(CaseState.REGISTERED, grid=GRID_A)
    _refused("case_not_found", who=STREET_B, status=404, case=case.number)

"""Reporting in (报到), late flags and their single notice, meeting records, closing."""

from __future__ import annotations

from datetime import timedelta

import pytest

from civicgrid.audit.models import AuditRecord
from civicgrid.cases.models import CaseState
from civicgrid.errors import DomainError
from civicgrid.notifications.models import Notification
from civicgrid.whistles import services, sweep
from civicgrid.whistles.models import MeetingRecord, MeetingTask, Summons, WhistleState

from ..cases.steps import GRID_A, Frozen, do, walk
from .conftest import GW_A, STAFF_A, STREET_A, STREET_B, actor, blow, local, report_in

T0 = local(2026, 11, 25, 9, 0)  # a Wednesday morning


def _summons(whistle, code: str) -> Summons:
    return Summons.objects.get(whistle=whistle, department__code=code)


def test_each_department_reports_in_on_time(wdemo, monkeypatch):
    clock = Frozen(monkeypatch, T0)
    whistle = blow(kind="tough")  # report in by 13:30 +0.5 h … 14:00
    clock.to(T0 + timedelta(minutes=40))
    report_in("dept-d01", whistle, where="现场东侧", lon=118.79, lat=32.05, note="带两名执法队员")
    report_in("dept-d02", whistle, attendees="张强")
    d01, d02 = _summons(whistle, "D01"), _summons(whistle, "D02")
    assert d01.reported_at == T0 + timedelta(minutes=40) and d01.reported_by.username == "dept-d01"
    assert (d01.attendees, d01.where, d01.lon, d01.lat) == ("王伟、李娜", "现场东侧", 118.79, 32.05)
    assert not d01.late and not d02.late and d02.attendees == "张强"
    told = Notification.objects.filter(kind="whistle.reported", user__username=STREET_A)
    assert told.count() == 2
    assert AuditRecord.objects.filter(action="whistle.report_in", object_id=whistle.number).count() == 2


def test_a_report_in_after_the_deadline_is_late(wdemo, monkeypatch):
    clock = Frozen(monkeypatch, T0)
    whistle = blow(kind="emergency")
    clock.to(T0 + timedelta(minutes=31))
    assert report_in("dept-d01", whistle).late


def test_gcj02_points_are_stored_in_wgs84(wdemo):
    whistle = blow()
    s = report_in("dept-d01", whistle, lon=118.8, lat=32.05, crs="gcj02")
    assert s.lon != 118.8 and abs(s.lon - 118.8) < 0.01  # shifted back by the GCJ-02 offset


def _report_refused(who: str, whistle, code: str, status: int = 400, **fields) -> None:
    before = list(Summons.objects.order_by("id").values())
    with pytest.raises(DomainError) as caught:
        report_in(who, whistle, **fields)
    assert (caught.value.code, caught.value.status) == (code, status)
    assert list(Summons.objects.order_by("id").values()) == before


def test_a_department_reports_in_once(wdemo):
    whistle = blow()
    report_in("dept-d01", whistle)
    _report_refused("dept-d01", whistle, "already_reported", 409)


def test_a_department_reports_in_only_for_itself(wdemo):
    whistle = blow()
    _report_refused("dept-d01", whistle, "not_your_department", 403, department="D02")
    _report_refused("dept-d01", whistle, "not_summoned", department="D05")


def test_an_unsummoned_department_cannot_even_find_the_whistle(wdemo):
    _report_refused("dept-d03", blow(), "whistle_not_found", 404)


def test_the_blower_does_not_report_in(wdemo):
    _report_refused(STREET_A, blow(), "report_in_forbidden", 403)


def test_a_report_in_needs_who_came_and_a_real_point(wdemo):
    whistle = blow()
    _report_refused("dept-d01", whistle, "text_required", attendees=" ")
    _report_refused("dept-d01", whistle, "bad_coordinates", lon=200, lat=32)
    _report_refused("dept-d01", whistle, "bad_coordinates", lon="east", lat=32)


def test_the_sweep_flags_a_missing_report_in_and_tells_once(wdemo, monkeypatch):
    clock = Frozen(monkeypatch, T0)
    whistle = blow(kind="emergency")
    clock.to(T0 + timedelta(minutes=10))
    report_in("dept-d02", whistle)
    assert sweep.late_sweep() == 0  # not due yet
    clock.to(T0 + timedelta(minutes=45))
    assert sweep.late_sweep() == 1
    assert sweep.late_sweep() == 0  # a second run tells nobody again
    d01 = _summons(whistle, "D01")
    assert d01.late and d01.reported_at is None and d01.late_notified_at == T0 + timedelta(minutes=45)
    assert not _summons(whistle, "D02").late
    told = Notification.objects.filter(kind="whistle.late")
    assert sorted(told.values_list("user__username", flat=True)) == ["dept-d01", STREET_A]
    # Coming late still counts as a report-in, and it stays late.
    clock.to(T0 + timedelta(minutes=50))
    assert report_in("dept-d01", whistle).late
    assert sweep.late_sweep() == 0 and told.count() == 2


def test_the_sweep_leaves_closed_whistles_alone(wdemo, monkeypatch):
    clock = Frozen(monkeypatch, T0)
    whistle = blow(kind="emergency")
    services.whistle_close(actor=actor(STREET_A), number=whistle.number, result="已协调解决")
    clock.to(T0 + timedelta(hours=2))
    assert sweep.late_sweep() == 0 and not Summons.objects.filter(late=True).exists()


def test_a_case_whistle_closes_with_its_case(wdemo):
    case = walk(CaseState.CHECKED, grid=GRID_A)
    whistle = blow(case=case.number, departments=("D01",))
    with pytest.raises(DomainError) as caught:
        services.whistle_close(actor=actor(STREET_A), number=whistle.number, result="完成")
    assert caught.value.code == "closes_with_case"
    assert sweep.close_sweep() == 0
    case = do("shiftlead", case, "close")
    assert sweep.whistle_sweep() == {"closed": 1, "late": 0}
    whistle.refresh_from_db()
    assert whistle.state == WhistleState.CLOSED and whistle.closed_at == case.closed_at
    assert case.number in whistle.result
    assert sweep.close_sweep() == 0


def test_the_blower_closes_a_standalone_whistle_with_its_result(wdemo):
    whistle = blow()
    with pytest.raises(DomainError) as caught:
        services.whistle_close(actor=actor(STREET_A), number=whistle.number, result="")
    assert caught.value.code == "text_required"
    for who, code in (
        (STREET_B, "whistle_not_found"),
        ("dept-d01", "close_forbidden"),
        (STAFF_A, "whistle_not_found"),
    ):
        with pytest.raises(DomainError) as caught:
            services.whistle_close(actor=actor(who), number=whistle.number, result="完成")
        assert caught.value.code == code
    closed = services.whistle_close(
        actor=actor(STREET_A), number=whistle.number, result="摊点已清理，长效管理"
    )
    assert closed.state == WhistleState.CLOSED and closed.closed_by.username == STREET_A
    with pytest.raises(DomainError) as caught:
        services.whistle_close(actor=actor(STREET_A), number=whistle.number, result="again")
    assert (caught.value.code, caught.value.status) == ("whistle_closed", 409)
    with pytest.raises(DomainError) as caught:
        report_in("dept-d01", whistle)
    assert caught.value.code == "whistle_closed"


def test_a_meeting_records_who_does_what(wdemo, monkeypatch):
    clock = Frozen(monkeypatch, T0)
    whistle = blow()
    clock.to(T0 + timedelta(hours=1))
    meeting = services.meeting_record_add(
        actor=actor(STREET_A),
        number=whistle.number,
        held_at=T0 + timedelta(minutes=50),
        place="社区会议室",
        attendees="街道王主任、城管李队长、住建张科长",
        agreed="三日内拆除违建，住建局出具意见",
        tasks=[
            services.TaskInput("D01", "拆除违建", "2026-11-28"),
            services.TaskInput("D02", "出具鉴定意见", "2026-11-26"),
        ],
    )
    assert meeting.recorded_by.username == STREET_A
    assert sorted(MeetingTask.objects.values_list("department__code", "task")) == [
        ("D01", "拆除违建"),
        ("D02", "出具鉴定意见"),
    ]
    told = Notification.objects.filter(kind="whistle.task").values_list("user__username", flat=True)
    assert sorted(told) == ["dept-d01", "dept-d02"]


@pytest.mark.parametrize(
    ("who", "fields", "code"),
    [
        (
            STREET_A,
            {"tasks": [services.TaskInput("D05", "巡查", "2026-12-01")]},
            "task_department_not_summoned",
        ),
        (STREET_A, {"tasks": [services.TaskInput("D01", "巡查", "2026-11-01")]}, "bad_date"),
        (STREET_A, {"tasks": [services.TaskInput("D01", "巡查", "next week")]}, "bad_date"),
        (STREET_A, {"tasks": [services.TaskInput("D01", "", "2026-12-01")]}, "text_required"),
        (STREET_A, {"agreed": ""}, "text_required"),
        (STREET_A, {"held_at": local(2026, 11, 1, 9, 0)}, "bad_time"),
        ("dept-d01", {}, "meeting_forbidden"),
        (GW_A, {}, "whistle_not_found"),
    ],
)
def test_bad_meeting_records_are_refused_whole(wdemo, who, fields, code):
    whistle = blow()
    given = {"held_at": None, "attendees": "街道、城管", "agreed": "分工处置", "tasks": []} | fields
    with pytest.raises(DomainError) as caught:
        services.meeting_record_add(actor=actor(who), number=whistle.number, **given)
    assert caught.value.code == code
    assert not MeetingRecord.objects.exists() and not MeetingTask.objects.exists()


def test_the_sweep_command_runs_both_sweeps(wdemo, monkeypatch):
    from io import StringIO

    from django.core.management import call_command

    clock = Frozen(monkeypatch, T0)
    blow(kind="emergency")
    clock.to(T0 + timedelta(hours=1))
    out = StringIO()
    call_command("whistles", "sweep", stdout=out)
    assert "late report-ins flagged: 2, whistles closed: 0" in out.getvalue()
    assert Summons.objects.filter(late=True).count() == 2


def test_community_staff_blow_on_a_case_of_their_community(wdemo):
    case = walk(CaseState.REGISTERED, grid=GRID_A)
    whistle = blow(STAFF_A, case=case.number, departments=("D01",))
    assert whistle.region.code == "320102002001" and whistle.blown_as == "community_staff"
    link = Notification.objects.get(kind="whistle.summoned").link
    assert link == f"/whistles/{whistle.number}/"

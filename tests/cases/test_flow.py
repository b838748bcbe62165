"""The whole life of a case through the services, each move by the demo user of the right role."""

from __future__ import annotations

import pytest

from civicgrid.cases.models import Case, CaseEvent, CaseState, Stage
from civicgrid.notifications.models import Notification

from .conftest import move, report, worker_for

pytestmark = pytest.mark.django_db


def test_it_takes_a_grid_workers_report_to_a_rated_closure(cases_demo):
    case = report("", channel="resident", title="小区门口有人私自搭建彩钢棚", description="已经搭了两天")
    assert case.state == CaseState.VERIFYING
    assert case.stage == Stage.VERIFY and case.stage_deadline > case.created_at
    assert case.number.startswith("320102-")
    gw = worker_for(case)
    move(gw, case, "verify", note="现场确认属实")
    move("shiftlead", case, "register", data={"case_class": "E0101"})
    move("operator", case, "dispatch", data={})
    case.refresh_from_db()
    assert case.state == CaseState.DISPATCHED and case.department.code == "D01"
    move("dept-d01", case, "accept")
    move("dept-d01", case, "feedback", note="已拆除")
    move(gw, case, "check_pass")
    move("shiftlead", case, "close")
    case.refresh_from_db()
    assert case.state == CaseState.CLOSED and case.closed_at
    events = list(CaseEvent.objects.filter(case=case).values_list("action", flat=True))
    assert events == ["report", "verify", "register", "dispatch", "accept", "feedback", "check_pass", "close"]
    assert Notification.objects.filter(case=case, user__username="dept-d01", kind="case.dispatched").exists()
    assert Case.objects.get(pk=case.pk).version == 8

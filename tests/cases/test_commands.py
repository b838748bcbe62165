"""The cases command line, the Huey tasks and outside message channels."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from civicgrid.cases.models import Case
from civicgrid.cases.replay import case_replay_differences
from civicgrid.cases.tasks import sla_sweep_every_minute, suspension_reviews_each_morning
from civicgrid.notifications.models import Delivery, Notification

from .conftest import move, report

pytestmark = pytest.mark.django_db


def test_verify_clock_finds_a_case_changed_outside_the_workflow(cases_demo, capsys):
    case = report("shiftlead", channel="leader", case_class="E0102")
    move("shiftlead", case, "register")
    move("operator", case, "dispatch")
    call_command("cases", "verify-clock", case.number)
    assert "1 case(s) replayed, 0 differ" in capsys.readouterr().out
    Case.objects.filter(pk=case.pk).update(due_at=None)  # a row edited behind the workflow's back
    with pytest.raises(SystemExit):
        call_command("cases", "verify-clock", case.number)
    assert "due_at" in capsys.readouterr().out
    assert "due_at" in case_replay_differences(Case.objects.get(pk=case.pk))


def test_taxonomy_commands_write_only_with_commit(cases_demo, tmp_path, capsys):
    target = tmp_path / "t.xlsx"
    call_command("cases", "taxonomy", "export", "-o", str(target))
    call_command("cases", "taxonomy", "import", str(target))
    assert "dry run" in capsys.readouterr().out


def test_the_periodic_tasks_run_the_services(cases_demo, monkeypatch, django_capture_on_commit_callbacks):
    from datetime import timedelta

    from django.utils import timezone

    case = report("shiftlead", channel="leader", case_class="E0102")
    later = case.stage_deadline + timedelta(minutes=1)
    monkeypatch.setattr("civicgrid.cases.services.timezone.now", lambda: later)
    with django_capture_on_commit_callbacks(execute=True):
        sent = sla_sweep_every_minute.call_local()
    assert sent == {"warning": 1, "overdue": 1}
    assert Notification.objects.filter(case=case, kind="case.overdue", user__username="shiftlead").exists()
    assert sla_sweep_every_minute.call_local() == {"warning": 0, "overdue": 0}
    # Outside channels got the overdue notice after the commit (the logging channel in development).
    assert Delivery.objects.filter(notification__case=case, channel="log", ok=True).exists()
    assert suspension_reviews_each_morning.call_local() == 0
    assert timezone.now() == later

"""Against committed data: the ``fire`` command posting over HTTP to the live server, and alarms
of one burst arriving at the same moment from several threads (each its own connection)."""

from __future__ import annotations

import os
import threading

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client

from civicgrid.audit.models import AuditRecord
from civicgrid.cases.models import Case, Channel
from civicgrid.devices.models import Alarm, AlarmOutcome
from civicgrid.devices.services import alarm_types_load_default
from tests.cases.steps import GRID_A
from tests.conftest import load_demo

from .conftest import CAMERA, SECRET, alarm, fire, register


@pytest.fixture
def live_devices(transactional_db, demo_divisions, monkeypatch):
    """The demo with staff and taxonomy, committed, plus the camera in grid A."""
    for result in load_demo(demo_divisions, monkeypatch, people=True):
        alarm_types_load_default()
        register(CAMERA, GRID_A)
        yield result


def test_fire_signs_and_posts_an_alarm_that_makes_a_case(live_server, live_devices, capsys):
    call_command(
        "devices", "fire", CAMERA, "smoke", "--url", f"{live_server.url}/devices/alarms", "--text", "3楼"
    )
    assert capsys.readouterr().out.startswith("201 ")
    case = Case.objects.get(channel=Channel.SENSOR)
    assert case.case_class.code == "E0404" and "3楼" in case.description
    assert AuditRecord.objects.filter(action="devices.secret_use", object_id=CAMERA).count() == 1


def test_fire_with_a_wrong_secret_reports_the_refusal(live_server, live_devices, capsys):
    with pytest.raises(CommandError, match="401"):
        call_command(
            "devices", "fire", CAMERA, "smoke", "--url", f"{live_server.url}/devices/alarms", "--secret", "x"
        )
    assert "bad_signature" in capsys.readouterr().out
    assert Alarm.objects.get().reason == "bad_signature"
    assert not Case.objects.exists()


def test_fire_refuses_an_unknown_device_without_a_secret(live_devices):
    with pytest.raises(CommandError, match="no device"):
        call_command("devices", "fire", "CAM-NOBODY", "smoke")


@pytest.mark.skipif(
    "postgres" not in os.environ.get("CIVICGRID_DATABASE_URL", ""),
    reason="SQLite's in-memory test database (shared cache) refuses concurrent writers instead of queueing them",
)
def test_alarms_of_one_burst_arriving_together_make_one_case(live_devices):
    """The device's row lock at work (PostgreSQL; SQLite files serialise writers by BEGIN IMMEDIATE)."""

    answers, start = [], threading.Barrier(6)

    def send():
        try:
            start.wait()
            answers.append(fire(Client(), alarm("illegal_parking"), secret=SECRET).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert sorted(answers) == [200] * 5 + [201]
    assert Case.objects.filter(channel=Channel.SENSOR).count() == 1
    assert Alarm.objects.filter(outcome=AlarmOutcome.FOLDED).count() == 5

"""Fixtures for devices: the whole demo (module-wide, as in tests/cases), the default alarm types,
and a camera in grid A whose secret the tests know; ``fire`` signs and posts like a device."""

from __future__ import annotations

import base64
import itertools
import json

import pytest
from django.utils import timezone

from civicgrid.devices import signing
from civicgrid.devices.models import Device, DeviceKind
from civicgrid.devices.services import DeviceInput, alarm_types_load_default, device_fields
from tests.cases.conftest import cases_demo, committed_demo  # noqa: F401 (fixtures used by name)
from tests.cases.steps import GRID_A, GRID_B, point_in


@pytest.fixture(scope="package")
def _module_demo(django_db_setup, django_db_blocker, demo_divisions):
    """The whole demo, committed once for this package's modules (not once per module: loading
    and emptying it cost more than most modules' tests); each test still runs in its own
    rolled-back transaction on top of it."""
    yield from committed_demo(django_db_blocker, demo_divisions)


SECRET = "test-secret-of-the-camera"
CAMERA, CAMERA_B = "CAM-A-001", "CAM-B-001"
_alarm_ids = itertools.count(1)


def register(external_id: str, grid: str, *, kind: str = DeviceKind.CAMERA, secret: str = SECRET) -> Device:
    lon, lat = point_in(grid)
    fields, _place = device_fields(
        DeviceInput(
            external_id=external_id, kind=kind, name=f"{grid} camera", lon=lon, lat=lat, address="路口"
        )
    )
    return Device.objects.create(secret=secret, secret_set_at=timezone.now(), **fields)


@pytest.fixture
def devices(cases_demo):  # noqa: F811 (the fixture, imported above)
    """The demo, the default alarm types and two cameras: one in grid A, one in grid B."""
    alarm_types_load_default()
    return {"a": register(CAMERA, GRID_A), "b": register(CAMERA_B, GRID_B)}


def alarm(type_code: str = "illegal_parking", **fields) -> dict:
    return {
        "alarm_id": f"a-{next(_alarm_ids):06d}",
        "type": type_code,
        "time": int(timezone.now().timestamp()),
        **fields,
    }


def fire(
    client, body, *, device: str = CAMERA, secret: str = SECRET, stamp=None, signature=None, headers=None
):
    """POST one alarm as a device would: ``body`` a dict (JSON-encoded here) or raw bytes."""
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    stamp = str(int(timezone.now().timestamp())) if stamp is None else str(stamp)
    sent = {
        "X-Device-Id": device,
        "X-Timestamp": stamp,
        "X-Signature": signature or signing.sign(secret, stamp, raw),
    }
    sent.update(headers or {})
    return client.post(
        "/devices/alarms",
        data=raw,
        content_type="application/json",
        headers={k: v for k, v in sent.items() if v is not None},
    )


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")

"""The back office: a system administrator adds a device (secret shown once), rotates a secret,
and may read but never change or delete the alarms received."""

from __future__ import annotations

import pytest

from civicgrid.accounts.models import User
from civicgrid.audit.models import AuditRecord
from civicgrid.devices.models import Alarm, Device
from tests.cases.steps import GRID_B, point_in

from .conftest import CAMERA, SECRET, alarm, fire


@pytest.fixture
def admin_client(client, devices):
    client.force_login(User.objects.create_superuser(username="root-test", password="x-Long-pass-1"))
    return client


def test_adding_a_device_locates_it_and_shows_its_secret_once(admin_client):
    lon, lat = point_in(GRID_B)
    form = {
        "external_id": "CAM-ADM-1",
        "kind": "gas",
        "name": "燃气",
        "lon": lon,
        "lat": lat,
        "address": "",
        "active": "on",
    }
    response = admin_client.post("/admin/devices/device/add/", form)
    device = Device.objects.get(external_id="CAM-ADM-1")
    assert response.status_code == 200 and device.secret.reveal().encode() in response.content
    assert device.grid.code == GRID_B
    assert (
        device.secret.reveal().encode()
        not in admin_client.get(f"/admin/devices/device/{device.pk}/change/").content
    )
    assert AuditRecord.objects.filter(action="admin.create", object_id=str(device.pk)).exists()


def test_a_place_outside_the_district_is_a_form_error(admin_client):
    form = {
        "external_id": "CAM-ADM-2",
        "kind": "gas",
        "name": "x",
        "lon": 116.39,
        "lat": 39.91,
        "active": "on",
    }
    response = admin_client.post("/admin/devices/device/add/", form)
    assert response.status_code == 200 and b"errornote" in response.content
    assert not Device.objects.filter(external_id="CAM-ADM-2").exists()


def test_the_rotate_action_shows_a_new_secret_for_one_device(admin_client, devices):
    response = admin_client.post(
        "/admin/devices/device/", {"action": "rotate_secret", "_selected_action": [devices["a"].pk]}
    )
    new = Device.objects.get(pk=devices["a"].pk).secret.reveal()
    assert new != SECRET and new.encode() in response.content
    assert AuditRecord.objects.filter(action="devices.rotate_secret", object_id=CAMERA).count() == 1
    both = [devices["a"].pk, devices["b"].pk]
    admin_client.post("/admin/devices/device/", {"action": "rotate_secret", "_selected_action": both})
    assert Device.objects.get(pk=devices["a"].pk).secret.reveal() == new  # two at once: refused


def test_alarms_are_read_only(admin_client, client):
    fire(client, alarm())
    row = Alarm.objects.get()
    assert admin_client.get("/admin/devices/alarm/").status_code == 200
    assert admin_client.get(f"/admin/devices/alarm/{row.pk}/change/").status_code == 200  # view only
    assert admin_client.post(f"/admin/devices/alarm/{row.pk}/delete/").status_code == 403
    assert Alarm.objects.filter(pk=row.pk).exists()

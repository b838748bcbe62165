"""The registry's pages and services: who sees which devices, who may change them, and the secret
shown once and kept encrypted."""

from __future__ import annotations

import pytest
from django.db import connection

from civicgrid.accounts.models import User
from civicgrid.accounts.scopes import scope_for
from civicgrid.audit.models import AuditRecord
from civicgrid.cases.models import Case
from civicgrid.demo.loader import DEMO_PASSWORD
from civicgrid.devices import demo, signing
from civicgrid.devices.models import Alarm, AlarmType, Device
from civicgrid.devices.services import SERVICE_USERNAME, DeviceInput, device_register, intake_actor
from civicgrid.errors import DomainError
from tests.cases.steps import GRID_A, GRID_B, GW_A, GW_B, STREET_A, STREET_B, point_in, signed_in

from .conftest import CAMERA, CAMERA_B, alarm, fire


def test_a_street_operator_sees_their_streets_devices_only(client, devices):
    signed_in(client, STREET_A)
    page = client.get("/devices/").content.decode()
    assert CAMERA in page and CAMERA_B not in page
    assert client.get(f"/devices/{CAMERA}/").status_code == 200
    assert client.get(f"/devices/{CAMERA_B}/").status_code == 404  # like a missing one
    assert AuditRecord.objects.filter(action="access.denied", object_id=CAMERA_B).exists()


def test_the_district_operator_sees_every_device(client, devices):
    signed_in(client, "operator")
    page = client.get("/devices/").content.decode()
    assert CAMERA in page and CAMERA_B in page


@pytest.mark.parametrize("who", ["resident1", "auditor", "dept-d01"])
def test_people_without_territory_see_no_device(client, devices, who):
    signed_in(client, who)
    page = client.get("/devices/").content.decode()
    assert CAMERA not in page and CAMERA_B not in page
    assert client.get(f"/devices/{CAMERA}/").status_code == 404


def test_nobody_signed_out_sees_the_registry(client, devices):
    assert client.get("/devices/").status_code == 302
    assert client.get(f"/devices/{CAMERA}/").status_code == 302


def test_a_grid_worker_sees_their_grids_device_but_may_not_change_it(client, devices):
    signed_in(client, GW_A)
    assert client.get(f"/devices/{CAMERA}/").status_code == 200
    assert client.get(f"/devices/{CAMERA_B}/").status_code == 404
    before = Device.objects.filter(external_id=CAMERA).values().get()
    assert client.get("/devices/new/").status_code == 403
    assert (
        client.post("/devices/new/", {"external_id": "X-1", "kind": "camera", "name": "n"}).status_code == 403
    )
    assert client.get(f"/devices/{CAMERA}/edit/").status_code == 403
    assert client.post(f"/devices/{CAMERA}/edit/", {"kind": "smoke", "name": "x"}).status_code == 403
    assert client.post(f"/devices/{CAMERA}/rotate").status_code == 403
    assert Device.objects.filter(external_id=CAMERA).values().get() == before
    assert not Device.objects.filter(external_id="X-1").exists()


def test_no_page_shows_a_stored_secret(client, devices):
    for who in ("operator", STREET_A, GW_A):
        signed_in(client, who)
        for url in ("/devices/", f"/devices/{CAMERA}/", f"/devices/{CAMERA}/edit/"):
            assert b"test-secret-of-the-camera" not in client.get(url).content


def test_an_operator_registers_a_device_and_sees_its_secret_once(client, devices):
    signed_in(client, STREET_A)
    lon, lat = point_in(GRID_A)
    response = client.post(
        "/devices/new/",
        {"external_id": "CAM-NEW-1", "kind": "camera", "name": "北门", "lon": lon, "lat": lat},
    )
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    device = Device.objects.get(external_id="CAM-NEW-1")
    secret = device.secret.reveal()
    assert secret.encode() in response.content and len(secret) >= 40
    assert device.grid.code == GRID_A
    # Encrypted at rest: the column holds a token, not the secret.
    with connection.cursor() as cursor:
        cursor.execute("SELECT secret FROM devices_device WHERE external_id = %s", ["CAM-NEW-1"])
        stored = cursor.fetchone()[0]
    assert secret not in stored and stored.startswith("v1.")
    assert secret.encode() not in client.get("/devices/CAM-NEW-1/").content
    record = AuditRecord.objects.get(action="devices.register", object_id="CAM-NEW-1")
    assert secret not in str(record.detail)


def test_a_street_operator_may_not_register_or_move_a_device_outside_their_street(client, devices):
    signed_in(client, STREET_A)
    lon, lat = point_in(GRID_B)
    response = client.post(
        "/devices/new/", {"external_id": "CAM-NEW-2", "kind": "camera", "name": "x", "lon": lon, "lat": lat}
    )
    assert response.status_code == 403 and b'data-code="outside_scope"' in response.content
    response = client.post(
        f"/devices/{CAMERA}/edit/", {"kind": "camera", "name": "x", "lon": lon, "lat": lat}
    )
    assert response.status_code == 403
    assert not Device.objects.filter(external_id="CAM-NEW-2").exists()
    assert Device.objects.get(external_id=CAMERA).grid.code == GRID_A


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"external_id": "bad id with spaces"}, "bad_device_id"),
        ({"external_id": CAMERA}, "device_exists"),
        ({"kind": "toaster"}, "unknown_device_kind"),
        ({"name": ""}, "bad_name"),
        ({"lon": ""}, "location_required"),
        ({"lon": 116.39, "lat": 39.91}, "outside_district"),
        ({"lon": 500}, "bad_coordinates"),
    ],
)
def test_bad_registrations_are_refused_and_nothing_is_written(client, devices, fields, code):
    signed_in(client, "operator")
    lon, lat = point_in(GRID_A)
    form = {"external_id": "CAM-NEW-3", "kind": "camera", "name": "n", "lon": lon, "lat": lat, **fields}
    response = client.post("/devices/new/", form)
    assert response.status_code >= 400 and f'data-code="{code}"'.encode() in response.content
    assert Device.objects.count() == 2


def test_an_edit_moves_the_device_into_another_grid_and_is_audited(client, devices):
    signed_in(client, "operator")
    lon, lat = point_in(GRID_B)
    response = client.post(
        f"/devices/{CAMERA}/edit/", {"kind": "smoke", "name": "改名", "lon": lon, "lat": lat, "active": "0"}
    )
    assert response.status_code == 303
    device = Device.objects.get(external_id=CAMERA)
    assert (device.grid.code, device.kind, device.name, device.active) == (GRID_B, "smoke", "改名", False)
    record = AuditRecord.objects.get(action="devices.change", object_id=CAMERA)
    assert {"grid_id", "kind", "name", "active"} <= set(record.detail["fields"])


def test_rotating_the_secret_stops_the_old_one_at_once(client, devices):
    signed_in(client, "operator")
    response = client.post(f"/devices/{CAMERA}/rotate")
    new = Device.objects.get(external_id=CAMERA).secret.reveal()
    assert response.status_code == 200 and new.encode() in response.content
    client.logout()
    assert fire(client, alarm()).status_code == 401  # signed with the old secret
    assert fire(client, alarm(), secret=new).status_code == 201
    assert AuditRecord.objects.filter(action="devices.rotate_secret", object_id=CAMERA).count() == 1


def test_the_detail_page_lists_recent_alarms_with_their_case(client, devices):
    number = fire(client, alarm()).json()["case"]
    fire(client, alarm(), secret="wrong")
    signed_in(client, STREET_A)
    page = client.get(f"/devices/{CAMERA}/").content.decode()
    assert number in page and 'data-reason="bad_signature"' in page


def test_the_service_account_cannot_log_in(client, devices):
    fire(client, alarm())
    user = User.objects.get(username=SERVICE_USERNAME)
    assert not user.has_usable_password() and not user.is_staff
    assert not client.login(username=SERVICE_USERNAME, password="")
    assert not client.login(username=SERVICE_USERNAME, password=DEMO_PASSWORD)
    case = Case.objects.get()
    assert case.events.get().actor_id == user.pk


def test_the_service_account_loses_a_password_someone_gave_it(devices):
    actor = intake_actor(devices["a"].district_id)
    user = User.objects.get(pk=actor.user_id)
    user.set_password("guessable-1")
    user.is_superuser = True
    user.save()
    intake_actor(devices["a"].district_id)
    user.refresh_from_db()
    assert not user.has_usable_password() and not user.is_superuser


def test_only_managers_may_register_through_the_service(devices):
    lon, lat = point_in(GRID_A)
    data = DeviceInput(external_id="CAM-NEW-4", kind="camera", name="n", lon=lon, lat=lat)
    for who in (GW_A, GW_B, "auditor", "resident1"):
        user = User.objects.get(username=who)
        with pytest.raises(DomainError) as refused:
            device_register(scope=scope_for(user), by=user, data=data)
        assert refused.value.status == 403
    user = User.objects.get(username=STREET_B)
    with pytest.raises(DomainError) as refused:
        device_register(scope=scope_for(user), by=user, data=data)
    assert refused.value.code == "outside_scope"
    assert not Device.objects.filter(external_id="CAM-NEW-4").exists()


def test_the_demo_seed_registers_devices_and_a_burst_once(cases_demo):
    demo.seed(progress=lambda line: None)
    counts = (Device.objects.count(), Alarm.objects.count(), Case.objects.count(), AlarmType.objects.count())
    assert counts[0] == demo.DEVICE_COUNT and counts[1] == demo.BURST[2] and counts[2] == 1
    assert Device.objects.get(external_id="XW-CAM-001").secret.reveal() == demo.DEMO_SECRET
    demo.seed(progress=lambda line: None)  # a second run changes nothing
    assert (
        Device.objects.count(),
        Alarm.objects.count(),
        Case.objects.count(),
        AlarmType.objects.count(),
    ) == counts
    assert signing.sign(demo.DEMO_SECRET, 1, b"{}") == signing.sign(demo.DEMO_SECRET, "1", b"{}")

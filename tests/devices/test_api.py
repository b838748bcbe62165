"""/api/v1/devices: read-only, scope-filtered, the same error shape; never a secret."""

from __future__ import annotations

from civicgrid.audit.models import AuditRecord
from tests.cases.steps import GW_A, STREET_A, error_of, signed_in

from .conftest import CAMERA, CAMERA_B, SECRET, alarm, fire


def test_the_list_is_scope_filtered(client, devices):
    signed_in(client, STREET_A)
    ids = [d["external_id"] for d in client.get("/api/v1/devices/").json()]
    assert ids == [CAMERA]
    signed_in(client, "operator")
    assert [d["external_id"] for d in client.get("/api/v1/devices/").json()] == [CAMERA, CAMERA_B]
    assert [d["external_id"] for d in client.get("/api/v1/devices/?q=B-0").json()] == [CAMERA_B]


def test_a_device_outside_scope_answers_404_and_is_audited(client, devices):
    signed_in(client, GW_A)
    error_of(client.get(f"/api/v1/devices/{CAMERA_B}"), 404, "device_not_found")
    error_of(client.get("/api/v1/devices/NOPE"), 404, "device_not_found")
    assert AuditRecord.objects.filter(action="access.denied", object_id=CAMERA_B).count() == 1


def test_the_detail_lists_alarms_and_never_the_secret(client, devices):
    number = fire(client, alarm()).json()["case"]
    fire(client, alarm(), signature="f" * 64)
    signed_in(client, GW_A)
    response = client.get(f"/api/v1/devices/{CAMERA}")
    body = response.json()
    assert [a["outcome"] for a in body["alarms"]] == ["refused", "created"]
    assert body["alarms"][1]["case"] == number and body["alarms"][0]["reason"] == "bad_signature"
    assert SECRET.encode() not in response.content and b"signature" not in response.content.replace(
        b"bad_signature", b""
    )


def test_alarm_types_are_listed(client, devices):
    signed_in(client, GW_A)
    types = {t["code"]: t for t in client.get("/api/v1/devices/types").json()}
    assert types["smoke"]["case_class"] == "E0404" and types["smoke"]["fold_minutes"] == 30


def test_nobody_signed_out_reads_the_registry(client, devices):
    error_of(client.get("/api/v1/devices/"), 401, "unauthenticated")
    error_of(client.get(f"/api/v1/devices/{CAMERA}"), 401, "unauthenticated")

"""Personal data leaves the server masked, unless revealed with a reason — and that is audited."""

import json

import pytest

from civicgrid.accounts.models import Department, User
from civicgrid.audit.models import AuditRecord

pytestmark = pytest.mark.django_db


def _login(client, username):
    client.force_login(User.objects.get(username=username))


def _reveal(client, code="D01", reason="回访核实联系方式"):
    return client.post(
        f"/api/v1/departments/{code}/reveal",
        {"field": "contact_phone", "reason": reason},
        content_type="application/json",
    )


def test_the_phone_is_encrypted_at_rest_and_masked_in_the_api(client, demo_staff):
    department = Department.objects.get(code="D01")
    plaintext = department.contact_phone.reveal()
    raw = Department.objects.filter(pk=department.pk).values_list("contact_phone", flat=True).get()
    assert plaintext not in raw
    _login(client, "operator")
    listed = client.get("/api/v1/departments").json()
    assert len(listed) == 20  # 13 district units and utilities, 7 street offices
    assert plaintext not in json.dumps(listed)
    d01 = next(d for d in listed if d["code"] == "D01")
    assert d01["contact_phone"] == plaintext[:3] + "****" + plaintext[-4:]


def test_an_operator_reveals_with_a_reason_and_it_is_audited(client, demo_staff):
    _login(client, "operator")
    response = _reveal(client)
    assert response.status_code == 200
    assert response.json()["value"] == Department.objects.get(code="D01").contact_phone.reveal()
    record = AuditRecord.objects.get(action="pii.reveal")
    assert record.actor.username == "operator" and record.detail["reason"] == "回访核实联系方式"
    assert response.json()["value"] not in json.dumps(record.detail)


def test_a_reveal_without_a_reason_is_refused(client, demo_staff):
    _login(client, "operator")
    response = _reveal(client, reason=" ")
    assert response.status_code == 400 and response.json()["error"]["code"] == "reason_required"
    assert not AuditRecord.objects.filter(action="pii.reveal").exists()


@pytest.mark.parametrize("username", ["admin", "auditor", "secadmin", "resident1"])
def test_the_administrators_and_residents_cannot_reveal(client, demo_staff, username):
    _login(client, username)
    response = _reveal(client)
    assert response.status_code in (403, 404)
    assert not AuditRecord.objects.filter(action="pii.reveal").exists()


def test_a_department_cannot_see_another_department(client, demo_staff):
    _login(client, "dept-d02")
    assert [d["code"] for d in client.get("/api/v1/departments").json()] == ["D02"]
    response = _reveal(client, code="D01")
    assert response.status_code == 404
    assert AuditRecord.objects.filter(action="access.denied", object_id="D01").exists()


def test_anonymous_visitors_see_no_departments(client, demo_staff):
    assert client.get("/api/v1/departments").json() == []
    assert _reveal(client).status_code == 404

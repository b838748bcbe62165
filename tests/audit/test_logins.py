"""Logins, failed logins and logouts land on the trail, with where from and never a password."""

from __future__ import annotations

import json

import pytest
from django.test import override_settings

from civicgrid.audit.models import AuditRecord
from civicgrid.audit.selectors import audit_chain_verify

from .conftest import PASSWORD

pytestmark = pytest.mark.django_db
WRONG = "Wrong-Battery-5512"


def _everything_stored(record: AuditRecord) -> str:
    return json.dumps(
        AuditRecord.objects.filter(pk=record.pk).values().get(), default=str, ensure_ascii=False
    )


def test_it_records_a_successful_login(client, staff):
    assert client.login(username="wangge", password=PASSWORD)
    record = AuditRecord.objects.get(action="auth.login")
    assert (record.actor_id, record.actor_name, record.result) == (staff.id, "wangge", "success")
    assert (record.object_type, record.object_id) == ("user", str(staff.id))
    assert PASSWORD not in _everything_stored(record)


def test_it_records_a_failed_login_with_the_name_tried_and_no_password(client, staff):
    assert not client.login(username="wangge", password=WRONG)
    record = AuditRecord.objects.get(action="auth.login_failed")
    assert record.result == "failure" and record.actor is None and record.actor_name == ""
    assert record.detail["username"] == "wangge"
    stored = _everything_stored(record)
    assert WRONG not in stored and "*****" not in stored and "password" not in stored
    assert not AuditRecord.objects.filter(action="auth.login").exists()


def test_it_records_where_a_login_came_from(client, staff):
    client.post(
        "/accounts/login/",
        {"username": "wangge", "password": WRONG},
        REMOTE_ADDR="10.20.30.40",
        HTTP_USER_AGENT="Mozilla/5.0 (Test)",
    )
    client.post("/accounts/login/", {"username": "wangge", "password": PASSWORD}, REMOTE_ADDR="10.20.30.40")
    failed = AuditRecord.objects.get(action="auth.login_failed")
    assert failed.ip == "10.20.30.40" and failed.detail["user_agent"] == "Mozilla/5.0 (Test)"
    assert AuditRecord.objects.get(action="auth.login").ip == "10.20.30.40"
    assert WRONG not in _everything_stored(failed)


def test_forwarded_for_counts_only_behind_trusted_proxies(client, staff):
    forwarded = {"REMOTE_ADDR": "192.168.0.2", "HTTP_X_FORWARDED_FOR": "6.6.6.6, 203.0.113.9"}
    client.post("/accounts/login/", {"username": "nobody", "password": WRONG}, **forwarded)
    with override_settings(TRUSTED_PROXY_COUNT=1):
        client.post("/accounts/login/", {"username": "nobody", "password": WRONG}, **forwarded)
    first, second = AuditRecord.objects.filter(action="auth.login_failed").order_by("id")
    # Without a trusted proxy the header is the client's word; with one, its last hop counts.
    assert (first.ip, second.ip) == ("192.168.0.2", "203.0.113.9")


def test_it_records_a_logout(client, staff):
    client.login(username="wangge", password=PASSWORD)
    client.logout()
    record = AuditRecord.objects.get(action="auth.logout")
    assert record.actor_name == "wangge"
    assert audit_chain_verify().ok

"""Who may read the trail (三权分立): the auditor, and nobody else — not even a superuser."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import pytest
from django.http import HttpResponse, HttpResponseForbidden
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from civicgrid.accounts.models import RoleAssignment
from civicgrid.audit.middleware import AuditDeniedMiddleware
from civicgrid.audit.models import AuditRecord
from civicgrid.audit.selectors import audit_search, is_auditor
from civicgrid.audit.services import audit_record
from civicgrid.errors import NotFound

pytestmark = pytest.mark.django_db
CHANGELIST = reverse("admin:audit_auditrecord_changelist")


@pytest.fixture
def trail(staff):
    audit_record(action="case.register", actor=staff, object_type="case", object_id="C-1")
    audit_record(action="export.geojson", actor=staff, object_type="generation", object_id="7")
    # Written by a stranger: a "name" that Excel would run as a formula.
    return audit_record(action="auth.login_failed", result="failure", object_type="user", object_id="=1+2")


def test_an_auditor_searches_the_trail(auditor, trail):
    assert audit_search(user=auditor).count() == 3
    assert [r.action for r in audit_search(user=auditor, action="export.*")] == ["export.geojson"]
    assert [r.object_id for r in audit_search(user=auditor, actor="wangge", q="C-1")] == ["C-1"]
    today = timezone.localdate()
    assert audit_search(user=auditor, since=today, until=today).count() == 3
    assert not audit_search(user=auditor, until=today - timedelta(days=1)).exists()


@pytest.mark.parametrize("persona", ["sysadmin", "staff"])
def test_anyone_else_gets_not_found_even_a_superuser(request, persona, trail):
    user = request.getfixturevalue(persona)
    assert not is_auditor(user)
    with pytest.raises(NotFound):
        audit_search(user=user)


def test_an_expired_auditor_role_opens_nothing(auditor):
    RoleAssignment.objects.filter(user=auditor).update(
        valid_from=date(2020, 1, 1), valid_until=timezone.localdate() - timedelta(days=1)
    )
    assert not is_auditor(auditor)


def test_the_auditor_sees_the_admin_changelist_and_a_read_only_record(client, auditor, trail):
    client.force_login(auditor)
    page = client.get(CHANGELIST)
    assert page.status_code == 200 and b"export.geojson" in page.content
    assert client.get(CHANGELIST, {"q": "C-1"}).context["cl"].result_count == 1
    detail = client.get(reverse("admin:audit_auditrecord_change", args=[trail.pk]))
    assert detail.status_code == 200 and b"=1+2" in detail.content
    assert not detail.context["has_change_permission"] and not detail.context["has_delete_permission"]
    assert client.get(reverse("admin:audit_auditrecord_add")).status_code == 403
    assert client.post(reverse("admin:audit_auditrecord_delete", args=[trail.pk])).status_code == 403
    assert AuditRecord.objects.filter(pk=trail.pk).exists()
    assert b"audit" in client.get(reverse("admin:index")).content


def test_a_superuser_gets_forbidden_and_the_attempt_is_recorded(client, sysadmin, trail):
    client.force_login(sysadmin)
    assert client.get(CHANGELIST).status_code == 403
    assert client.get(reverse("admin:audit_auditrecord_change", args=[trail.pk])).status_code == 403
    assert (
        reverse("admin:app_list", args=["audit"]) not in client.get(reverse("admin:index")).content.decode()
    )
    denied = AuditRecord.objects.filter(action="access.denied", actor=sysadmin)
    assert denied.count() == 2 and {d.result for d in denied} == {"denied"}


def test_staff_without_the_role_get_forbidden_and_strangers_the_login_page(client, staff):
    response = client.get(CHANGELIST)
    assert response.status_code == 302 and response["Location"].startswith(reverse("admin:login"))
    client.force_login(staff)
    assert client.get(CHANGELIST).status_code == 403


def test_the_auditor_exports_csv_and_the_export_is_recorded(client, auditor, trail):
    client.force_login(auditor)
    ids = list(AuditRecord.objects.values_list("pk", flat=True))
    response = client.post(CHANGELIST, {"action": "export_csv", "_selected_action": ids})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [int(r["id"]) for r in rows] == sorted(ids)
    # Text a stranger wrote must not run as a formula when the file is opened in Excel.
    assert [r["object_id"] for r in rows if r["action"] == "auth.login_failed"] == ["'=1+2"]
    export = AuditRecord.objects.get(action="export.audit_csv")
    assert export.actor == auditor and export.detail["rows"] == len(ids)


def test_the_denial_middleware_records_each_refused_request_once(sysadmin):
    request = RequestFactory().get("/regions/secret/", REMOTE_ADDR="10.0.0.9")
    request.user = sysadmin
    AuditDeniedMiddleware(lambda r: HttpResponseForbidden())(request)
    AuditDeniedMiddleware(lambda r: HttpResponseForbidden())(request)
    AuditDeniedMiddleware(lambda r: HttpResponse())(RequestFactory().get("/"))
    denied = AuditRecord.objects.get()
    assert (denied.action, denied.result, denied.actor_name, denied.ip) == (
        "access.denied",
        "denied",
        "xitong",
        "10.0.0.9",
    )
    assert denied.object_id == "/regions/secret/"

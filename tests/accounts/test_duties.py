"""三权分立: the system admin, the security admin and the auditor each do their own part only."""

from io import StringIO

import pytest
from django.core.management import call_command

from civicgrid.accounts.models import RoleAssignment, User
from civicgrid.audit.models import AuditRecord

pytestmark = pytest.mark.django_db


def _as(client, username):
    client.force_login(User.objects.get(username=username))
    return client


@pytest.mark.parametrize(
    ("username", "path", "status"),
    [
        ("secadmin", "/admin/accounts/user/", 200),
        ("admin", "/admin/accounts/user/", 403),  # the system admin does not manage accounts
        ("auditor", "/admin/accounts/user/", 403),
        ("auditor", "/admin/audit/auditrecord/", 200),
        ("admin", "/admin/audit/auditrecord/", 403),  # nor read the audit trail
        ("secadmin", "/admin/audit/auditrecord/", 403),
        ("auditor", "/admin/regions/region/", 403),  # the auditor reads the trail and nothing else
        ("admin", "/admin/regions/region/", 200),
    ],
)
def test_each_administrator_reaches_only_their_own_part(client, demo_staff, username, path, status):
    assert _as(client, username).get(path).status_code == status


def test_the_system_admins_refusal_is_audited(client, demo_staff):
    _as(client, "admin").get("/admin/accounts/user/")
    assert AuditRecord.objects.filter(action="access.denied", actor_name="admin").exists()


def test_the_first_security_admin_is_named_from_the_command_line(demo_staff):
    newcomer = User.objects.create_user("newsec", password="Sec-Admin-2026")
    call_command("roles", "grant", "newsec", "security_admin", stdout=StringIO())
    newcomer.refresh_from_db()
    assert newcomer.is_staff
    assert RoleAssignment.objects.filter(user=newcomer, role="security_admin").exists()
    record = AuditRecord.objects.get(action="role.grant", object_id="newsec")
    assert record.detail["role"] == "security_admin"
    call_command("roles", "revoke", "newsec", "security_admin", stdout=StringIO())
    assert RoleAssignment.objects.get(user=newcomer).valid_until is not None
    assert AuditRecord.objects.filter(action="role.revoke", object_id="newsec").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nobody", "operator", "--region", "320102000000"], "no such user"),
        (["admin", "operator"], "bad_scope"),
        (["admin", "department_handler", "--region", "320102000000"], "bad_scope"),
        (["admin", "auditor", "--region", "320102000000"], "bad_scope"),
        (["admin", "operator", "--region", "999"], "no such region"),
    ],
)
def test_bad_grants_are_refused(demo_staff, args, message):
    from django.core.management import CommandError

    with pytest.raises(CommandError, match=message):
        call_command("roles", "grant", *args, stdout=StringIO())


def test_back_office_edits_are_audited(client, demo_staff):
    from civicgrid.regions.models import Region

    grid = Region.objects.get(code="32010200200101")
    _as(client, "admin")
    page = client.get(f"/admin/regions/region/{grid.pk}/change/")
    assert page.status_code == 200
    form = page.context["adminform"].form
    data = {name: form[name].value() if form[name].value() is not None else "" for name in form.fields}
    data.update({"name": "改名后的网格", "key_places": "[]", "landmarks": "[]", "parent": grid.parent_id})
    response = client.post(f"/admin/regions/region/{grid.pk}/change/", data)
    assert response.status_code == 302, response.content[:500]
    record = AuditRecord.objects.get(action="admin.change", object_type="regions.region")
    assert record.object_id == str(grid.pk) and "name" in record.detail["fields"]

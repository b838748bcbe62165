"""The routing configuration in the back office: a change is validated, audited and in force at once."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model

from civicgrid.audit.models import AuditRecord
from civicgrid.routing.config import routing
from civicgrid.routing.models import TierSetting

pytestmark = pytest.mark.usefixtures("cases_demo")


@pytest.fixture
def admin_client(client):
    # The default rows, whatever an earlier module's flush left.
    importlib.import_module("civicgrid.routing.migrations.0002_default_routing").load(apps, None)
    client.force_login(get_user_model().objects.get(username="admin"))
    return client


def _form(row: TierSetting, **changes) -> dict:
    data = {
        "tier": row.tier,
        "position": row.position,
        "owner_roles": row.owner_roles,
        "limit": row.limit,
        "meeting_form": row.meeting_form,
        "active": "on" if row.active else "",
    }
    return {k: v for k, v in (data | changes).items() if v != ""}


def test_the_back_office_lists_and_changes_a_tier(admin_client):
    assert admin_client.get("/admin/routing/tiersetting/").status_code == 200
    assert admin_client.get("/admin/routing/levelroute/").status_code == 200
    row = TierSetting.objects.get(tier="building")
    url = f"/admin/routing/tiersetting/{row.pk}/change/"
    assert admin_client.get(url).status_code == 200
    saved = admin_client.post(url, _form(row, limit="2工作日", owner_roles=["building_leader"]))
    assert saved.status_code == 302, saved.content.decode()[:2000]
    row.refresh_from_db()
    assert (row.limit, row.owner_roles) == ("2工作日", ["building_leader"])
    assert str(routing().conf("building").limit_text) == "2工作日"  # in force at once
    assert AuditRecord.objects.filter(action__startswith="admin.", object_id=str(row.pk)).exists()


@pytest.mark.parametrize(
    ("changes", "field"),
    [({"limit": "soon"}, "limit"), ({"owner_roles": []}, "owner_roles")],
)
def test_the_back_office_refuses_a_bad_tier(admin_client, changes, field):
    row = TierSetting.objects.get(tier="estate")
    page = admin_client.post(f"/admin/routing/tiersetting/{row.pk}/change/", _form(row, **changes))
    assert page.status_code == 200 and "errorlist" in page.content.decode()
    row.refresh_from_db()
    assert row.limit == "5工作日" and row.owner_roles == ["building_branch", "owners_committee"]

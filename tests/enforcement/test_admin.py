"""The back office: items with their checkpoints inline (changes audited), tasks checked for who
may be given them, inspections read-only."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from civicgrid.accounts.models import User
from civicgrid.audit.models import AuditRecord
from civicgrid.enforcement.models import EnforcementItem, Inspection
from civicgrid.regions.models import Region

from ..cases.steps import GRID_A, signed_in
from .conftest import GW_B, ITEM, inspect


def test_an_item_and_its_checkpoints_are_edited_in_the_admin(client, edemo):
    c = signed_in(client, "admin")
    item = EnforcementItem.objects.get(code=ITEM)
    assert c.get("/admin/enforcement/enforcementitem/").status_code == 200
    page = c.get(f"/admin/enforcement/enforcementitem/{item.pk}/change/")
    assert page.status_code == 200 and b"checkpoints-TOTAL_FORMS" in page.content
    checkpoints = list(item.checkpoints.order_by("seq"))
    form = {
        "code": item.code,
        "name": item.name,
        "legal_basis": item.legal_basis,
        "department": item.department_id,
        "case_class": item.case_class_id,
        "active": "on",
        "checkpoints-TOTAL_FORMS": len(checkpoints) + 1,
        "checkpoints-INITIAL_FORMS": len(checkpoints),
        "checkpoints-MIN_NUM_FORMS": 0,
        "checkpoints-MAX_NUM_FORMS": 1000,
    }
    for n, cp in enumerate(checkpoints):
        form |= {f"checkpoints-{n}-id": cp.pk, f"checkpoints-{n}-item": item.pk, f"checkpoints-{n}-seq": cp.seq,
                 f"checkpoints-{n}-text": cp.text, f"checkpoints-{n}-active": "on"}  # fmt: skip
    n = len(checkpoints)
    form |= {f"checkpoints-{n}-item": item.pk, f"checkpoints-{n}-seq": n + 1, f"checkpoints-{n}-text": "新增要点",
             f"checkpoints-{n}-active": "on"}  # fmt: skip
    response = c.post(f"/admin/enforcement/enforcementitem/{item.pk}/change/", form)
    assert response.status_code == 302, response.content
    assert item.checkpoints.filter(active=True).count() == n + 1
    assert AuditRecord.objects.filter(action="admin.change", object_type="enforcement.checkpoint").exists()


def test_a_task_in_the_admin_goes_only_to_people_of_its_grid(client, edemo):
    c = signed_in(client, "admin")
    grid = Region.objects.get(code=GRID_A)
    item = EnforcementItem.objects.get(code=ITEM)
    due = (timezone.localdate() + timedelta(days=1)).isoformat()
    form = {"item": item.pk, "grid": grid.pk, "assignees": [User.objects.get(username=GW_B).pk], "due": due,
            "state": "open", "note": ""}  # fmt: skip
    page = c.post("/admin/enforcement/inspectiontask/add/", form)
    assert page.status_code == 200 and b"errornote" in page.content


def test_inspections_are_read_only_in_the_admin(client, edemo):
    inspection = inspect(f"gw-{GRID_A}").inspection
    c = signed_in(client, "admin")
    assert c.get(f"/admin/enforcement/inspection/{inspection.pk}/change/").status_code == 200
    assert c.get("/admin/enforcement/inspection/add/").status_code == 403
    c.post(f"/admin/enforcement/inspection/{inspection.pk}/change/", {"note": "改过"})
    assert Inspection.objects.get(pk=inspection.pk).note == ""

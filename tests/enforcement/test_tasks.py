"""Inspection tasks: given to the grid's worker and the street's officer (执法队员进网格), seen by
those they are given to and by the area's staff — never by a worker of another grid — and done
by recording the inspection."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from civicgrid.enforcement import services
from civicgrid.enforcement.models import InspectionTask, TaskState
from civicgrid.errors import DomainError

from ..cases.steps import GRID_A, GRID_A2, error_of, signed_in
from .conftest import GW_A, GW_B, ITEM, OFFICER_A, OFFICER_B, actor, inspect

API = "/api/v1/enforcement"
GW_A2 = f"gw-{GRID_A2}"


def _give(who: str = "street-320102002", grid: str = GRID_A, **fields) -> InspectionTask:
    fields.setdefault("due", timezone.localdate() + timedelta(days=3))
    return services.task_create(actor=actor(who), item=ITEM, grid=grid, **fields)


def _mine(client, who: str) -> list[int]:
    response = signed_in(client, who).get(f"{API}/tasks/mine")
    assert response.status_code == 200, response.content
    return [t["id"] for t in response.json()]


def test_a_task_goes_to_the_grid_worker_and_the_street_officer(client, edemo):
    task = _give(note="菜场周边")
    assert sorted(u.username for u in task.assignees.all()) == sorted([GW_A, OFFICER_A])
    for who in (GW_A, OFFICER_A):
        assert task.pk in _mine(client, who)
    body = next(t for t in signed_in(client, GW_A).get(f"{API}/tasks/mine").json() if t["id"] == task.pk)
    assert body["item"]["code"] == ITEM and len(body["item"]["checkpoints"]) == 3
    assert body["grid"] == {"code": GRID_A, "name": task.grid.name} and body["state"] == "open"
    assert body["note"] == "菜场周边"


def test_a_worker_of_another_grid_sees_none_of_it(client, edemo):
    task = _give()
    for who in (GW_A2, GW_B, OFFICER_B):
        assert task.pk not in _mine(client, who)
        listed = signed_in(client, who).get(f"{API}/tasks", {"state": "all"}).json()
        assert task.pk not in [t["id"] for t in listed]
        page = client.get("/enforcement/tasks/?state=all")
        assert page.status_code == 200 and f'data-task="{task.pk}"'.encode() not in page.content
    # The area's staff see it in their list.
    for who in ("street-320102002", "operator", "chief-320102002001"):
        listed = signed_in(client, who).get(f"{API}/tasks").json()
        assert task.pk in [t["id"] for t in listed], who
    assert task.pk not in [t["id"] for t in signed_in(client, "street-320102010").get(f"{API}/tasks").json()]


def test_recording_the_inspection_does_the_task(edemo):
    task = _give()
    recorded = inspect(GW_A, task=task.pk)
    task.refresh_from_db()
    assert task.state == TaskState.DONE and recorded.inspection.task == task
    # A second assignee's inspection for the same task (queued offline) is kept too.
    assert inspect(OFFICER_A, task=task.pk).inspection.task == task


def test_only_assignees_inspect_for_a_task_and_it_must_match(edemo):
    task = _give(assignees=[OFFICER_A])
    with pytest.raises(DomainError) as refused:
        inspect(GW_A, task=task.pk)
    assert (refused.value.code, refused.value.status) == ("not_assigned", 403)
    with pytest.raises(DomainError) as mismatch:
        inspect(OFFICER_A, task=task.pk, item="ZF-HW-002")
    assert mismatch.value.code == "task_mismatch"
    services.task_cancel(actor=actor("street-320102002"), task_id=task.pk, reason="重复派发")
    with pytest.raises(DomainError) as cancelled:
        inspect(OFFICER_A, task=task.pk)
    assert (cancelled.value.code, cancelled.value.status) == ("task_cancelled", 409)
    assert not task.inspections.exists()


def test_who_may_give_tasks_and_to_whom(client, edemo):
    c = signed_in(client, "operator")
    due = (timezone.localdate() + timedelta(days=2)).isoformat()
    body = {"item": ITEM, "grid": GRID_A, "due": due, "assignees": [GW_A]}
    response = c.post(f"{API}/tasks", body, content_type="application/json")
    assert response.status_code == 201, response.content
    assert [a["username"] for a in response.json()["assignees"]] == [GW_A]
    # A worker of another grid, or an officer of another street, cannot be given the task.
    refused = c.post(
        f"{API}/tasks", {**body, "assignees": [GW_B, OFFICER_B]}, content_type="application/json"
    )
    assert error_of(refused, 400, "assignee_not_eligible") == {"refused": [GW_B, OFFICER_B]}
    past = c.post(f"{API}/tasks", {**body, "due": "2020-01-01"}, content_type="application/json")
    error_of(past, 400, "bad_date")
    # Grid workers and street operators of another street give no tasks there.
    for who in (GW_A, "street-320102010", "resident1"):
        response = signed_in(client, who).post(f"{API}/tasks", body, content_type="application/json")
        error_of(response, 403, "task_forbidden")


def test_the_task_page_gives_a_task_to_the_defaults(client, edemo):
    c = signed_in(client, OFFICER_A)
    due = (timezone.localdate() + timedelta(days=2)).isoformat()
    response = c.post("/enforcement/tasks/", {"item": ITEM, "grid": GRID_A, "due": due, "note": "夜查"})
    assert response.status_code == 303
    task = InspectionTask.objects.get(grid__code=GRID_A, note="夜查")
    assert {u.username for u in task.assignees.all()} == {
        GW_A,
        OFFICER_A,
    } and task.created_by.username == OFFICER_A
    page = c.get("/enforcement/tasks/")
    assert f'data-task="{task.pk}"'.encode() in page.content and b'id="task-new"' in page.content
    bad = c.post("/enforcement/tasks/", {"item": ITEM, "grid": GRID_A, "due": "yesterday"})
    assert bad.status_code == 400 and b'data-code="bad_date"' in bad.content


def test_an_open_task_is_given_to_others_and_a_closed_one_is_not(edemo):
    task = _give(assignees=[OFFICER_A])
    services.task_assign(actor=actor("street-320102002"), task_id=task.pk, assignees=[GW_A])
    assert [u.username for u in task.assignees.all()] == [GW_A]
    with pytest.raises(DomainError) as empty:
        services.task_assign(actor=actor("street-320102002"), task_id=task.pk, assignees=[])
    assert empty.value.code == "assignees_required"
    # Outside the giver's scope the task does not exist for them.
    with pytest.raises(DomainError) as hidden:
        services.task_assign(actor=actor("street-320102010"), task_id=task.pk, assignees=[GW_A])
    assert (hidden.value.code, hidden.value.status) == ("task_not_found", 404)
    inspect(GW_A, task=task.pk)
    with pytest.raises(DomainError) as closed:
        services.task_assign(actor=actor("street-320102002"), task_id=task.pk, assignees=[OFFICER_A])
    assert (closed.value.code, closed.value.status) == ("task_closed", 409)

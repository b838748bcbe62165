"""The enforcement demo (seeded by the package fixture): the list, one officer per street in the
street's office, open tasks in the demo worker's grid for the worker and the officer, inspections
done with a case raised — and a second run that changes nothing."""

from __future__ import annotations

from civicgrid.accounts.models import GridPost, GridStaffing, Role, RoleAssignment, User
from civicgrid.accounts.scopes import scope_for
from civicgrid.cases.models import Case, Channel
from civicgrid.enforcement import demo
from civicgrid.enforcement.demo_items import ITEMS
from civicgrid.enforcement.models import Checkpoint, EnforcementItem, Inspection, InspectionTask
from civicgrid.regions.models import Level, Region


def _counts() -> tuple:
    return (
        EnforcementItem.objects.count(),
        Checkpoint.objects.count(),
        User.objects.filter(username__startswith="zf-").count(),
        InspectionTask.objects.count(),
        Inspection.objects.count(),
        Case.objects.filter(channel=Channel.INSPECTION).count(),
    )


def test_the_demo_seeds_the_list_the_officers_and_the_demo_grid_once(edemo):
    assert EnforcementItem.objects.filter(active=True).count() == len(ITEMS) >= 30
    for item in EnforcementItem.objects.prefetch_related("checkpoints"):
        assert 3 <= item.checkpoints.count() <= 5 and item.legal_basis and item.case_class_id, item.code
    assert Checkpoint.objects.get(item__code="ZF-HW-003", seq=3).case_class.code == "E0107"
    streets = Region.objects.filter(level=Level.STREET, statistical_only=False).order_by("code")
    for n, street in enumerate(streets, start=1):
        officer = User.objects.get(username=f"zf-{street.code[:9]}")
        roles = set(
            RoleAssignment.objects.filter(user=officer).values_list(
                "role", "region__code", "department__code"
            )
        )
        assert roles == {
            (Role.ENFORCEMENT_OFFICER, street.code, None),
            (Role.DEPARTMENT_HANDLER, None, f"S{n:02d}"),
        }
    post = (
        GridStaffing.objects.filter(post=GridPost.FULL_TIME)
        .select_related("user", "grid")
        .order_by("id")
        .first()
    )
    officer = User.objects.get(username=f"zf-{post.grid.code[:9]}")
    open_tasks = InspectionTask.objects.filter(grid=post.grid, state="open")
    assert 3 <= open_tasks.count() <= 5
    for task in open_tasks:
        assert set(task.assignees.all()) == {post.user, officer}
    done = Inspection.objects.filter(grid=post.grid)
    assert done.count() == len(demo.DONE) and done.filter(task__state="done").count() == 1
    raised = Case.objects.get(channel=Channel.INSPECTION, inspection_answer__inspection__in=done)
    assert raised.grid_id == post.grid_id and raised.state == "reported"
    # The officer sees the demo grid's inspections; the demo worker their tasks.
    assert post.grid_id in scope_for(officer).region_ids
    before = _counts()
    demo.seed(progress=lambda line: None)
    assert _counts() == before

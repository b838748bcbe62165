"""The demo's enforcement: the item list (``demo_items``), one enforcement officer per street (in
the street's 综合行政执法 office), open inspection tasks in the demo grid worker's grid given to
both that worker and the street's officer (执法队员进网格), and a few inspections already done —
one with a failed checkpoint that raised its case. Idempotent: a second run changes nothing.

Everything goes through the same paths as real use (the Excel import, the services), so the demo
also shows the audit trail. Called by the demo loader after the year of cases (nothing in the
product imports this module).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from shapely.geometry import shape

from civicgrid.accounts.models import GridPost, GridStaffing, Role, RoleAssignment, User
from civicgrid.accounts.scopes import scope_for
from civicgrid.cases.models import CaseClass
from civicgrid.cases.workflow import Actor
from civicgrid.enforcement import services
from civicgrid.enforcement.demo_items import ITEMS
from civicgrid.enforcement.items import HEADERS, items_import
from civicgrid.enforcement.models import AnswerResult, Checkpoint, EnforcementItem, InspectionTask
from civicgrid.regions.models import Boundary, GenerationState, Region
from civicgrid.tables import xlsx_bytes

OFFICER_PREFIX = "zf-"
# The open tasks in the demo worker's grid: (item, due in days, note).
TASKS = [
    ("ZF-ZD-001", 2, "早晚高峰菜场周边重点巡查"),
    ("ZF-HW-002", 4, "配合垃圾分类督导"),
    ("ZF-SR-003", 6, ""),
    ("ZF-RQ-001", 9, "沿街餐饮店燃气安全专项检查"),
]
# Inspections already done: (item, days ago, by the officer?, failed checkpoint seqs, raise a case?);
# the first was a task (given today, done this morning).
DONE = [
    ("ZF-SR-004", 0, True, [], False),
    ("ZF-ZD-002", 8, False, [1], True),
    ("ZF-GG-003", 5, True, [3], False),
]
FINDINGS = {"ZF-ZD-002": "水果店在店外摆放货架约3米", "ZF-GG-003": "过期横幅未拆除"}


def seed(progress: Callable[[str], None] = print) -> None:
    if not User.objects.filter(username="operator").exists():
        return  # no demo people: nothing to assign
    if not EnforcementItem.objects.filter(code=ITEMS[0][0]).exists():
        progress(f"importing the enforcement list ({len(ITEMS)} items) …")
        _items()
    officers = _officers()
    post = (
        GridStaffing.objects.filter(post=GridPost.FULL_TIME)
        .select_related("user", "grid")
        .order_by("id")
        .first()
    )
    if post is None or InspectionTask.objects.filter(grid=post.grid).exists():
        return
    street = Region.objects.get(pk=post.grid.parent.parent_id)
    officer = officers.get(street.pk)
    if officer is None:
        return
    progress("giving inspection tasks and recording inspections in the demo grid …")
    with transaction.atomic():
        _tasks(post.grid, street, [post.user, officer])
        _inspections(post.grid, post.user, officer)


def _items() -> None:
    rows = []
    for code, name, basis, department, case_class, checkpoints in ITEMS:
        texts = [c if isinstance(c, str) else c[0] for c in checkpoints]
        rows.append([code, name, basis, department, case_class, "\n".join(texts)])
    content, _count = xlsx_bytes("执法事项清单", HEADERS, rows)
    report = items_import(name="demo-enforcement-items.xlsx", data=content, commit=True)
    if report.errors:
        raise ValueError(f"the demo enforcement list does not import: {report.errors[:3]}")
    # The per-checkpoint classes are not a column of the sheet; the back office sets them.
    for code, *_rest, checkpoints in ITEMS:
        for text, case_class in (c for c in checkpoints if not isinstance(c, str)):
            Checkpoint.objects.filter(item__code=code, text=text).update(case_class_id=_class_id(case_class))


def _class_id(code: str) -> int:
    return CaseClass.objects.get(code=code).pk


def _officers() -> dict[int, User]:
    """The streets' enforcement officers (``zf-<street>``, made with the demo people), by street."""
    return {
        a.region_id: a.user
        for a in RoleAssignment.objects.filter(
            role=Role.ENFORCEMENT_OFFICER, user__username__startswith=OFFICER_PREFIX
        ).select_related("user")
    }


def _actor(user: User) -> Actor:
    return Actor(user_id=user.pk, scope=scope_for(user), name=str(user))


def _tasks(grid: Region, street: Region, people: list[User]) -> None:
    giver = User.objects.get(username=f"street-{street.code[:9]}")
    today = timezone.localdate()
    for item, days, note in TASKS:
        services.task_create(
            actor=_actor(giver),
            item=item,
            grid=grid.code,
            due=today + timedelta(days=days),
            assignees=[u.username for u in people],
            note=note,
        )


def _inspections(grid: Region, worker: User, officer: User) -> None:
    boundary = Boundary.objects.get(region=grid, generation__state=GenerationState.ACTIVE)
    point = shape(boundary.geojson()).representative_point()
    giver = User.objects.get(username=f"street-{grid.parent.parent.code[:9]}")
    today = timezone.localdate()
    for n, (code, days_ago, by_officer, failed, raise_case) in enumerate(DONE, start=1):
        inspector = officer if by_officer else worker
        task = None
        if n == 1:
            task = services.task_create(
                actor=_actor(giver), item=code, grid=grid.code, due=today,
                assignees=[worker.username, officer.username], note="",
            )  # fmt: skip
        at = timezone.now() - timedelta(days=days_ago, hours=2)
        answers = [
            services.AnswerInput(
                checkpoint=cp.pk,
                result=AnswerResult.FAIL if cp.seq in failed else AnswerResult.PASS,
                note=FINDINGS.get(code, "") if cp.seq in failed else "",
                raise_case=raise_case and cp.seq in failed,
            )
            for cp in Checkpoint.objects.filter(item__code=code, active=True).order_by("seq")
        ]
        services.inspection_record(
            actor=_actor(inspector),
            data=services.InspectionInput(
                item=code,
                grid=grid.code,
                answers=answers,
                lon=point.x,
                lat=point.y,
                accuracy=12.0,
                task=task.pk if task else None,
                at=at,
                client_key=f"demo-inspection-{n}",
            ),
            submitted_by=f"user:{inspector.pk}",
        )

"""Reads of the enforcement list, tasks and inspections, always through the reader's scope.

Who sees what:
- the item list: every member of staff (it is the public list of matters, not personal data);
- tasks: the people they are given to and the person who gave them; the command centre, street
  operators, community staff and grid chiefs those in their area. A grid worker or an officer
  sees only the tasks given to them (or by them);
- inspections: the inspector; whoever's area holds the grid (area roles, enforcement officers
  over their street, grid workers over their grids); a department's handlers the inspections of
  the department's items.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from civicgrid.accounts.models import Role
from civicgrid.accounts.scopes import Scope
from civicgrid.enforcement.models import (
    Checkpoint,
    EnforcementItem,
    Inspection,
    InspectionAnswer,
    InspectionTask,
    TaskState,
)
from civicgrid.errors import DomainError, NotFound, OutOfScope
from civicgrid.params import parse_day
from civicgrid.regions.models import Level, Region

AREA_ROLES = (Role.OPERATOR, Role.SHIFT_LEAD, Role.STREET_OPERATOR, Role.COMMUNITY_STAFF, Role.GRID_CHIEF)
# Who records inspections (and may be given tasks): 执法队员进网格 — grid workers inspect too.
INSPECTOR_ROLES = (Role.ENFORCEMENT_OFFICER, Role.GRID_WORKER)
TASK_ROLES = (Role.OPERATOR, Role.SHIFT_LEAD, Role.STREET_OPERATOR, Role.ENFORCEMENT_OFFICER)
# Who replaces the list from Excel: the command centre and the system administrator.
IMPORT_ROLES = (Role.OPERATOR, Role.SHIFT_LEAD, Role.SYSTEM_ADMIN)
LIST_MAX = 200


def may_read_items(scope: Scope) -> bool:
    return bool(scope.roles - {Role.RESIDENT})


def may_import(scope: Scope) -> bool:
    return scope.has_role(*IMPORT_ROLES)


def may_create_tasks(scope: Scope) -> bool:
    return scope.has_role(*TASK_ROLES)


def may_inspect(scope: Scope) -> bool:
    return scope.has_role(*INSPECTOR_ROLES)


def _active_checkpoints() -> Prefetch:
    rows = Checkpoint.objects.filter(active=True).select_related("case_class").order_by("seq")
    return Prefetch("checkpoints", queryset=rows)


def item_search(*, q: str = "") -> QuerySet[EnforcementItem]:
    """Active items whose code, name, legal basis or a checkpoint contains ``q``."""
    items = EnforcementItem.objects.filter(active=True)
    text = (q or "").strip()[:100]
    if text:
        match = Checkpoint.objects.filter(item=OuterRef("pk"), active=True, text__icontains=text)
        items = items.filter(
            Q(code__icontains=text) | Q(name__icontains=text) | Q(legal_basis__icontains=text) | Exists(match)
        )
    return (
        items.select_related("department", "case_class")
        .prefetch_related(_active_checkpoints())
        .order_by("code")
    )


def item_get(*, code: str) -> EnforcementItem:
    item = (
        EnforcementItem.objects.select_related("department", "case_class")
        .prefetch_related(_active_checkpoints())
        .filter(code=code)
        .first()
    )
    if item is None:
        raise NotFound("item_not_found", _("There is no enforcement item %(c)s.") % {"c": code})
    return item


def _area_q(scope: Scope, field: str) -> Q | None:
    """``field`` inside the scope's regions; None when the scope reaches every region."""
    return None if scope.everything else Q(**{f"{field}__in": scope.region_ids})


def task_scope_q(scope: Scope) -> Q:
    if scope.user_id is None:
        return Q(pk__in=[])
    given = InspectionTask.assignees.through.objects.filter(
        inspectiontask_id=OuterRef("pk"), user_id=scope.user_id
    )
    q = Q(Exists(given)) | Q(created_by_id=scope.user_id)
    if scope.has_role(*AREA_ROLES):
        area = _area_q(scope, "grid_id")
        if area is None:
            return Q()
        q |= area
    return q


def task_queryset(scope: Scope) -> QuerySet[InspectionTask]:
    return InspectionTask.objects.filter(task_scope_q(scope))


def task_get(*, scope: Scope, task_id: int, for_update: bool = False) -> InspectionTask:
    query = task_queryset(scope).select_related("item", "grid__parent")
    if for_update:
        query = query.select_for_update(of=("self",))
    task = query.filter(pk=task_id).first()
    if task is None:
        missing = NotFound("task_not_found", _("There is no inspection task #%(id)s.") % {"id": task_id})
        if InspectionTask.objects.filter(pk=task_id).exists():
            raise OutOfScope(
                missing.code,
                missing.message,
                object_type="enforcement.inspectiontask",
                object_id=str(task_id),
            )
        raise missing
    return task


def _tasks_shown(query: QuerySet[InspectionTask]) -> QuerySet[InspectionTask]:
    items = Prefetch(
        "item",
        queryset=EnforcementItem.objects.prefetch_related(_active_checkpoints()).select_related("department"),
    )
    return query.select_related("grid").prefetch_related(items, "assignees").order_by("due", "id")


def tasks_mine(*, scope: Scope, state: str = TaskState.OPEN) -> QuerySet[InspectionTask]:
    """The tasks given to the reader (``state``: one of the task states, or "all")."""
    if scope.user_id is None:
        return InspectionTask.objects.none()
    query = InspectionTask.objects.filter(assignees__id=scope.user_id)
    return _tasks_shown(_state(query, state))


def task_list(*, scope: Scope, state: str = TaskState.OPEN, grid: str = "") -> QuerySet[InspectionTask]:
    """The tasks in the reader's scope."""
    query = _state(task_queryset(scope), state)
    if grid:
        query = query.filter(grid_id=_grid_id(grid))
    return _tasks_shown(query)


def _state(query: QuerySet[InspectionTask], state: str) -> QuerySet[InspectionTask]:
    state = (state or TaskState.OPEN).strip()
    if state == "all":
        return query
    if state not in TaskState.values:
        raise DomainError(
            "unknown_state", _("Unknown state: %(s)s") % {"s": state}, {"states": TaskState.values}
        )
    return query.filter(state=state)


def _grid_id(code: str) -> int:
    found = Region.objects.filter(code=code.strip(), level=Level.GRID).values_list("id", flat=True).first()
    if found is None:
        raise DomainError("unknown_grid", _("There is no grid %(c)s.") % {"c": code}, {"grid": code})
    return found


def inspection_scope_q(scope: Scope) -> Q:
    if scope.user_id is None:
        return Q(pk__in=[])
    q = Q(inspector_id=scope.user_id)
    if scope.has_role(*AREA_ROLES, *INSPECTOR_ROLES):
        area = _area_q(scope, "grid_id")
        if area is None:
            return Q()
        q |= area
    if scope.has_role(Role.DEPARTMENT_HANDLER) and scope.department_ids:
        q |= Q(item__department_id__in=scope.department_ids)
    return q


def inspection_queryset(scope: Scope) -> QuerySet[Inspection]:
    return Inspection.objects.filter(inspection_scope_q(scope))


def inspection_get(*, scope: Scope, inspection_id: int) -> Inspection:
    """One inspection the reader may see; outside the scope it is 404 like a missing one (audited)."""
    inspection = (
        inspection_queryset(scope)
        .select_related("item__department", "grid__parent__parent", "inspector", "task")
        .filter(pk=inspection_id)
        .first()
    )
    if inspection is None:
        missing = NotFound(
            "inspection_not_found", _("There is no inspection #%(id)s.") % {"id": inspection_id}
        )
        if Inspection.objects.filter(pk=inspection_id).exists():
            raise OutOfScope(
                missing.code,
                missing.message,
                object_type="enforcement.inspection",
                object_id=str(inspection_id),
            )
        raise missing
    return inspection


def inspection_answers(inspection: Inspection) -> list[InspectionAnswer]:
    return list(
        inspection.answers.select_related("checkpoint", "case").order_by("checkpoint__seq", "checkpoint_id")
    )


@dataclass
class InspectionFilter:
    grid: str = ""
    item: str = ""
    date_from: date | str | None = None
    date_to: date | str | None = None


def inspection_list(*, scope: Scope, filters: InspectionFilter | None = None) -> QuerySet[Inspection]:
    """The reader's inspections, newest first; ``date_from``/``date_to`` are inclusive local days."""
    f = filters or InspectionFilter()
    query = inspection_queryset(scope)
    if f.grid:
        query = query.filter(grid_id=_grid_id(f.grid))
    if f.item:
        query = query.filter(item__code=f.item.strip())
    start, end = parse_day(f.date_from, "from"), parse_day(f.date_to, "to")
    if start and end and end < start:
        raise DomainError("bad_period", _("The period ends before it starts."))
    tz = timezone.get_current_timezone()
    if start:
        query = query.filter(at__gte=datetime.combine(start, time.min, tz))
    if end:
        query = query.filter(at__lte=datetime.combine(end, time.max, tz))
    raised = (
        InspectionAnswer.objects.filter(case__isnull=False).select_related("case").order_by("checkpoint__seq")
    )
    return (
        query.select_related("item", "grid", "inspector", "task")
        .prefetch_related(Prefetch("answers", queryset=raised, to_attr="raised"))
        .order_by("-at", "-id")
    )


def inspections_of_item(*, scope: Scope, item: EnforcementItem, limit: int = 20) -> list[Inspection]:
    return list(inspection_list(scope=scope, filters=InspectionFilter(item=item.code))[:limit])

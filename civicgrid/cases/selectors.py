"""Reads of cases, always through the reader's scope (``case_queryset``), and the lookups the
workflow needs: who owns a stage, which department a rule sends a case to.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date, datetime, time

from django.db import connection
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from civicgrid.accounts.models import Department, DepartmentKind, GridPost, GridStaffing, Role, RoleAssignment
from civicgrid.accounts.scopes import Scope
from civicgrid.cases import search
from civicgrid.cases.models import Case, CaseClass, CaseState, CaseUnit, DispatchRule, Stage, Tier
from civicgrid.errors import DomainError, NotFound, OutOfScope
from civicgrid.regions.models import Level, Region
from civicgrid.sql import column, table

S = CaseState


def _anchor_q(scope: Scope) -> Q:
    """Cases under the regions the reader holds roles on, by the column of each region's level."""
    by_level: dict[str, list[int]] = {}
    for region_id, level in Region.objects.filter(id__in=scope.anchors).values_list("id", "level"):
        by_level.setdefault(level, []).append(region_id)
    q = Q(pk__in=[])
    column = {Level.DISTRICT: "district_id", Level.STREET: "street_id", Level.COMMUNITY: "community_id"}
    for level, ids in by_level.items():
        q |= Q(**{f"{column.get(level, 'grid_id')}__in": ids})
    return q


def case_scope_q(scope: Scope) -> Q:
    """The cases a reader may see: their territory, their departments' cases, what they reported."""
    if scope.everything:
        return Q()
    q = Q(pk__in=[])
    if scope.anchors:
        q |= _anchor_q(scope)
    if scope.tier_anchors:  # 四级四事 tier roles: only the cases routed to their tiers
        from civicgrid.routing.selectors import tier_scope_q  # routing reads this module

        q |= tier_scope_q(scope)
    if scope.department_ids:
        co = CaseUnit.objects.filter(case=OuterRef("pk"), department_id__in=scope.department_ids)
        q |= Q(department_id__in=scope.department_ids) | Exists(co)
    if scope.user_id is not None and (
        scope.has_role(Role.RESIDENT) or not (scope.anchors or scope.department_ids)
    ):
        # Residents see their own reports. Staff do not get this clause: OR-ing it onto a
        # territorial filter would stop the list from using its (area, created_at) indexes.
        q |= Q(reporter_id=scope.user_id)
    return q


def case_queryset(scope: Scope) -> QuerySet[Case]:
    return Case.objects.filter(case_scope_q(scope))


def case_get(*, scope: Scope, number: str, for_update: bool = False) -> Case:
    """One case the reader may see; outside the scope it is 404 like a missing one (and audited)."""
    # PostgreSQL plans this join on every read and the cost grows fast with the tables joined:
    # 5.5 ms of planning with "reporter" (whose user object nothing reads) and the class's
    # parent, 1.2 ms without both. Only the detail page shows the parent (one lookup by pk).
    query = case_queryset(scope).select_related("case_class", "grid", "community", "street", "department")
    if for_update:
        query = query.select_for_update(of=("self",))
    # Not first(): the number is unique, and first() sorts by Case's ordering, which makes Django
    # hash every column of this wide select_related while compiling (~0.8 ms a call).
    case = next(iter(query.filter(number=number).order_by()[:1]), None)
    if case is None:
        missing = NotFound("case_not_found", _("There is no case %(n)s.") % {"n": number})
        if Case.objects.filter(number=number).exists():
            raise OutOfScope(missing.code, missing.message, object_type="cases.case", object_id=number)
        raise missing
    units = list(case.units.values_list("department_id", "department__code", "lead"))
    case.co_department_ids = [d for d, _code, lead in units if not lead]
    case.co_department_codes = [code for _d, code, lead in units if not lead]  # for presenters
    return case


def case_by_tracking_code(code: str) -> Case:
    case = (
        Case.objects.select_related("case_class", "grid", "community", "street")
        .filter(tracking_code=code.strip().upper().replace("-", ""))
        .first()
    )
    if case is None:
        raise NotFound("case_not_found", _("No case has this tracking code."))
    return case


@dataclass
class CaseFilter:
    state: list[str] | None = None
    case_class: str = ""  # a 大类 or 小类 code
    region: str = ""  # a street, community or grid code
    channel: str = ""
    department: str = ""
    overdue: bool | None = None
    date_from: date | None = None
    date_to: date | None = None
    text: str = ""

    @classmethod
    def from_params(cls, params) -> CaseFilter:
        """From query parameters (the API's and the list page's): dates as YYYY-MM-DD, states comma-separated."""

        def day(name: str) -> date | None:
            value = (params.get(name) or "").strip()
            try:
                return date.fromisoformat(value) if value else None
            except ValueError:
                raise DomainError("bad_date", _("Give dates as YYYY-MM-DD.")) from None

        overdue = params.get("overdue")
        if isinstance(overdue, str):
            overdue = {"1": True, "true": True, "0": False, "false": False}.get(overdue.lower())
        state = params.get("state") or ""
        states = state if isinstance(state, list) else [s for s in state.split(",") if s]
        return cls(
            state=states or None,
            case_class=params.get("case_class") or "",
            region=params.get("region") or "",
            channel=params.get("channel") or "",
            department=params.get("department") or "",
            overdue=overdue,
            date_from=day("date_from"),
            date_to=day("date_to"),
            text=params.get("q") or "",
        )


COUNT_CAP = 10_000  # lists count up to here and then say "10,000+"


def case_count(*, scope: Scope, filters: CaseFilter | None = None) -> int:
    """How many cases ``case_list`` holds, counted up to ``COUNT_CAP + 1``: counting a million
    rows costs more than the page. (A text filter is planned for counting here, for the page
    there: see ``search.text_filter``.)"""
    return case_list(scope=scope, filters=filters, counting=True)[: COUNT_CAP + 1].count()


def case_list(*, scope: Scope, filters: CaseFilter | None = None, counting: bool = False) -> QuerySet[Case]:
    """The reader's cases, newest first, narrowed by ``filters``; unknown codes are errors.
    ``counting``: for ``case_count`` (no order, no joins)."""
    f = filters or CaseFilter()
    query = case_queryset(scope)
    if f.state:
        bad = sorted(set(f.state) - set(S.values))
        if bad:
            raise DomainError("unknown_state", _("Unknown state: %(s)s") % {"s": ", ".join(bad)})
        query = query.filter(state__in=f.state)
    if f.case_class:
        found = CaseClass.objects.filter(code=f.case_class).values_list("id", "parent_id").first()
        if found is None:
            raise DomainError("unknown_class", _("There is no case class %(c)s.") % {"c": f.case_class})
        query = query.filter(case_class_id=found[0]) if found[1] else query.filter(major_class_id=found[0])
    if f.region:
        region = Region.objects.filter(code=f.region).values_list("id", "level").first()
        if region is None:
            raise DomainError("unknown_region", _("There is no region %(c)s.") % {"c": f.region})
        column = {Level.STREET: "street_id", Level.COMMUNITY: "community_id", Level.GRID: "grid_id"}
        query = query.filter(**{column.get(region[1], "district_id"): region[0]})
    if f.channel:
        query = query.filter(channel=f.channel)
    if f.department:
        query = query.filter(department__code=f.department)
    if f.overdue is not None:
        late = Q(stage_deadline__lt=timezone.now(), paused_at__isnull=True, state__in=list(STAGE_STATES))
        query = query.filter(late) if f.overdue else query.exclude(late)
    tz = timezone.get_current_timezone()
    if f.date_from:
        query = query.filter(created_at__gte=datetime.combine(f.date_from, time.min, tz))
    if f.date_to:
        query = query.filter(created_at__lt=datetime.combine(f.date_to, time.max, tz))
    if f.text.strip():
        query = search.text_filter(query, f.text, ordered=not counting)
    if counting:
        return query.order_by()
    return query.select_related("case_class", "grid", "street", "department").order_by("-created_at", "-id")


STAGE_STATES = frozenset(
    {S.VERIFYING, S.REPORTED, S.REGISTERED, S.DISPATCHED, S.HANDLING, S.CHECKING, S.CHECKED}
)


@dataclass(frozen=True)
class InboxBucket:
    key: str
    label: str
    roles: tuple[str, ...]
    q: Q
    by_department: bool = False


INBOX = [
    InboxBucket(
        "verify",
        gettext_lazy("To verify on site"),
        (Role.GRID_WORKER, Role.GRID_CHIEF, Role.COMMUNITY_STAFF),
        Q(state=S.VERIFYING),
    ),
    InboxBucket(
        "register",
        gettext_lazy("To register or void"),
        (Role.SHIFT_LEAD, Role.STREET_OPERATOR),
        Q(state=S.REPORTED),
    ),
    InboxBucket(
        "dispatch",
        gettext_lazy("To dispatch"),
        (Role.OPERATOR, Role.SHIFT_LEAD, Role.STREET_OPERATOR),
        Q(state=S.REGISTERED),
    ),
    InboxBucket("accept", gettext_lazy("To accept"), (Role.DEPARTMENT_HANDLER,), Q(state=S.DISPATCHED), True),
    InboxBucket(
        "handle", gettext_lazy("Being handled"), (Role.DEPARTMENT_HANDLER,), Q(state=S.HANDLING), True
    ),
    InboxBucket(
        "check", gettext_lazy("To check on site"), (Role.GRID_WORKER, Role.GRID_CHIEF), Q(state=S.CHECKING)
    ),
    InboxBucket(
        "extension",
        gettext_lazy("Extensions to decide"),
        (Role.SHIFT_LEAD,),
        Q(state=S.HANDLING, pending_extension__isnull=False),
    ),
    InboxBucket(
        "close", gettext_lazy("To close"), (Role.SHIFT_LEAD, Role.STREET_OPERATOR), Q(state=S.CHECKED)
    ),
    InboxBucket(
        "suspended", gettext_lazy("Suspended, due for review"), (Role.SHIFT_LEAD,), Q(state=S.SUSPENDED)
    ),
]


def inbox_buckets(*, scope: Scope) -> list[InboxBucket]:
    return [b for b in INBOX if scope.has_role(*b.roles)]


def inbox_query(*, scope: Scope, bucket: str) -> QuerySet[Case]:
    """The cases waiting for this person in one bucket of their to-do list (待办)."""
    found = next((b for b in inbox_buckets(scope=scope) if b.key == bucket), None)
    if found is None:
        raise DomainError("unknown_bucket", _("There is no to-do list %(b)s for you.") % {"b": bucket})
    query = case_queryset(scope).filter(found.q)
    if found.by_department:
        query = query.filter(department_id__in=scope.department_ids)
    if bucket == "suspended":
        query = query.filter(review_on__lte=timezone.localdate())
    return query.select_related("case_class", "grid", "department").order_by("stage_deadline", "id")


def inbox_counts(*, scope: Scope) -> list[tuple[InboxBucket, int]]:
    return [(b, inbox_query(scope=scope, bucket=b.key).count()) for b in inbox_buckets(scope=scope)]


def dispatch_suggest(case: Case) -> tuple[Department | None, str]:
    """Where the rules send this case: the most specific rule, the class's owner, then 属地兜底."""
    ancestors = [case.grid_id, case.community_id, case.street_id, case.district_id]
    rules = {
        (r.case_class_id, r.region_id): r
        for r in DispatchRule.objects.filter(
            Q(case_class_id=case.case_class_id) | Q(case_class__isnull=True),
            Q(region_id__in=ancestors) | Q(region__isnull=True),
        ).select_related("department")
    }
    # Class and area both matching beats class alone beats area alone; a nearer area beats a wider one.
    for key in [
        *((case.case_class_id, a) for a in ancestors),
        (case.case_class_id, None),
        *((None, a) for a in ancestors),
    ]:
        rule = rules.get(key)
        if rule and rule.department.active:
            return rule.department, "rule"
    if case.case_class and case.case_class.department_id and case.case_class.department.active:
        return case.case_class.department, "class"
    local = (
        Department.objects.filter(kind=DepartmentKind.STREET_OFFICE, active=True, region_id__in=ancestors)
        .order_by("-region__level", "code")
        .first()
    )
    return (local, "locality") if local else (None, "")


def stage_owner_ids(case: Case) -> list[int]:
    """The people whose move the case waits for: who gets its warnings and overdue notices.
    Hand-written SQL (see ``civicgrid.sql``): it runs on every intake and move."""
    day = timezone.localdate().isoformat()
    stage = case.stage
    if stage == Stage.HANDLE and case.tier != Tier.STREET:  # at a grassroots tier: its owners
        from civicgrid.routing.selectors import tier_owner_ids

        return tier_owner_ids(case)
    if stage in (Stage.VERIFY, Stage.CHECK):
        sql = _owner_sql("grid")
        params = [case.grid_id, GridPost.FULL_TIME, GridPost.PART_TIME, day, day]
    elif stage in (Stage.ACCEPT, Stage.HANDLE) and case.department_id:
        sql = _owner_sql("department")
        params = [Role.DEPARTMENT_HANDLER, case.department_id, day, day]
    else:
        first, second = (
            (Role.SHIFT_LEAD, Role.SHIFT_LEAD)
            if stage in (Stage.REGISTER, Stage.CLOSE)
            else (Role.OPERATOR, Role.SHIFT_LEAD)
        )
        sql = _owner_sql("leads")
        params = [first, second, case.district_id, Role.STREET_OPERATOR, case.street_id, day, day]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [row[0] for row in cursor.fetchall()]


@functools.cache
def _owner_sql(kind: str) -> str:
    ra, gs = RoleAssignment, GridStaffing
    if kind == "grid":  # the grid's full- and part-time workers whose post runs today
        return (
            f"SELECT {column(gs, 'user')} FROM {table(gs)} WHERE {column(gs, 'grid')} = %s "
            f"AND {column(gs, 'post')} IN (%s, %s) AND {column(gs, 'start')} <= %s "
            f"AND ({column(gs, 'end')} IS NULL OR {column(gs, 'end')} >= %s)"
        )
    active = (
        f"{column(ra, 'valid_from')} <= %s "
        f"AND ({column(ra, 'valid_until')} IS NULL OR {column(ra, 'valid_until')} >= %s)"
    )
    role, region = column(ra, "role"), column(ra, "region")
    if kind == "department":  # the lead department's handlers
        where = f"{role} = %s AND {column(ra, 'department')} = %s"
    else:  # the command centre's leads of the district, and the street's operator
        where = f"(({role} IN (%s, %s) AND {region} = %s) OR ({role} = %s AND {region} = %s))"
    return f"SELECT DISTINCT {column(ra, 'user')} FROM {table(ra)} WHERE {where} AND {active}"

"""Reads of whistles, always through the reader's scope, and the figures for the dashboards.

Who sees a whistle: the command centre every one; a street operator those blown in their street
(by the street or its communities); community staff those of their community; a department
handler those that summon their department. Grid workers, residents and the administrators see
none (``may_use``).
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import date, datetime, time

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from civicgrid.accounts.models import Role
from civicgrid.accounts.scopes import Scope
from civicgrid.errors import DomainError, NotFound, OutOfScope
from civicgrid.params import parse_day
from civicgrid.regions.models import Level, Region
from civicgrid.whistles.models import Summons, Whistle, WhistleKind, WhistleState

AREA_ROLES = (Role.OPERATOR, Role.SHIFT_LEAD, Role.STREET_OPERATOR, Role.COMMUNITY_STAFF)


def may_use(scope: Scope) -> bool:
    return scope.has_role(*AREA_ROLES, Role.DEPARTMENT_HANDLER)


def whistle_scope_q(scope: Scope) -> Q:
    q = Q(pk__in=[])
    if scope.has_role(*AREA_ROLES):
        if scope.everything:
            return Q()
        q |= Q(region_id__in=scope.region_ids)
    if scope.has_role(Role.DEPARTMENT_HANDLER) and scope.department_ids:
        summoned = Summons.objects.filter(whistle=OuterRef("pk"), department_id__in=scope.department_ids)
        q |= Exists(summoned)
    return q


def whistle_queryset(scope: Scope) -> QuerySet[Whistle]:
    return Whistle.objects.filter(whistle_scope_q(scope))


def whistle_get(*, scope: Scope, number: str, for_update: bool = False) -> Whistle:
    """One whistle the reader may see; outside the scope it is 404 like a missing one (audited)."""
    query = whistle_queryset(scope).select_related("region", "street", "lead", "case", "blown_by")
    if for_update:
        query = query.select_for_update(of=("self",))
    whistle = next(iter(query.filter(number=number).order_by()[:1]), None)
    if whistle is None:
        missing = NotFound("whistle_not_found", _("There is no whistle %(n)s.") % {"n": number})
        if Whistle.objects.filter(number=number).exists():
            raise OutOfScope(missing.code, missing.message, object_type="whistles.whistle", object_id=number)
        raise missing
    return whistle


def summons_list(whistle: Whistle) -> list[Summons]:
    return list(whistle.summonses.select_related("department", "reported_by").order_by("id"))


def _period(query: QuerySet, date_from, date_to, column: str = "opened_at") -> QuerySet:
    tz = timezone.get_current_timezone()
    start, end = parse_day(date_from), parse_day(date_to)
    if start and end and end < start:
        raise DomainError("bad_period", _("The period ends before it starts."))
    if start:
        query = query.filter(**{f"{column}__gte": datetime.combine(start, time.min, tz)})
    if end:
        query = query.filter(**{f"{column}__lte": datetime.combine(end, time.max, tz)})
    return query


@dataclass
class WhistleFilter:
    kind: str = ""
    state: str = ""
    street: str = ""  # a street code
    department: str = ""  # a summoned department's code
    late: bool | None = None  # with a late or missing report-in
    date_from: date | str | None = None
    date_to: date | str | None = None
    q: str = ""

    @classmethod
    def from_params(cls, params) -> WhistleFilter:
        late = params.get("late")
        if isinstance(late, str):
            late = {"1": True, "true": True, "0": False, "false": False}.get(late.lower())
        return cls(
            **{k: (params.get(k) or "").strip() for k in ("kind", "state", "street", "department", "q")},
            late=late,
            date_from=params.get("date_from") or None,
            date_to=params.get("date_to") or None,
        )


def whistle_list(*, scope: Scope, filters: WhistleFilter | None = None) -> QuerySet[Whistle]:
    """The reader's whistles, newest first; unknown codes in a filter are errors, not empty lists."""
    f = filters or WhistleFilter()
    query = whistle_queryset(scope)
    if f.kind:
        if f.kind not in WhistleKind.values:
            raise DomainError("unknown_kind", _("Unknown kind of whistle %(k)s.") % {"k": f.kind})
        query = query.filter(kind=f.kind)
    if f.state:
        if f.state not in WhistleState.values:
            raise DomainError("unknown_state", _("Unknown state: %(s)s") % {"s": f.state})
        query = query.filter(state=f.state)
    if f.street:
        street = Region.objects.filter(code=f.street, level=Level.STREET).values_list("id", flat=True).first()
        if street is None:
            raise DomainError("unknown_region", _("There is no street %(c)s.") % {"c": f.street})
        query = query.filter(street_id=street)
    if f.department:
        query = query.filter(summonses__department__code=f.department)
    if f.late is not None:
        late = Exists(Summons.objects.filter(whistle=OuterRef("pk"), late=True))
        query = query.filter(late) if f.late else query.exclude(late)
    query = _period(query, f.date_from, f.date_to)
    if f.q.strip():
        text = f.q.strip()
        query = query.filter(Q(number__icontains=text) | Q(title__icontains=text) | Q(place__icontains=text))
    return query.select_related("region", "street", "lead", "case").order_by("-opened_at", "-id").distinct()


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def whistle_figures(*, scope: Scope, date_from=None, date_to=None) -> dict:
    """The dashboards' figures for whistles blown in the period (inclusive local days):

    - ``by_street``: whistles per street and kind;
    - ``departments``: per summoned department, the summonses that came due (reported in, or
      flagged late without one) and the share reported in on time;
    - ``resolution``: for the whistles closed so far, hours from blowing to closing (mean, median).
    """
    whistles = _period(whistle_queryset(scope), date_from, date_to)
    kinds = WhistleKind.values
    streets: dict[str, dict] = {}
    rows = whistles.order_by().values("street__code", "street__name", "kind").annotate(n=Count("id"))
    for row in rows:
        entry = streets.setdefault(
            row["street__code"],
            {
                "street": row["street__code"],
                "name": row["street__name"],
                **dict.fromkeys(kinds, 0),
                "total": 0,
            },
        )
        entry[row["kind"]] += row["n"]
        entry["total"] += row["n"]
    by_kind = {k: sum(s[k] for s in streets.values()) for k in kinds}
    summonses = Summons.objects.filter(whistle__in=whistles.values("pk")).order_by()
    departments = []
    for row in summonses.values("department__code", "department__name").annotate(
        # (n_ prefixes: an annotation may not shadow the "late" column its own filter reads)
        n_summoned=Count("id"),
        n_on_time=Count("id", filter=Q(reported_at__isnull=False, late=False)),
        n_late=Count("id", filter=Q(reported_at__isnull=False, late=True)),
        n_missing=Count("id", filter=Q(reported_at__isnull=True, late=True)),
    ):
        due = row["n_on_time"] + row["n_late"] + row["n_missing"]
        departments.append(
            {
                "department": row["department__code"],
                "name": row["department__name"],
                "summoned": row["n_summoned"],
                "due": due,
                "on_time": row["n_on_time"],
                "late": row["n_late"],
                "missing": row["n_missing"],
                "on_time_rate": _rate(row["n_on_time"], due),
            }
        )
    departments.sort(key=lambda d: d["department"])
    hours = [
        (closed - opened).total_seconds() / 3600
        for opened, closed in whistles.filter(state=WhistleState.CLOSED)
        .order_by()
        .values_list("opened_at", "closed_at")
    ]
    return {
        "date_from": parse_day(date_from),
        "date_to": parse_day(date_to),
        "total": sum(by_kind.values()),
        "by_kind": by_kind,
        "by_street": sorted(streets.values(), key=lambda s: s["street"]),
        "departments": departments,
        "resolution": {
            "closed": len(hours),
            "mean_hours": round(statistics.fmean(hours), 2) if hours else None,
            "median_hours": round(statistics.median(hours), 2) if hours else None,
        },
    }

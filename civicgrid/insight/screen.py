"""The big screen's figures (/command/, /api/v1/insight/screen/…), always through the reader's scope.

Counts come from the rollups (``CaseDay``, ``EventDay``), never from the case table; only the live
feed reads cases, one by one through their newest-first and overdue indexes. Every figure carries
``link``: the case list behind it (``/cases/?…``), with the same filters and the scope's own
region, so a street operator's links stay in their street (the list is scope-filtered anyway).

Each block is cached for ``CACHE_SECONDS`` per scope and language: a wall of screens polling
every few seconds then costs the database one query set per scope, not one per screen. The feed
is not cached (its cursor differs per screen and it reads by index).

docs/command.md says what each number means and who sees what.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from django.core.cache import cache
from django.db.models import Count, F, Q, Sum
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from civicgrid.accounts.models import Department
from civicgrid.accounts.scopes import Scope
from civicgrid.cases.models import CaseClass, CaseState
from civicgrid.cases.selectors import STAGE_STATES, case_queryset
from civicgrid.errors import DomainError
from civicgrid.insight import indicators
from civicgrid.insight.links import CASE_LIST, case_list_url
from civicgrid.insight.models import Alert, AlertStatus, CaseDay, EventDay, InsightSettings
from civicgrid.insight.rollups import OPEN
from civicgrid.insight.warnings import alert_scope_q
from civicgrid.regions.models import Level, Region

CACHE_SECONDS = 10
FEED_LIMIT = 30  # items of each kind per poll
# A poll also returns what happened this long before its cursor: a case committed a moment after
# the previous poll read the table can carry an earlier time. The page drops items it has shown.
FEED_OVERLAP = timedelta(seconds=30)
FEED_FIRST = timedelta(hours=24)  # the first poll (no cursor) looks back this far
TREND_DAYS = 30
TOP_CLASSES = 10
LIST_ROWS = 10  # whistles and warnings shown (the count says how many there are)
OPEN_STATES = sorted(OPEN)


# -- the scope's name and its link filters --------------------------------------------------------


@dataclass(frozen=True)
class Place:
    """What the screen is about: its title and the filters every link carries."""

    name: str
    link_filters: dict[str, str]
    unit: str  # the units the ranking lists: streets, or a street's communities, or grids
    anchor_level: str  # district, street, community, grid, or "" (departments only)


_BELOW = {Level.DISTRICT: "street", Level.STREET: "community", Level.COMMUNITY: "grid", Level.GRID: "grid"}


def place_of(scope: Scope) -> Place:
    if scope.everything or not (scope.anchors or scope.department_ids):
        district = Region.objects.filter(level=Level.DISTRICT).order_by("code").values_list("name", flat=True)
        names = list(district[:2])
        return Place("、".join(names), {}, "street", Level.DISTRICT)
    # The anchors that are not inside another (a grid chief holds their community and its grids'
    # posts: the screen is the community's).
    rows = Region.objects.filter(id__in=scope.anchors).order_by("level", "code")
    above = ("parent_id", "parent__parent_id", "parent__parent__parent_id")
    anchors = [
        r
        for r in rows.values("code", "name", "level", *above)
        if not any(r[a] in scope.anchors for a in above)
    ]
    departments = list(
        Department.objects.filter(id__in=scope.department_ids).order_by("code").values("code", "name")
    )
    names = [a["name"] for a in anchors] + [d["name"] for d in departments]
    name = "、".join(names[:3]) + ("…" if len(names) > 3 else "")
    filters: dict[str, str] = {}
    if len(anchors) == 1 and not departments and anchors[0]["level"] != Level.DISTRICT:
        filters["region"] = anchors[0]["code"]
    elif len(departments) == 1 and not anchors:
        filters["department"] = departments[0]["code"]
    # The widest anchor decides the ranking's units (a district anchor: streets).
    levels = [a["level"] for a in anchors]
    top = next((lv for lv in (Level.DISTRICT, Level.STREET, Level.COMMUNITY, Level.GRID) if lv in levels), "")
    unit = _BELOW.get(top, "street") if top and (len(anchors) == 1 or top != Level.STREET) else "street"
    return Place(name, filters, unit, top)


def case_link(place: Place, **filters) -> str:
    """The case list with the scope's filters and these (None and "" left out)."""
    return case_list_url(**{**place.link_filters, **filters})


# -- caching ---------------------------------------------------------------------------------------


def _scope_key(scope: Scope) -> str:
    """What the figures depend on: the anchors (the region subtree follows from them), the
    departments, the roles (whistles), the day and the language."""
    parts = (
        scope.everything,
        sorted(scope.anchors),
        sorted(scope.department_ids),
        sorted(scope.roles),
        timezone.localdate().isoformat(),
        translation.get_language(),
    )
    return hashlib.sha1(repr(parts).encode()).hexdigest()[:20]


def cached(name: str, scope: Scope, compute: Callable[[], dict]) -> dict:
    if CACHE_SECONDS <= 0:
        return compute()
    key = f"insight:screen:{name}:{_scope_key(scope)}"
    found = cache.get(key)
    if found is None:
        found = compute()
        cache.set(key, found, CACHE_SECONDS)
    return found


# -- the blocks ------------------------------------------------------------------------------------


def _month_start(day: date) -> date:
    return day.replace(day=1)


def _sum(query, *measures: str) -> dict[str, int]:
    row = query.aggregate(**{m: Sum(m) for m in measures})
    return {m: row[m] or 0 for m in measures}


def open_rows(scope: Scope):
    """The rollup rows holding open cases, in the reader's scope, read through the partial index
    on open > 0 (a few thousand rows district-wide, whatever the year's size).

    ``indicators.scope_q`` filters the same rows, but with it both databases pick the grid or
    department index and read a whole year of the scope's rows (20 ms against 3 ms for a street
    of the demo year, SQLite). Compared as expressions (``+ 0``), the columns' own indexes cannot
    be used and the planner reads the small partial index."""
    rows = CaseDay.objects.filter(open__gt=0)
    if scope.everything:
        return rows
    q = Q(pk__in=[])
    if scope.region_ids:
        q |= Q(grid_expr__in=scope.region_ids)
    if scope.department_ids:
        q |= Q(department_expr__in=scope.department_ids)
    return rows.annotate(grid_expr=F("grid_id") + 0, department_expr=F("department_id") + 0).filter(q)


def event_scope_q(scope: Scope) -> Q | None:
    """The moves a reader may count. ``EventDay`` has no department, so a scope of departments
    only has no moves to count (None); a mixed scope counts its territory's."""
    if scope.everything:
        return Q()
    if scope.region_ids:
        return Q(grid_id__in=scope.region_ids)
    return None


SUMMARY_RATES = ("on_time_closure", "satisfaction")


def _measures_of(code: str) -> set[str]:
    indicator = indicators.INDICATORS[code]
    return {*indicator.numerator, indicator.denominator}


def summary(scope: Scope, *, today: date | None = None) -> dict:
    """The headline figures, each with the case list behind it."""
    today = today or timezone.localdate()
    start = _month_start(today)
    place = place_of(scope)
    q = indicators.scope_q(scope)
    base = CaseDay.objects.filter(q)
    # Only the measures the tiles' two rates need (summing all of them costs more at scale), and
    # today's reports from the same rows.
    needed = {"cases"} | {m for code in SUMMARY_RATES for m in _measures_of(code)}
    row = base.filter(day__gte=start, day__lte=today).aggregate(
        reported_today=Sum("cases", filter=Q(day=today)), **{m: Sum(m) for m in needed}
    )
    month = {m: row[m] or 0 for m in needed}
    day = {"cases": row["reported_today"] or 0}
    # The open stock: the partial index on day where open > 0 keeps this small at any size.
    stock = _sum(open_rows(scope), "open", "overdue")
    moves = event_scope_q(scope)
    closed_today = None
    if moves is not None:
        closed_today = (
            EventDay.objects.filter(moves, day=today, action="close").aggregate(n=Sum("n"))["n"] or 0
        )
    weight = InsightSettings.current().basic_weight

    def rate(code: str) -> float | None:
        value = indicators.INDICATORS[code].value(month, weight)
        return None if value is None else round(value, 4)

    return {
        "scope": place.name,
        "today": today.isoformat(),
        "month_start": start.isoformat(),
        "figures": [
            {"key": "today", "value": day["cases"], "link": case_link(place, date_from=today, date_to=today)},
            {
                "key": "month",
                "value": month["cases"],
                "link": case_link(place, date_from=start, date_to=today),
            },
            {"key": "open", "value": stock["open"], "link": case_link(place, state=OPEN_STATES)},
            {"key": "overdue", "value": stock["overdue"], "link": case_link(place, overdue=1)},
            # The list filters by report date, not closing date: it shows the closed cases.
            {"key": "closed_today", "value": closed_today, "link": case_link(place, state=CaseState.CLOSED)},
            {
                "key": "on_time_closure",
                "value": rate("on_time_closure"),
                "link": case_link(place, state=CaseState.CLOSED, date_from=start, date_to=today),
            },
            {
                "key": "satisfaction",
                "value": rate("satisfaction"),
                "link": case_link(place, state=CaseState.CLOSED, date_from=start, date_to=today),
            },
        ],
    }


def grid_map(scope: Scope) -> dict:
    """Each grid's open and overdue cases now, and which grids to draw (None: every grid)."""
    place = place_of(scope)
    rows = open_rows(scope).values("grid_id").annotate(open=Sum("open"), overdue=Sum("overdue")).order_by()
    counts = {r["grid_id"]: (r["open"] or 0, r["overdue"] or 0) for r in rows if r["grid_id"]}
    drawn = None
    if not scope.everything and scope.region_ids and place.anchor_level != Level.DISTRICT:
        drawn = set(
            Region.objects.filter(id__in=scope.region_ids, level=Level.GRID).values_list("id", flat=True)
        )
    codes = dict(Region.objects.filter(id__in=set(counts) | (drawn or set())).values_list("id", "code"))
    grids = []
    for grid_id, code in sorted(codes.items(), key=lambda item: item[1]):
        n_open, n_overdue = counts.get(grid_id, (0, 0))
        grids.append(
            {
                "code": code,
                "open": n_open,
                "overdue": n_overdue,
                "link": case_link(place, region=code, state=OPEN_STATES),
                "overdue_link": case_link(place, region=code, overdue=1),
            }
        )
    return {
        "scope": place.name,
        "grids": grids,
        # The grids to draw (their codes) when the screen covers part of the district.
        "only": sorted(codes[g] for g in drawn if g in codes) if drawn is not None else None,
        "max_open": max((g["open"] for g in grids), default=0),
        "max_overdue": max((g["overdue"] for g in grids), default=0),
    }


def _epoch_ms(at: datetime) -> int:
    return int(at.timestamp() * 1000)


def parse_cursor(value: str | None) -> datetime | None:
    """A cursor is the server's time of the previous poll, in milliseconds since the epoch."""
    if not value:
        return None
    try:
        return datetime.fromtimestamp(int(value) / 1000, tz=UTC)
    except (ValueError, OverflowError, OSError):
        raise DomainError("bad_cursor", _("The cursor is not one this feed gave.")) from None


def feed(scope: Scope, *, after: datetime | None = None, now: datetime | None = None) -> dict:
    """New cases and cases that went overdue since ``after`` (less ``FEED_OVERLAP``), newest
    first, and the cursor for the next poll. Read per case, through the case indexes."""
    now = now or timezone.now()
    since = (after - FEED_OVERLAP) if after is not None else now - FEED_FIRST
    cases = case_queryset(scope).select_related("case_class", "grid", "street")
    new = cases.filter(created_at__gt=since, created_at__lte=now).order_by("-created_at", "-id")[:FEED_LIMIT]
    # A running clock past its deadline (the case_overdue partial index): the moment it passed.
    late = cases.filter(
        stage_deadline__gt=since,
        stage_deadline__lte=now,
        paused_at__isnull=True,
        state__in=list(STAGE_STATES),
    ).order_by("-stage_deadline", "-id")[:FEED_LIMIT]
    items = [_item("new", c, c.created_at) for c in new] + [
        _item("overdue", c, c.stage_deadline) for c in late
    ]
    items.sort(key=lambda i: (i["at"], i["key"]), reverse=True)
    return {"cursor": str(_epoch_ms(now)), "items": items}


def _item(kind: str, case, at: datetime) -> dict:
    return {
        "key": f"{kind}:{case.number}:{_epoch_ms(at)}",
        "kind": kind,
        "at": timezone.localtime(at).isoformat(timespec="seconds"),
        "number": case.number,
        "title": case.title,
        "state": case.state,
        "state_label": str(CaseState(case.state).label),
        "case_class": case.case_class.name if case.case_class_id else "",
        "grid": case.grid.name,
        "street": case.street.name,
        "link": f"/cases/{case.number}/",
    }


def trend(scope: Scope, *, today: date | None = None) -> dict:
    """Reported (by report day, ``CaseDay``) and closed (by closing day, ``EventDay``) per day."""
    today = today or timezone.localdate()
    start = today - timedelta(days=TREND_DAYS - 1)
    place = place_of(scope)
    days = [start + timedelta(days=i) for i in range(TREND_DAYS)]
    reported = dict(
        CaseDay.objects.filter(indicators.scope_q(scope), day__gte=start, day__lte=today)
        .values("day")
        .annotate(n=Sum("cases"))
        .order_by()
        .values_list("day", "n")
    )
    moves = event_scope_q(scope)
    closed: dict | None = None
    if moves is not None:
        closed = dict(
            EventDay.objects.filter(moves, day__gte=start, day__lte=today, action="close")
            .values("day")
            .annotate(n=Sum("n"))
            .order_by()
            .values_list("day", "n")
        )
    return {
        "days": [d.isoformat() for d in days],
        "reported": [reported.get(d, 0) or 0 for d in days],
        "closed": [closed.get(d, 0) or 0 for d in days] if closed is not None else None,
        "links": [case_link(place, date_from=d, date_to=d) for d in days],
    }


def classes(scope: Scope, *, today: date | None = None) -> dict:
    """The month's most reported 大类 and 小类."""
    today = today or timezone.localdate()
    start = _month_start(today)
    place = place_of(scope)
    # One pass over the month: the (大类, 小类) pairs are few (the taxonomy's size), so both
    # rankings are summed from them here rather than by a second scan of the rows.
    pairs = (
        CaseDay.objects.filter(indicators.scope_q(scope), day__gte=start, day__lte=today)
        .values("major_class_id", "case_class_id")
        .annotate(n=Sum("cases"))
        .order_by()
        .values_list("major_class_id", "case_class_id", "n")
    )
    major: dict[int, int] = {}
    minor: dict[int, int] = {}
    for major_id, minor_id, n in pairs:
        major[major_id] = major.get(major_id, 0) + (n or 0)
        minor[minor_id] = minor.get(minor_id, 0) + (n or 0)
    tops = {key: _top(counts) for key, counts in (("major", major), ("minor", minor))}
    names = {
        c["id"]: c
        for c in CaseClass.objects.filter(id__in=[i for rows in tops.values() for i, _n in rows]).values(
            "id", "code", "name"
        )
    }

    def listed(rows: list[tuple[int, int]]) -> list[dict]:
        return [
            {
                "code": names[i]["code"],
                "name": names[i]["name"],
                "cases": n,
                "link": case_link(place, case_class=names[i]["code"], date_from=start, date_to=today),
            }
            for i, n in rows
            if i in names
        ]

    return {"month_start": start.isoformat(), "major": listed(tops["major"]), "minor": listed(tops["minor"])}


def _top(counts: dict[int, int]) -> list[tuple[int, int]]:
    """The classes with the most cases (ties by id); 0 (no class) is left out."""
    ranked = sorted(((i, n) for i, n in counts.items() if i and n), key=lambda item: (-item[1], item[0]))
    return ranked[:TOP_CLASSES]


def ranking(scope: Scope, *, today: date | None = None) -> dict:
    """The month's ranking by composite score: streets, or a street's communities, or grids."""
    today = today or timezone.localdate()
    start = _month_start(today)
    place = place_of(scope)
    rows = indicators.unit_table(scope=scope, unit=place.unit, start=start, end=today)
    regions = {
        r["id"]: r
        for r in Region.objects.filter(id__in=[r.unit_id for r in rows]).values("id", "code", "name")
    }
    out = []
    for row in rows:
        region = regions.get(row.unit_id)
        if region is None:
            continue
        rate = row.rates.get("on_time_closure")
        out.append(
            {
                "code": region["code"],
                "name": region["name"],
                "cases": row.figures["cases"],
                "open": row.figures["open"],
                "overdue": row.figures["overdue"],
                "on_time_closure": None if rate is None else round(rate, 4),
                "score": row.composite.value,
                "grade": row.composite.grade,
                "link": case_link(place, region=region["code"], date_from=start, date_to=today),
            }
        )
    return {"unit": place.unit, "month_start": start.isoformat(), "rows": out}


def whistles(scope: Scope) -> dict:
    """Open whistles the reader may see (none for people whose work has no whistles)."""
    from civicgrid.whistles import selectors as whistle_selectors  # whistles are optional here

    if not whistle_selectors.may_use(scope):
        return {"available": False, "count": 0, "rows": [], "link": ""}
    query = whistle_selectors.whistle_queryset(scope).filter(state="open")
    rows = (
        query.select_related("region", "lead")
        .annotate(
            summoned=Count("summonses"),
            reported=Count("summonses", filter=Q(summonses__reported_at__isnull=False)),
            late=Count("summonses", filter=Q(summonses__late=True)),
        )
        .order_by("-opened_at", "-id")[:LIST_ROWS]
    )
    return {
        "available": True,
        "count": query.count(),
        "link": "/whistles/?state=open",
        "rows": [
            {
                "number": w.number,
                "kind": w.kind,
                "kind_label": str(w.get_kind_display()),
                "title": w.title,
                "region": w.region.name,
                "lead": w.lead.name,
                "opened_at": timezone.localtime(w.opened_at).isoformat(timespec="minutes"),
                "summoned": w.summoned,
                "reported": w.reported,
                "late": w.late,
                "link": f"/whistles/{w.number}/",
            }
            for w in rows
        ],
    }


def warnings(scope: Scope) -> dict:
    """Open early warnings in scope, the most severe and newest first."""
    query = Alert.objects.filter(alert_scope_q(scope), status=AlertStatus.OPEN)
    rows = query.select_related("street", "grid").order_by("-severity", "-day", "-id")[:LIST_ROWS]
    return {
        "count": query.count(),
        "rows": [
            {
                "id": a.id,
                "kind": a.kind,
                "kind_label": str(a.get_kind_display()),
                "severity": a.severity,
                "day": a.day.isoformat(),
                "place": (a.grid or a.street).name if (a.grid_id or a.street_id) else "",
                "explanation": a.explanation,
                "observed": a.observed,
                "expected": a.expected,
                "link": _alert_link(a.link),
            }
            for a in rows
        ],
    }


def _alert_link(link: str) -> str:
    """An alert keeps the case list's query string or a path; the screen links to the list.
    "/cases/?…" is the to-do page, which ignores filters: such a link is read as the list's."""
    link = (link or "").strip()
    if link.startswith("/cases/?"):
        return CASE_LIST + link.removeprefix("/cases/")
    if not link or link.startswith("/"):
        return link
    return f"{CASE_LIST}?{link.lstrip('?')}"

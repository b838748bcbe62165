"""月点评 and 季调度: reviews frozen into ``Review.payload`` and read back through the reader's scope.

A review is generated once for the whole district (the periodic task on the first days of a month
or quarter, or on demand) and never recomputed when it is read: its figures are what the rollups
said when it was made, so a case that moves later does not rewrite last month's ranking.

Scope is applied on read (``review_view``), not by generating one review per scope: a street
operator opening the district's review sees their street's rows (and its communities' and
grids'), the street's own overview, trend and top classes, and their street's rank among all
streets — never another street's row. A department handler sees their department's row only.
Whoever has no territory and no department (residents, auditors, administrators) sees nothing.
The weekly reminder (周提醒) is ``insight.reviews_weekly``; the files are ``reviews_xlsx`` and
``reviews_pdf``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, QuerySet, Sum
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from civicgrid.accounts.models import Department, Role
from civicgrid.accounts.scopes import Scope
from civicgrid.audit.services import audit_record
from civicgrid.cases.models import CaseClass
from civicgrid.errors import DomainError, NotFound
from civicgrid.insight import access, indicators
from civicgrid.insight.models import Alert, AlertKind, CaseDay, EventDay, Review, ReviewKind, ScoreKind
from civicgrid.insight.periods import month_span, quarter_span
from civicgrid.regions.models import Region

PAYLOAD_VERSION = 1
UNIT_KINDS = ("street", "community", "grid", "department")
# The measures kept with each row (the rates carry the rest): enough for the KPI tables.
KEPT = ("cases", "registered", "dispatched", "handled", "closed", "closed_on_time", "reworked")
KEPT += ("extended", "open", "overdue", "visited")
TOP_CLASSES = 10
TOP_ALERTS = 30
# The whole district, as the periodic task reads it (it has no user).
SYSTEM = Scope(user_id=None, roles=frozenset({Role.OPERATOR}), everything=True)
GENERATORS = (Role.OPERATOR, Role.SHIFT_LEAD)


# -- periods ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    kind: str
    start: date
    end: date  # inclusive

    @property
    def label(self) -> str:
        if self.kind == ReviewKind.QUARTERLY:
            return f"{self.start.year}-Q{(self.start.month - 1) // 3 + 1}"
        return f"{self.start:%Y-%m}"

    @property
    def months(self) -> list[Period]:
        found, day = [], self.start
        while day <= self.end:
            found.append(month_period(day))
            day = found[-1].end + timedelta(days=1)
        return found


def month_period(day: date) -> Period:
    return Period(ReviewKind.MONTHLY, *month_span(day))


def quarter_period(day: date) -> Period:
    return Period(ReviewKind.QUARTERLY, *quarter_span(day))


def period_parse(kind: str, text: str) -> Period:
    """ "2026-10" for a month, "2026-Q3" for a quarter; anything else is a ``bad_period`` error."""
    text = (text or "").strip().upper()
    if kind == ReviewKind.MONTHLY and (m := re.fullmatch(r"(\d{4})-(\d{1,2})", text)):
        if 1 <= int(m[2]) <= 12:
            return month_period(date(int(m[1]), int(m[2]), 1))
    if kind == ReviewKind.QUARTERLY and (m := re.fullmatch(r"(\d{4})-?Q([1-4])", text)):
        return quarter_period(date(int(m[1]), 3 * int(m[2]) - 2, 1))
    if kind not in (ReviewKind.MONTHLY, ReviewKind.QUARTERLY):
        raise DomainError("bad_review_kind", _("Reviews are monthly or quarterly."), {"kind": kind})
    raise DomainError(
        "bad_period",
        _("Give a month as YYYY-MM or a quarter as YYYY-Qn."),
        {"kind": kind, "period": text},
    )


# -- generating ------------------------------------------------------------------------------------


def _names(kind: str, ids) -> dict[int, dict]:
    if kind == "department":
        rows = Department.objects.filter(id__in=ids).values_list("id", "code", "name")
        return {i: {"code": c, "name": n, "parent": 0} for i, c, n in rows}
    rows = Region.objects.filter(id__in=ids).values_list("id", "code", "name", "parent_id")
    return {i: {"code": c, "name": n, "parent": p or 0} for i, c, n, p in rows}


def _rate_values(values: dict) -> dict:
    return {k: (None if v is None else round(v, 4)) for k, v in values.items()}


def _ranked(kind: str, table: list[indicators.UnitRow]) -> list[dict]:
    """The unit table as frozen rows, ranked by the composite score (ties share a rank; a unit
    without a score is listed last, unranked)."""
    names = _names(kind, [r.unit_id for r in table])
    parents = _names("street", {n["parent"] for n in names.values() if n["parent"]})
    rows, rank, previous = [], 0, None
    for position, r in enumerate(table, start=1):
        value = r.composite.value
        if value is not None and value != previous:
            rank, previous = position, value
        name = names.get(r.unit_id, {"code": str(r.unit_id), "name": "", "parent": 0})
        index = r.grid_index
        rows.append(
            {
                "id": r.unit_id,
                "code": name["code"],
                "name": name["name"],
                "parent": parents.get(name["parent"], {}).get("name", ""),
                "figures": {m: r.figures.get(m, 0) for m in KEPT},
                "rates": _rate_values(r.rates),
                "score": value,
                "grade": r.composite.grade,
                "hotline": r.hotline.value,
                "hotline_grade": r.hotline.grade,
                "index": index.value if index else None,
                "index_grade": index.grade if index else "",
                "rank": rank if value is not None else None,
            }
        )
    ranked = sum(1 for row in rows if row["rank"] is not None)
    for row in rows:
        row["of"] = ranked
    return rows


def _summary(fig: dict, composite_items, hotline_items, weight: float) -> dict:
    values = indicators.rates(fig, weight)
    composite, hotline = indicators.score(values, composite_items), indicators.score(values, hotline_items)
    return {
        "figures": {m: fig.get(m, 0) for m in KEPT},
        "rates": _rate_values(values),
        "score": composite.value,
        "grade": composite.grade,
        "hotline": hotline.value,
        "hotline_grade": hotline.grade,
    }


def _classes(period: Period) -> dict[str, dict[str, list]]:
    """The most reported 大类 and 小类, for the district ("0") and each street (by id)."""
    base = CaseDay.objects.filter(day__gte=period.start, day__lte=period.end).order_by()
    out: dict[str, dict[str, list]] = {}
    for level, column in (("major", "major_class_id"), ("minor", "case_class_id")):
        counts: dict[str, dict[int, int]] = {}
        for street, cls, n in base.values_list("street_id", column).annotate(n=Sum("cases")):
            if not cls or not n:
                continue
            for key in ("0", str(street)):
                bucket = counts.setdefault(key, {})
                bucket[cls] = bucket.get(cls, 0) + n
        tops = {k: sorted(v.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP_CLASSES] for k, v in counts.items()}
        names = dict(
            (i, (c, n))
            for i, c, n in CaseClass.objects.filter(
                id__in={cls for top in tops.values() for cls, _n in top}
            ).values_list("id", "code", "name")
        )
        for key, top in tops.items():
            out.setdefault(key, {})[level] = [
                {"code": names.get(cls, ("", ""))[0], "name": names.get(cls, ("", ""))[1], "cases": n}
                for cls, n in top
            ]
    return out


def _trend(period: Period) -> dict[str, dict]:
    """Per day: cases reported (as the figures count them) and cases closed (moves that day)."""
    days = [period.start + timedelta(days=i) for i in range((period.end - period.start).days + 1)]
    index = {d: i for i, d in enumerate(days)}
    series: dict[str, dict[str, list[int]]] = {}

    def add(street: int, day: date, name: str, n: int) -> None:
        for key in ("0", str(street)):
            entry = series.setdefault(key, {"cases": [0] * len(days), "closed": [0] * len(days)})
            entry[name][index[day]] += n or 0

    reported = CaseDay.objects.filter(day__gte=period.start, day__lte=period.end).order_by()
    for street, day, n in reported.values_list("street_id", "day").annotate(n=Sum("cases")):
        add(street, day, "cases", n)
    # A case closes by the close move, or at once when a grid worker resolves it on the spot.
    closed = EventDay.objects.filter(
        day__gte=period.start, day__lte=period.end, action__in=("close", "self_resolve")
    ).order_by()
    for street, day, n in closed.values_list("street_id", "day").annotate(n=Sum("n")):
        add(street, day, "closed", n)
    return {"days": [d.isoformat() for d in days], "series": series}


def _areas(period: Period, streets: list[dict], weight: float, items) -> dict[str, dict]:
    """The district's overview and each street's (key "0" is the district)."""
    composite_items, hotline_items = items
    district = indicators.totals(scope=SYSTEM, start=period.start, end=period.end)
    areas = {"0": {"name": _district_name(), **_summary(district, composite_items, hotline_items, weight)}}
    for row in streets:
        areas[str(row["id"])] = {"name": row["name"], **{k: row[k] for k in ("figures", "rates", "score")}}
        areas[str(row["id"])].update(grade=row["grade"], hotline=row["hotline"])
        areas[str(row["id"])].update(hotline_grade=row["hotline_grade"], rank=row["rank"], of=row["of"])
    return areas


def _district_name() -> str:
    found = Region.objects.filter(parent__isnull=True).order_by("code").values_list("name", flat=True)
    return next(iter(found), "")


def _units(period: Period, kinds=UNIT_KINDS) -> dict[str, list[dict]]:
    return {
        kind: _ranked(
            kind, indicators.unit_table(scope=SYSTEM, unit=kind, start=period.start, end=period.end)
        )
        for kind in kinds
    }


def monthly_payload(period: Period) -> dict:
    weight = indicators.InsightSettings.current().basic_weight
    items = indicators.score_items(ScoreKind.COMPOSITE), indicators.score_items(ScoreKind.HOTLINE)
    units = _units(period)
    areas = _areas(period, units["street"], weight, items)
    classes, trend = _classes(period), _trend(period)
    for key, area in areas.items():
        area["top_major"] = classes.get(key, {}).get("major", [])
        area["top_minor"] = classes.get(key, {}).get("minor", [])
        area["trend"] = trend["series"].get(key, {"cases": [], "closed": []})
    return {
        "version": PAYLOAD_VERSION,
        "period": period.label,
        "indicators": indicators.RATES,
        "days": trend["days"],
        "units": units,
        "areas": areas,
    }


def _alerts(period: Period) -> dict:
    alerts = Alert.objects.filter(day__gte=period.start, day__lte=period.end)
    counts: dict[str, dict[str, int]] = {}
    for street, kind, severity, n in (
        alerts.order_by().values_list("street_id", "kind", "severity").annotate(n=Count("id"))
    ):
        for key in ("0", str(street or 0)):
            bucket = counts.setdefault(key, {})
            bucket[kind] = bucket.get(kind, 0) + n
            bucket[f"severity_{severity}"] = bucket.get(f"severity_{severity}", 0) + n

    def listed(query) -> list[dict]:
        return [
            {
                "kind": a.kind,
                "severity": a.severity,
                "day": a.day.isoformat(),
                "street_id": a.street_id or 0,
                "explanation": a.explanation,
                "observed": a.observed,
                "expected": round(a.expected, 2),
                "link": a.link,
            }
            for a in query.order_by("-severity", "-observed", "-day", "id")[:TOP_ALERTS]
        ]

    return {
        "counts": counts,
        "top": listed(alerts.exclude(kind=AlertKind.REPEAT)),
        "repeat": listed(alerts.filter(kind=AlertKind.REPEAT)),
    }


def _whistles(period: Period) -> dict:
    from civicgrid.whistles.selectors import whistle_figures  # whistles are optional to this app

    found = whistle_figures(scope=SYSTEM, date_from=period.start, date_to=period.end)
    ids = dict(
        Department.objects.filter(code__in=[d["department"] for d in found["departments"]]).values_list(
            "code", "id"
        )
    )
    streets = dict(
        Region.objects.filter(code__in=[s["street"] for s in found["by_street"]]).values_list("code", "id")
    )
    return {
        "total": found["total"],
        "by_kind": found["by_kind"],
        "by_street": [s | {"id": streets.get(s["street"], 0)} for s in found["by_street"]],
        "departments": [d | {"id": ids.get(d["department"], 0)} for d in found["departments"]],
        "resolution": found["resolution"],
    }


def quarterly_payload(period: Period) -> dict:
    weight = indicators.InsightSettings.current().basic_weight
    items = indicators.score_items(ScoreKind.COMPOSITE), indicators.score_items(ScoreKind.HOTLINE)
    units = _units(period, ("street", "department"))
    areas = _areas(period, units["street"], weight, items)
    classes = _classes(period)
    months, series = [], {}
    for month in period.months:
        months.append(month.label)
        by_street = indicators.figures(scope=SYSTEM, unit="street", start=month.start, end=month.end)
        series.setdefault("0", {})[month.label] = indicators.totals(
            scope=SYSTEM, start=month.start, end=month.end
        )
        for street, fig in by_street.items():
            series.setdefault(str(street), {})[month.label] = fig
    for key, area in areas.items():
        area["top_major"] = classes.get(key, {}).get("major", [])
        area["top_minor"] = classes.get(key, {}).get("minor", [])
        # A street with no cases in a month has no figures row: its month counts zeros.
        area["months"] = [_summary(series.get(key, {}).get(m, {}), *items, weight) for m in months]
    return {
        "version": PAYLOAD_VERSION,
        "period": period.label,
        "indicators": indicators.RATES,
        "months": months,
        "units": units,
        "areas": areas,
        "alerts": _alerts(period),
        "whistles": _whistles(period),
    }


def _title(period: Period) -> str:
    # Stored once, so in the installation's language, whoever asked for it.
    with translation.override(settings.LANGUAGE_CODE):
        return title_of(period.kind, period.label, _district_name())


def title_of(kind: str, label: str, district: str) -> str:
    """A review's title in the active language (pages show this; ``Review.title`` keeps the
    installation's language of the day it was made)."""
    if kind == ReviewKind.QUARTERLY:
        text = _("%(district)s quarterly scheduling pack %(period)s")
    elif kind == ReviewKind.WEEKLY:
        return _("Weekly reminder, week of %(monday)s") % {"monday": label}
    else:
        text = _("%(district)s monthly review %(period)s")
    return text % {"district": district, "period": label}


def titles(found: list[Review]) -> None:
    """Set ``display_title`` on each review (one lookup of the district's name for all)."""
    district = _district_name()
    for review in found:
        label = review.period_start.isoformat()
        if review.kind != ReviewKind.WEEKLY:
            label = (month_period if review.kind == ReviewKind.MONTHLY else quarter_period)(
                review.period_start
            ).label
        review.display_title = title_of(review.kind, label, district)


def review_generate(*, period: Period, by=None, replace: bool = False, request=None) -> tuple[Review, bool]:
    """The review of ``period``: made now, or the archived one (``replace`` makes it again).
    Returns (review, made). Made on demand (``by``) it is audited; the periodic run too, as the
    system's."""
    if not replace:
        found = Review.objects.filter(kind=period.kind, period_start=period.start).first()
        if found is not None:
            return found, False
    if period.end >= timezone.localdate():
        raise DomainError(
            "period_not_over",
            _("A review is made once its period is over."),
            {"period": period.label},
        )
    payload = monthly_payload(period) if period.kind == ReviewKind.MONTHLY else quarterly_payload(period)
    title = _title(period)
    values = {
        "period_end": period.end,
        "title": title,
        "payload": payload,
        "generated_at": timezone.now(),
        "generated_by": by,
    }
    try:
        with transaction.atomic():
            review, made = Review.objects.update_or_create(
                kind=period.kind, period_start=period.start, defaults=values
            )
            audit_record(
                action="insight.review_generate",
                actor=by,
                request=request,
                object_type="insight.review",
                object_id=review.pk,
                detail={"kind": period.kind, "period": period.label, "replaced": not made},
            )
    except IntegrityError:  # the periodic run and a click at the same moment: keep the first
        return Review.objects.get(kind=period.kind, period_start=period.start), False
    return review, True


def reviews_due(*, today: date | None = None) -> list[Review]:
    """The periodic run: last month's review and last quarter's pack, if not made yet. Run daily,
    it catches up a day the worker was down; on the 1st it makes the month's."""
    today = today or timezone.localdate()
    made = []
    last_month = month_period(today.replace(day=1) - timedelta(days=1))
    last_quarter = quarter_period(quarter_period(today).start - timedelta(days=1))
    for period in (last_month, last_quarter):
        review, new = review_generate(period=period)
        if new:
            made.append(review)
    return made


# -- reading through the scope ---------------------------------------------------------------------


def may_read(scope: Scope) -> bool:
    return access.may_use(scope)


def may_generate(scope: Scope) -> bool:
    return scope.everything and scope.has_role(*GENERATORS)


def _readable(scope: Scope) -> None:
    if not may_read(scope):
        raise DomainError(
            "reviews_forbidden", _("Reviews are for the district's and streets' staff."), status=403
        )


def review_list(*, scope: Scope, kind: str = "") -> QuerySet[Review]:
    """The archive, newest first (a quarter after its last month). The weekly runs (district-wide counts) are the command
    centre's only."""
    _readable(scope)
    query = Review.objects.defer("payload").order_by("-period_end", "kind")
    if kind:
        query = query.filter(kind=kind)
    if not scope.everything:
        query = query.exclude(kind=ReviewKind.WEEKLY)
    return query


def review_get(*, scope: Scope, review_id: int) -> Review:
    review = review_list(scope=scope).defer(None).filter(pk=review_id).first()
    if review is None:
        raise NotFound("review_not_found", _("There is no review %(id)s.") % {"id": review_id})
    return review


def _rows_in_scope(kind: str, rows: list[dict], scope: Scope) -> list[dict]:
    if scope.everything:
        return rows
    allowed = scope.department_ids if kind == "department" else scope.region_ids
    return [r for r in rows if r["id"] in allowed]


def review_view(review: Review, scope: Scope) -> dict:
    """What the reader may see of a review: their rows of every table, the overviews of the
    district (command centre) or of their streets, and the quarter's warnings and whistles there."""
    payload = review.payload or {}
    units = {k: _rows_in_scope(k, rows, scope) for k, rows in payload.get("units", {}).items()}
    areas = payload.get("areas", {})
    if scope.everything:
        shown = [areas["0"]] if "0" in areas else []
    else:
        shown = [a for key, a in areas.items() if key != "0" and int(key) in scope.region_ids]
    view = {
        "id": review.pk,
        "kind": review.kind,
        "title": title_of(review.kind, payload.get("period", ""), _district_name()),
        "period": payload.get("period", ""),
        "period_start": review.period_start,
        "period_end": review.period_end,
        "generated_at": timezone.localtime(review.generated_at),
        "indicators": payload.get("indicators", []),
        "days": payload.get("days", []),
        "months": payload.get("months", []),
        "units": units,
        "areas": shown,
        "whole_district": scope.everything,
    }
    if review.kind == ReviewKind.QUARTERLY:
        view.update(_quarter_view(payload, units, scope))
    if review.kind == ReviewKind.WEEKLY:
        view["weekly"] = payload
    return view


def _in_streets(street_id: int, scope: Scope) -> bool:
    return scope.everything or street_id in scope.region_ids


def _quarter_view(payload: dict, units: dict[str, list[dict]], scope: Scope) -> dict:
    alerts = payload.get("alerts", {})
    counts: dict[str, int] = {}
    for key, bucket in alerts.get("counts", {}).items():
        if (key == "0") == scope.everything and (scope.everything or int(key) in scope.region_ids):
            for name, n in bucket.items():
                counts[name] = counts.get(name, 0) + n
    whistles = payload.get("whistles", {})
    streets = [s for s in whistles.get("by_street", []) if _in_streets(s.get("id", 0), scope)]
    departments = [
        d for d in whistles.get("departments", []) if scope.everything or d.get("id") in scope.department_ids
    ]
    return {
        "alert_counts": counts,
        "alerts": [
            a | {"href": case_link(a["link"])}
            for a in alerts.get("top", [])
            if _in_streets(a["street_id"], scope)
        ],
        "repeats": [
            a | {"href": case_link(a["link"])}
            for a in alerts.get("repeat", [])
            if _in_streets(a["street_id"], scope)
        ],
        "whistles": {
            # The district's totals are the command centre's; a street sees its own line.
            "total": whistles.get("total", 0) if scope.everything else sum(s["total"] for s in streets),
            "by_kind": whistles.get("by_kind", {}) if scope.everything else {},
            "by_street": streets,
            "departments": departments,
        },
        "slow": {kind: slow_units(units.get(kind, [])) for kind in ("street", "department")},
    }


def slow_units(rows: list[dict], n: int = 5) -> list[dict]:
    """The units that most need a push: lowest on-time closure rate, then the most overdue."""
    scored = [r for r in rows if r["rates"].get("on_time_closure") is not None]
    scored.sort(key=lambda r: (r["rates"]["on_time_closure"], -r["figures"].get("overdue", 0), r["code"]))
    return scored[:n]


def case_link(link: str) -> str:
    """An alert's link as a path: the warnings store a query string for the case list."""
    if not link or link.startswith("/"):
        return link
    return "/cases/list/?" + link.lstrip("?")

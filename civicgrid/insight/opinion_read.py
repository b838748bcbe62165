"""Reading opinion monitoring: who may see which street's weeks, the week's top terms, its rising
topics, the negative share over the year and the watch-list hits. The page and the API both call
``opinion_view``; the scope is decided here and nowhere else.

Who: the command-centre and street roles (``ROLES``); a street operator sees their street's weeks,
the district's staff every street and the district as a whole. The figures are per street, so a
role over a community or a grid (which sees only part of a street) is refused, not shown its
street's words.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta

from django.utils import timezone
from django.utils.translation import gettext as _

from civicgrid.accounts.models import Role
from civicgrid.accounts.scopes import Scope
from civicgrid.errors import DomainError, NotFound
from civicgrid.insight.models import Alert, AlertKind, OpinionWeek
from civicgrid.insight.opinion import DISTRICT, week_of
from civicgrid.regions.models import Level, Region

ROLES = (Role.OPERATOR, Role.SHIFT_LEAD, Role.STREET_OPERATOR)
SHOWN_TERMS = 30
TREND_WEEKS = 52
# Rising topics (docs/opinion.md): a term rises when its share of this week's texts is at least
# RISING_RATIO times its share over the BASELINE_WEEKS before, both add-one smoothed, and this
# week at least RISING_MIN_TEXTS texts used it.
BASELINE_WEEKS = 4
RISING_RATIO = 2.0
RISING_MIN_TEXTS = 5
SHOWN_RISING = 20
SHOWN_HITS = 100

EARLIEST, LATEST = date(1970, 1, 1), date(9000, 12, 31)
_ISO_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")


def parse_week(text: str) -> date:
    """A week as its Monday, from any of its days (YYYY-MM-DD) or an ISO week (YYYY-Www); empty:
    this week."""
    text = (text or "").strip()
    if not text:
        return week_of(timezone.localdate())
    try:
        found = _ISO_WEEK.match(text)
        day = date.fromisocalendar(int(found[1]), int(found[2]), 1) if found else date.fromisoformat(text)
        if not EARLIEST <= day <= LATEST:  # the trend reaches a year back: keep clear of date.min
            raise ValueError(text)
        return week_of(day)
    except ValueError:
        raise DomainError(
            "bad_week", _("A week is a date (YYYY-MM-DD) or an ISO week (YYYY-Www)."), {"week": text}
        ) from None


@dataclass(frozen=True)
class Readable:
    district: bool  # the whole district's figures (street 0) and every street
    streets: list[Region]


def readable(scope: Scope) -> Readable:
    """The streets whose figures the reader may see; refused (403) when none."""
    streets = Region.objects.filter(level=Level.STREET, statistical_only=False).order_by("code")
    if scope.has_role(*ROLES) and scope.everything:
        return Readable(district=True, streets=list(streets))
    found = list(streets.filter(id__in=scope.region_ids)) if scope.has_role(*ROLES) else []
    if not found:
        raise DomainError("opinion_forbidden", _("Opinion monitoring is not part of your work."), status=403)
    return Readable(district=False, streets=found)


@dataclass(frozen=True)
class Term:
    term: str
    texts: int
    share: float  # of the week's texts


@dataclass(frozen=True)
class Rising:
    term: str
    texts: int
    share: float
    base_texts: int  # texts using it over the baseline weeks
    base_share: float
    ratio: float  # smoothed share now ÷ smoothed share before


@dataclass(frozen=True)
class TrendPoint:
    week: date
    texts: int
    negative: int
    share: float | None  # None: no texts that week


@dataclass(frozen=True)
class StreetWeek:
    street: Region
    texts: int
    negative: int
    share: float | None
    top: list[str]  # its three most used terms


@dataclass(frozen=True)
class OpinionView:
    week: date
    street: Region | None  # None: the whole district
    readable: Readable
    texts: int
    negative: int
    negative_share: float | None
    computed_at: object  # datetime | None: None when the week has not been computed
    top: list[Term]
    rising: list[Rising]
    trend: list[TrendPoint]
    hits: list[Alert]
    weeks: list[date]  # weeks with figures, newest first (the picker)
    streets: list[StreetWeek]  # the district's view only: each street's week, to compare


def _streets(week: date, allowed: Readable) -> list[StreetWeek]:
    rows = {r.street_id: r for r in OpinionWeek.objects.filter(week=week, street_id__gt=0)}
    found = []
    for street in allowed.streets:
        r = rows.get(street.pk)
        n, neg = (r.texts, r.negative) if r else (0, 0)
        top = sorted(r.terms.items(), key=lambda kv: (-kv[1], kv[0]))[:3] if r else []
        found.append(StreetWeek(street, n, neg, neg / n if n else None, [t for t, _n in top]))
    return found


def rising_terms(
    now: dict[str, int], texts: int, before: Counter, before_texts: int, *, limit: int = SHOWN_RISING
) -> list[Rising]:
    """Terms whose share this week beats their share before: ratio of add-one smoothed shares
    (a term never seen before gets a finite ratio; a week without history rises nothing, as its
    baseline share is 1/1)."""
    found = []
    for term, n in now.items():
        if n < RISING_MIN_TEXTS:
            continue
        b = before.get(term, 0)
        ratio = ((n + 1) / (texts + 1)) / ((b + 1) / (before_texts + 1))
        if ratio >= RISING_RATIO:
            found.append(
                Rising(
                    term=term,
                    texts=n,
                    share=n / texts if texts else 0.0,
                    base_texts=b,
                    base_share=b / before_texts if before_texts else 0.0,
                    ratio=ratio,
                )
            )
    found.sort(key=lambda r: (-r.ratio, -r.texts, r.term))
    return found[:limit]


def _street(allowed: Readable, code: str) -> Region | None:
    code = (code or "").strip()
    if not code:
        return None if allowed.district else allowed.streets[0]
    for street in allowed.streets:
        if street.code == code:
            return street
    # Outside the scope answers like a street that does not exist.
    raise NotFound("unknown_region", _("There is no region %(c)s.") % {"c": code})


def _hits(week: date, street: Region | None) -> list[Alert]:
    """The week's watch-list alerts of the street, or of the whole district (``street`` None, which
    only a district reader gets: ``_street``), the not-yet-placed included."""
    alerts = Alert.objects.filter(kind=AlertKind.KEYWORD, day__gte=week, day__lte=week + timedelta(days=6))
    if street is not None:
        alerts = alerts.filter(street=street)
    return list(alerts.select_related("street").order_by("-day", "-severity", "term")[:SHOWN_HITS])


def opinion_view(*, scope: Scope, week: str = "", street: str = "") -> OpinionView:
    allowed = readable(scope)
    monday = parse_week(week)
    place = _street(allowed, street)
    street_id = place.pk if place is not None else DISTRICT
    first = monday - timedelta(weeks=TREND_WEEKS - 1)
    rows = {
        r.week: r for r in OpinionWeek.objects.filter(street_id=street_id, week__gte=first, week__lte=monday)
    }
    row = rows.get(monday)
    before = Counter()
    before_texts = 0
    for i in range(1, BASELINE_WEEKS + 1):
        past = rows.get(monday - timedelta(weeks=i))
        if past is not None:
            before.update(past.terms)
            before_texts += past.texts
    texts = row.texts if row else 0
    negative = row.negative if row else 0
    terms = row.terms if row else {}
    top = sorted(terms.items(), key=lambda kv: (-kv[1], kv[0]))[:SHOWN_TERMS]
    trend = []
    for i in range(TREND_WEEKS):
        day = first + timedelta(weeks=i)
        r = rows.get(day)
        n, neg = (r.texts, r.negative) if r else (0, 0)
        trend.append(TrendPoint(day, n, neg, neg / n if n else None))
    weeks = sorted(
        OpinionWeek.objects.filter(street_id=street_id).values_list("week", flat=True), reverse=True
    )
    return OpinionView(
        week=monday,
        street=place,
        readable=allowed,
        texts=texts,
        negative=negative,
        negative_share=negative / texts if texts else None,
        computed_at=row.computed_at if row else None,
        top=[Term(t, n, n / texts if texts else 0.0) for t, n in top],
        rising=rising_terms(terms, texts, before, before_texts),
        trend=trend,
        hits=_hits(monday, place),
        weeks=weeks,
        streets=_streets(monday, allowed) if place is None else [],
    )

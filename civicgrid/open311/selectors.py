"""The reads behind the GeoReport v2 endpoints: jurisdictions, services (the taxonomy's 小类),
their attributes, and the public view of requests (cases).

What the public may see is decided here, once: the cases of the served district, never voided
ones, no reporter, no internal notes; matters between neighbours or inside a family and
social-governance matters are listed without their text and with their place rounded, because
the list is open to anyone (see docs/open311.md, "What the public sees").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import F, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _

from civicgrid.cases import workflow
from civicgrid.cases.limits import cached
from civicgrid.cases.models import (
    OPEN_STATES,
    Attachment,
    Case,
    CaseClass,
    CaseEvent,
    CaseState,
    Family,
    Level,
    Urgency,
)
from civicgrid.errors import DomainError, NotFound
from civicgrid.open311.models import ServiceRequest
from civicgrid.regions import locator

# The spec's defaults for GET requests: the last 90 days, at most 1,000 rows.
WINDOW_DAYS = 90
ROWS_MAX = 1_000
IDS_MAX = 200  # service_request_id=a,b,c … a longer list is a bulk export, not a lookup
# Steps whose note a resident may read (as on the public follow page): the newest is status_notes.
PUBLIC_NOTE_ACTIONS = (workflow.Action.FEEDBACK, workflow.Action.VOID, workflow.Action.CLOSE)
# Matters whose text and exact place stay off the public list (they concern named households).
PRIVATE_LEVELS = (Level.FAMILY, Level.NEIGHBOURHOOD)
COARSE_DIGITS = 3  # ~100 m: the street block, not the door


@dataclass(frozen=True)
class Jurisdiction:
    region_id: int
    code: str
    name: str


def jurisdiction_resolve(value: str | None) -> Jurisdiction:
    """The served district named by ``jurisdiction_id``: its 6- or 12-digit code, or the domain
    in settings.OPEN311_JURISDICTION_DOMAIN. Optional while the active generation holds one
    district (the spec requires it only of servers with several)."""
    served = _served_districts()
    value = (value or "").strip()
    if not value:
        if len(served) == 1:
            return served[0]
        raise DomainError(
            "jurisdiction_required", _("This server serves several districts: give jurisdiction_id.")
        )
    domain = (settings.OPEN311_JURISDICTION_DOMAIN or "").strip().lower()
    for district in served:
        if value in (district.code, district.code[:6]) or (domain and value.lower() == domain):
            return district
    raise NotFound("unknown_jurisdiction", _("There is no jurisdiction %(j)s here.") % {"j": value[:40]})


# (the loaded index, its districts): a new index object (another generation, a forget()) recomputes.
_served: list = [None, []]


def _served_districts() -> list[Jurisdiction]:
    """The districts of the active boundary generation, from its loaded grid index (no query);
    a committed generation never changes, so they are worked out once per loaded index."""
    loaded = locator.loaded_index()
    seen, served = _served
    if seen is not loaded:
        found: dict[str, Jurisdiction] = {}
        for place in loaded.places:
            district = place["district"]
            if district and district["code"] not in found:
                code = district["code"]
                found[code] = Jurisdiction(loaded.region_ids[code], code, district["name"])
        served = sorted(found.values(), key=lambda d: d.code)
        _served[:] = [loaded, served]
    return served


# --- services -------------------------------------------------------------------------------------
def service_list() -> list[dict]:
    """The active 小类 with their 大类 (group), cached in the process for a few seconds: every
    POST checks its service_code against it."""

    def build():
        rows = (
            CaseClass.objects.filter(active=True, parent__isnull=False, parent__active=True)
            .select_related("parent")
            .order_by("code")
        )
        return [
            {
                "service_code": c.code,
                "service_name": c.name,
                "description": c.register_rule or c.name,
                "metadata": True,
                "type": "realtime",
                "keywords": ",".join(c.keywords or []),
                "group": c.parent.name,
                "family": c.family,
            }
            for c in rows
        ]

    return cached("open311.services", build)


def service_get(code: str) -> dict:
    found = next((s for s in service_list() if s["service_code"] == code), None)
    if found is None:
        raise NotFound("unknown_service", _("There is no service %(c)s.") % {"c": (code or "")[:16]})
    return found


# Level choices a post may set (district matters are found by staff, not reported as such).
POSTABLE_LEVELS = [lv for lv in Level if lv != Level.DISTRICT]


def attribute_keys() -> dict[str, tuple[bool, frozenset[str]]]:
    """{code: (required, allowed keys)} of ``service_attributes``, without building its labels."""
    return _ATTRIBUTE_KEYS


def service_attributes() -> list[dict]:
    """The attributes every service takes: how urgent, and the 四级四事 level of the matter."""
    return [
        {
            "variable": True,
            "code": "urgency",
            "datatype": "singlevaluelist",
            "required": False,
            "datatype_description": _("One of the keys; normal when not given."),
            "order": 1,
            "description": _("How urgent is it?"),
            "values": [{"key": u.value, "name": str(u.label)} for u in Urgency],
        },
        {
            "variable": True,
            "code": "level",
            "datatype": "singlevaluelist",
            "required": False,
            "datatype_description": _("One of the keys; a street matter when not given."),
            "order": 2,
            "description": _("Whose matter is it (family, neighbours, estate, community, street)?"),
            "values": [{"key": lv.value, "name": str(lv.label)} for lv in POSTABLE_LEVELS],
        },
    ]


# --- requests -------------------------------------------------------------------------------------
def _public_cases(jurisdiction: Jurisdiction) -> QuerySet:
    """Every case the public may list (the district's, not voided), as rows of plain values:
    plain values, not models, so that a 1,000-row page builds no objects and never reads (nor
    decrypts) the reporter's fields."""
    latest_note = (
        CaseEvent.objects.filter(case=OuterRef("pk"), action__in=PUBLIC_NOTE_ACTIONS)
        .exclude(note="")
        .order_by("-seq")
        .values("note")[:1]
    )
    photo = (
        Attachment.objects.filter(case=OuterRef("pk"), public=True, kind="image")
        .order_by("id")
        .values("id")[:1]
    )
    return (
        Case.objects.filter(district_id=jurisdiction.region_id)
        .exclude(state=CaseState.VOIDED)
        .values(
            *PUBLIC_COLUMNS,
            service_code=F("case_class__code"),
            service_name=F("case_class__name"),
            family=F("case_class__family"),
            # The lead department; the street office when the locality (属地) owns the case.
            agency=Coalesce(F("department__name"), F("street__name")),
            grid_code=F("grid__code"),
            public_note=Subquery(latest_note),
            public_photo=Subquery(photo),
        )
    )


PUBLIC_COLUMNS = ("id", "number", "state", "title", "description", "address", "lon", "lat", "level",
                  "created_at", "updated_at", "due_at")  # fmt: skip


@dataclass
class RequestFilter:
    ids: list[str]
    service_codes: list[str]
    start: datetime
    end: datetime
    states: list[str] | None


def _when(name: str, value: str) -> datetime | None:
    value = (value or "").strip()
    if not value:
        return None
    # w3 datetimes; "+" in an offset arrives as a space when a client forgot to encode it.
    parsed = parse_datetime(value.replace(" ", "+")) if "T" in value else None
    if parsed is None:
        day = parse_date(value) if "T" not in value else None
        if day is None:
            raise DomainError(
                "bad_date", _("%(f)s is not an ISO 8601 date-time.") % {"f": name}, {"field": name}
            )
        parsed = datetime.combine(day, datetime.min.time())
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed)
    return parsed


def _codes(value: str) -> list[str]:
    return [v.strip() for v in (value or "").split(",") if v.strip()]


def request_filter(params) -> RequestFilter:
    """The spec's filters, checked: ids override the rest; dates span at most 90 days (the last
    90 when none is given); status is open and/or closed."""
    ids = _codes(params.get("service_request_id", ""))
    if len(ids) > IDS_MAX:
        raise DomainError("too_many_ids", _("At most %(n)d service_request_id at once.") % {"n": IDS_MAX})
    codes = _codes(params.get("service_code", ""))
    known = {s["service_code"] for s in service_list()}
    unknown = [c for c in codes if c not in known]
    if unknown and not ids:
        raise DomainError("unknown_service", _("There is no service %(c)s.") % {"c": unknown[0][:16]})
    start, end = _when("start_date", params.get("start_date")), _when("end_date", params.get("end_date"))
    window = timedelta(days=WINDOW_DAYS)
    if start and end and end < start:
        raise DomainError("bad_date_range", _("end_date is before start_date."))
    if start and end and end - start > window:
        raise DomainError(
            "date_range_too_long", _("The dates may span at most %(n)d days.") % {"n": WINDOW_DAYS}
        )
    end = end or (start + window if start else timezone.now())
    start = start or end - window
    states = None
    status = _codes(params.get("status", ""))
    if status:
        bad = [s for s in status if s not in ("open", "closed")]
        if bad:
            raise DomainError(
                "bad_status", _("status is open, closed or both (not %(s)s).") % {"s": bad[0][:16]}
            )
        states = sorted(OPEN_STATES) * ("open" in status) + [CaseState.CLOSED] * ("closed" in status)
    return RequestFilter(ids=ids, service_codes=codes, start=start, end=end, states=states)


def request_list(*, jurisdiction: Jurisdiction, filters: RequestFilter) -> list[dict]:
    """At most ROWS_MAX public cases, newest first. ``ids`` override every other filter, as the
    spec says; otherwise the date range always applies, so the list walks the newest-first
    index over one window rather than the whole table."""
    query = _public_cases(jurisdiction)
    if filters.ids:
        return list(query.filter(number__in=filters.ids).order_by("-created_at", "-id")[:ROWS_MAX])
    query = query.filter(created_at__gte=filters.start, created_at__lte=filters.end)
    if filters.service_codes:
        query = query.filter(case_class__code__in=filters.service_codes)
    if filters.states is not None:
        query = query.filter(state__in=filters.states)
    return list(query.order_by("-created_at", "-id")[:ROWS_MAX])


def request_get(*, jurisdiction: Jurisdiction, number: str) -> dict:
    case = _public_cases(jurisdiction).filter(number=number).order_by().first()
    if case is None:
        raise NotFound("request_not_found", _("There is no service request %(n)s.") % {"n": number[:40]})
    return case


def token_get(*, jurisdiction: Jurisdiction, token: str) -> ServiceRequest:
    """The request behind a token. A voided case's token still answers (its id tells the client
    the post was received); GET requests/{id} then says it is not public."""
    found = (
        ServiceRequest.objects.filter(token=token, case__district_id=jurisdiction.region_id)
        .select_related("case")
        .only("token", "case__number")
        .first()
    )
    if found is None:
        raise NotFound("token_not_found", _("There is no token %(t)s.") % {"t": token[:40]})
    return found


def is_private(row: dict) -> bool:
    """Whether the public list shows the case without its text and with a rounded place."""
    return row["level"] in PRIVATE_LEVELS or row["family"] == Family.GOVERNANCE


_ATTRIBUTE_KEYS = {
    "urgency": (False, frozenset(Urgency.values)),
    "level": (False, frozenset(lv.value for lv in POSTABLE_LEVELS)),
}

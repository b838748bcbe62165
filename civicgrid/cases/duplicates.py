"""Is this already reported? Open cases of the same 小类, near the place and recent, ranked.

The query is one index range per nearby spatial cell: ``case_class = X AND cell IN (…) AND
created_at BETWEEN …`` on the (case_class, cell, -created_at) index (``case_class_cell``), so it
reads a handful of rows whatever the table's size (bench/bench_duplicates.py: 1,000,000 cases).
Exact distances and the text similarity (rapidfuzz) are then computed for those few rows.

Score (0–1, higher first): 0.4 × nearness (1 at the same spot, 0 at the class's radius) + 0.2 ×
recency (1 now, 0 at the window's edge) + 0.4 × text similarity (rapidfuzz WRatio of the two
texts). Without a text to compare, nearness and recency share the whole weight (2:1).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from django.db import connection
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from rapidfuzz import fuzz
from rapidfuzz.utils import default_process

from civicgrid.accounts.scopes import Scope
from civicgrid.cases import limits, selectors
from civicgrid.cases.models import OPEN_STATES, Case, CaseClass, CaseState
from civicgrid.cases.taxonomy import suggest_classes
from civicgrid.errors import DomainError
from civicgrid.geo.cells import cells_near, distance_m
from civicgrid.regions.selectors import grid_locate

DEFAULT_RADIUS_M, DEFAULT_WINDOW_DAYS = 100, 7
W_NEAR, W_RECENT, W_TEXT = 0.4, 0.2, 0.4
# Only this much of a description is compared: the gist is at the start, and WRatio's cost
# grows with the length.
TEXT_CHARS = 200
# Rows read before ranking; a crowded spot (a market street) cannot make a check slow.
ROWS_MAX = 200


@dataclass(frozen=True)
class Candidate:
    id: int
    number: str
    title: str
    state: str
    case_class: str
    created_at: datetime
    distance_m: float
    age_hours: float
    similarity: float
    score: float
    version: int

    @property
    def state_label(self) -> str:
        return str(CaseState(self.state).label)

    def public(self) -> dict:
        """What anyone may see of a candidate: no place (the distance is rounded), no people."""
        return {
            "number": self.number,
            "title": self.title,
            "state": self.state,
            "state_label": self.state_label,
            "distance_m": int(round(self.distance_m / 10.0) * 10),
            "reported_on": timezone.localdate(self.created_at),  # the district's day, not UTC's
            "similarity": round(self.similarity, 2),
        }

    def staff(self) -> dict:
        out = asdict(self)
        del out["id"]
        return out | {"state_label": self.state_label}


def rules() -> dict[int, tuple[int, int]]:
    """Radius (m) and window (days) per 小类 id, cached like the other configuration tables."""

    def build():
        rows = CaseClass.objects.filter(parent__isnull=False).values_list(
            "id", "duplicate_radius_m", "duplicate_window_days"
        )
        return {
            pk: (radius or DEFAULT_RADIUS_M, window or DEFAULT_WINDOW_DAYS) for pk, radius, window in rows
        }

    return limits.cached("duplicate_rules", build)


def _similarity(a: str, b: str) -> float:
    if not a or not b:
        return 0.0
    return fuzz.WRatio(a, b, processor=default_process) / 100.0


def _text(title: str, description: str) -> str:
    return f"{title} {description[:TEXT_CHARS]}".strip()


def find_duplicates(
    case_class_id: int | Iterable[int],
    lon: float,
    lat: float,
    text: str,
    at: datetime,
    *,
    exclude_id: int | None = None,
    limit: int = 5,
    scope: Scope | None = None,
) -> list[Candidate]:
    """Open, unmerged cases of the class(es) within each class's radius and window of ``at``
    (before or after it: a live check on an older case also finds the later reports), best
    first. ``scope``: only cases this reader may see (the staff page); None: all (intake)."""
    ids = [case_class_id] if isinstance(case_class_id, int) else list(dict.fromkeys(case_class_id))
    known = rules()
    ids = [i for i in ids if i in known]
    if not ids:
        return []
    radius = max(known[i][0] for i in ids)
    window = max(known[i][1] for i in ids)
    cells, span = cells_near(lon, lat, radius), timedelta(days=window)
    if scope is None:
        rows = _rows(ids, cells, at, span)
    else:
        query = candidate_query(ids, cells, at, span).filter(selectors.case_scope_q(scope))
        rows = query.values_list(*COLUMNS)[:ROWS_MAX]
    codes = _class_codes()
    text = _text(text, "")[: TEXT_CHARS + 100]
    found = []
    for pk, number, title, description, state, class_id, created, c_lon, c_lat, version, master_id in rows:
        if pk == exclude_id or master_id is not None or state not in OPEN_STATES:
            continue
        class_radius, class_window = known[class_id]
        dist = distance_m(lon, lat, c_lon, c_lat)
        age = abs((at - created).total_seconds())
        if dist > class_radius or age > class_window * 86400:
            continue
        near = 1.0 - dist / class_radius
        recent = 1.0 - age / (class_window * 86400)
        similar = _similarity(text, _text(title, description))
        score = (
            W_NEAR * near + W_RECENT * recent + W_TEXT * similar
            if text
            else (W_NEAR * near + W_RECENT * recent) / (W_NEAR + W_RECENT)
        )
        found.append(
            Candidate(
                id=pk,
                number=number,
                title=title,
                state=state,
                case_class=codes.get(class_id, ""),
                created_at=created,
                distance_m=round(dist, 1),
                age_hours=round(age / 3600.0, 1),
                similarity=round(similar, 3),
                score=round(score, 3),
                version=version,
            )
        )
    found.sort(key=lambda c: (-c.score, c.distance_m, c.number))
    return found[:limit]


def candidate_query(ids: list[int], cells: list[int], at: datetime, window: timedelta) -> QuerySet[Case]:
    """The rows to rank: the class(es), the nearby cells, the window — exactly the columns of the
    (case_class, cell, -created_at) index. State, merge and the case itself are checked on the
    few rows read, in Python: given "state IN (open …)" in SQL, a planner may prefer the
    (state, -created_at) index and read every open case of the window instead."""
    return Case.objects.filter(
        case_class_id__in=ids, cell__in=cells, created_at__gte=at - window, created_at__lte=at + window
    ).order_by()


COLUMNS = (
    "id", "number", "title", "description", "state", "case_class_id", "created_at", "lon", "lat", "version",
    "master_id",
)  # fmt: skip
# The intake check's SQL per shape (number of classes, of cells), as Django compiled it: building
# and compiling the queryset was four fifths of a check's CPU time (bench/bench_duplicates.py).
_SQL: dict[tuple[str, int, int], str] = {}


def _rows(ids: list[int], cells: list[int], at: datetime, span: timedelta) -> list[tuple]:
    """``candidate_query``'s rows, through its compiled SQL with this call's values."""
    key = (connection.vendor, len(ids), len(cells))
    sql = _SQL.get(key)
    if sql is None:
        sql, _params = (
            candidate_query(ids, cells, at, span).values_list(*COLUMNS)[:ROWS_MAX].query.sql_with_params()
        )
        _SQL[key] = sql
    ops = connection.ops
    # The parameters in the compiled order: classes, cells, then the window's two ends.
    params = [
        *ids,
        *cells,
        ops.adapt_datetimefield_value(at - span),
        ops.adapt_datetimefield_value(at + span),
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    convert = getattr(ops, "convert_datetimefield_value", None)  # SQLite returns text
    if convert is None:
        return rows
    at_index = COLUMNS.index("created_at")
    return [(*r[:at_index], convert(r[at_index], None, connection), *r[at_index + 1 :]) for r in rows]


def _class_codes() -> dict[int, str]:
    return limits.cached("class_codes", lambda: dict(CaseClass.objects.values_list("id", "code")))


def class_ids(codes: Iterable[str]) -> list[int]:
    """The ids of these 小类 codes (unknown codes are left out)."""
    by_code = {code: pk for pk, code in _class_codes().items()}
    known = rules()
    return [by_code[c] for c in codes if c in by_code and by_code[c] in known]


def duplicates_of_case(case: Case, *, scope: Scope | None = None, limit: int = 5) -> list[Candidate]:
    """The live candidates for a case already in (any channel): what the staff page shows."""
    if not case.case_class_id or case.master_id or not case.is_open:
        return []
    return find_duplicates(
        case.case_class_id,
        case.lon,
        case.lat,
        _text(case.title, case.description),
        case.created_at,
        exclude_id=case.pk,
        limit=limit,
        scope=scope,
    )


def intake_candidates(
    *,
    lon: float | None,
    lat: float | None,
    crs: str = "wgs84",
    case_class: str = "",
    text: str = "",
    limit: int = 5,
) -> list[Candidate]:
    """What a reporter is offered before filing: the given 小类, or (a resident rarely knows the
    taxonomy) the classes their words suggest. The point must lie in the district, like a report's."""
    if lon is None or lat is None:
        raise DomainError("location_required", _("Give the place (longitude and latitude)."))
    if len(text) > 2000:
        raise DomainError("text_too_long", _("The text is too long."), {"max": 2000})
    place = grid_locate(lon=lon, lat=lat, crs=crs)
    codes = [case_class.strip()] if case_class.strip() else [s.code for s in suggest_classes(text)]
    ids = class_ids(codes)
    if case_class.strip() and not ids:
        raise DomainError(
            "unknown_class",
            _("There is no case class %(c)s.") % {"c": case_class},
            {"case_class": case_class},
        )
    point = place["wgs84"]
    return find_duplicates(ids, point["lon"], point["lat"], text, timezone.now(), limit=limit)

"""Hotspots (Getis-Ord Gi*) over the grids of the active boundary generation, and repeat places.

**Gi*** (Getis & Ord 1992, in the standardised form of Ord & Getis 1995): for each grid i, with
binary weights w_ij = 1 for i itself and every grid sharing a boundary with it (rook adjacency:
a shared edge of positive length, not a corner), and x the grids' case counts over the window,

    Gi* = (Σ_j w_ij x_j − x̄ W_i) / (S · √((n S1_i − W_i²) / (n − 1)))

where W_i = Σ_j w_ij, S1_i = Σ_j w_ij² (= W_i here), x̄ the mean and S the (population) standard
deviation of x over all n grids. Gi* is a z-score: ≥ 1.96 is hot at 95 %, ≥ 2.576 at 99 %; the
negatives are cold. Why numpy and not PySAL's esda: docs/decisions/0010-hotspots.md.

The z-scores are computed over the whole district (a grid's neighbours may lie in another
street); who sees which grids is decided when listing. Hot grids at 99 % raise warnings.

**Repeat places**: the same spot (``Case.cell``, a ≈280 m cell) and 小类 reported at least
``repeat_count`` times within ``repeat_days`` days — the index ``case_class_cell`` serves it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import numpy as np
import shapely
from django.db.models import Count, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from civicgrid.accounts.scopes import Scope
from civicgrid.cases.models import Case, CaseClass, CaseState
from civicgrid.geo import cells
from civicgrid.insight.links import case_list_url
from civicgrid.insight.models import AlertKind, CaseDay, InsightSettings
from civicgrid.insight.periods import day_start
from civicgrid.insight.warnings import RunResult, alerts_upsert
from civicgrid.regions import locator
from civicgrid.regions.models import Region

WINDOW_DAYS = 30
Z95, Z99, Z999 = 1.959964, 2.575829, 3.290527
EDGE_MIN = 1e-7  # degrees (≈ 1 cm): a shared boundary shorter than this is a corner, not an edge

_neighbours: dict[int, list[np.ndarray]] = {}


def neighbours_of(geometries) -> list[np.ndarray]:
    """For each polygon, the indexes of the polygons sharing an edge with it."""
    geometries = np.asarray(geometries, dtype=object)
    tree = shapely.STRtree(geometries)
    left, right = tree.query(geometries, predicate="intersects")
    pairs = left < right  # each pair once, and no polygon with itself
    left, right = left[pairs], right[pairs]
    shared = shapely.length(shapely.intersection(geometries[left], geometries[right]))
    edge = shared > EDGE_MIN
    found: list[list[int]] = [[] for _ in range(len(geometries))]
    for a, b in zip(left[edge], right[edge], strict=True):
        found[a].append(int(b))
        found[b].append(int(a))
    return [np.array(sorted(f), dtype=np.int64) for f in found]


def grid_neighbours(loaded: locator.LoadedIndex) -> list[np.ndarray]:
    """``neighbours_of`` the generation's grids, in its index order (computed once per generation)."""
    found = _neighbours.get(loaded.generation_id)
    if found is None:
        found = _neighbours[loaded.generation_id] = neighbours_of(loaded.index.geometries)
    return found


def gi_star(x, neighbours: list[np.ndarray]) -> np.ndarray:
    """Gi* z-scores of values ``x`` with binary weights over ``neighbours`` and each unit itself."""
    x = np.asarray(x, dtype=float)
    n = len(x)
    if n < 2:
        return np.zeros(n)
    mean = x.mean()
    s = math.sqrt(max((x**2).mean() - mean**2, 0.0))
    if s == 0:
        return np.zeros(n)
    z = np.empty(n)
    for i, nb in enumerate(neighbours):
        w = len(nb) + 1  # the unit itself is in its own neighbourhood (the star in Gi*)
        local = x[i] + x[nb].sum()
        spread = (n * w - w * w) / (n - 1)
        z[i] = (local - mean * w) / (s * math.sqrt(spread)) if spread > 0 else 0.0
    return z


def level_of(z: float) -> str:
    if z >= Z99:
        return "hot99"
    if z >= Z95:
        return "hot95"
    if z <= -Z99:
        return "cold99"
    if z <= -Z95:
        return "cold95"
    return ""


@dataclass(frozen=True)
class HotspotRow:
    grid_id: int
    code: str
    name: str
    street_id: int
    cases: int
    z: float
    level: str


@dataclass
class HotspotMap:
    first: date
    last: date
    rows: list[HotspotRow]
    geometries: dict[str, object]  # grid code -> shapely polygon (for the map)


def hotspots(*, last: date | None = None, days: int = WINDOW_DAYS) -> HotspotMap:
    """Gi* of every grid of the active generation over the ``days`` days ending ``last``."""
    last = last or timezone.localdate()
    first = last - timedelta(days=days - 1)
    loaded = locator.loaded_index()
    codes = list(loaded.index.codes)
    ids = [loaded.region_ids.get(c, 0) for c in codes]
    counts = dict(
        CaseDay.objects.filter(day__gte=first, day__lte=last, grid_id__in=ids)
        .values_list("grid_id")
        .annotate(n=Sum("cases"))
        .order_by()
    )
    x = np.array([counts.get(i, 0) for i in ids], dtype=float)
    z = gi_star(x, grid_neighbours(loaded))
    streets = {p["street"]["code"] for p in loaded.places}
    street_ids = {c: loaded.region_ids.get(c, 0) for c in streets}
    rows = [
        HotspotRow(
            grid_id=ids[i],
            code=codes[i],
            name=loaded.places[i]["grid"]["name"],
            street_id=street_ids[loaded.places[i]["street"]["code"]],
            cases=int(x[i]),
            z=round(float(z[i]), 3),
            level=level_of(float(z[i])),
        )
        for i in range(len(codes))
    ]
    return HotspotMap(first, last, rows, dict(zip(codes, loaded.index.geometries, strict=True)))


def hotspots_visible(result: HotspotMap, scope: Scope) -> list[HotspotRow]:
    if scope.everything:
        return result.rows
    return [r for r in result.rows if r.grid_id in scope.region_ids]


def _rounded(coordinates: np.ndarray) -> np.ndarray:
    return np.round(coordinates, 5)


def hotspots_geojson(result: HotspotMap, rows: list[HotspotRow]) -> dict:
    features = []
    for r in rows:
        # Five decimals (≈ 1 m) are plenty for a map and keep the page's data small.
        geometry = shapely.geometry.mapping(shapely.transform(result.geometries[r.code], _rounded))
        properties = {"code": r.code, "name": r.name, "cases": r.cases, "z": r.z, "level": r.level}
        features.append({"type": "Feature", "geometry": geometry, "properties": properties})
    return {"type": "FeatureCollection", "features": features}


def hotspots_raise(*, last: date | None = None) -> RunResult:
    """Warnings for the grids hot at 99 %, one per grid and ISO week (a standing hotspot is
    updated through the week, not raised again every day)."""
    result = hotspots(last=last)
    year, week, _wd = result.last.isocalendar()
    rows = {}
    for r in result.rows:
        if r.level != "hot99":
            continue
        rows[f"hotspot:{year}-W{week:02d}:{r.grid_id}"] = {
            "kind": AlertKind.HOTSPOT,
            "severity": 3 if r.z >= Z999 + 1 else 2 if r.z >= Z999 else 1,
            "day": result.last,
            "street_id": r.street_id or None,
            "grid_id": r.grid_id,
            "observed": r.cases,
            "expected": 0,
            "score": r.z,
            "explanation": _(
                "%(grid)s: a hotspot with its neighbours, %(cases)d reports in %(days)d days (z = %(z).1f)"
            )
            % {"grid": r.name, "cases": r.cases, "days": WINDOW_DAYS, "z": r.z},
            "link": case_list_url(region=r.code, date_from=result.first, date_to=result.last),
        }
    return alerts_upsert(rows)


# -- repeat places ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class RepeatPlace:
    cell: int
    case_class_id: int
    class_code: str
    class_name: str
    major_id: int
    grid_id: int
    grid_code: str
    grid_name: str
    street_id: int
    cases: int
    first: datetime
    last: datetime

    @property
    def link(self) -> str:
        a, b = timezone.localdate(self.first), timezone.localdate(self.last)
        return case_list_url(region=self.grid_code, case_class=self.class_code, date_from=a, date_to=b)


# A repeat place is one spot: reports of the same 小类 within this distance of its centre report.
# The ~280 m spatial cells (civicgrid.geo.cells) made ~270 "repeat places" a day out of ordinary
# busy streets on the demo year, and split a spot lying on a cell's edge.
REPEAT_RADIUS_M = 50


def repeat_places(*, last: date | None = None, scope: Scope | None = None) -> list[RepeatPlace]:
    """Spots with the same 小类 reported ``repeat_count`` times or more within ``REPEAT_RADIUS_M``
    of one another in the ``repeat_days`` days ending ``last`` (void reports left out), most
    reports first."""
    settings = InsightSettings.current()
    last = last or timezone.localdate()
    qs = Case.objects.filter(
        created_at__gte=day_start(last - timedelta(days=settings.repeat_days - 1)),
        created_at__lt=day_start(last + timedelta(days=1)),
        cell__gt=0,
        case_class__isnull=False,
    ).exclude(state=CaseState.VOIDED)
    if scope is not None and not scope.everything:
        qs = qs.filter(street_id__in=scope.region_ids)
    # Candidates: a grid's 小类 reported often enough; then the spots among their reports.
    candidates = list(
        qs.values("grid_id", "case_class_id").annotate(n=Count("id")).filter(n__gte=settings.repeat_count)
    )
    members: dict[tuple[int, int], list[tuple]] = {}
    for start in range(0, len(candidates), 200):
        part = candidates[start : start + 200]
        rows = qs.filter(
            grid_id__in={g["grid_id"] for g in part}, case_class_id__in={g["case_class_id"] for g in part}
        ).values_list("grid_id", "case_class_id", "lon", "lat", "created_at")
        for grid_id, class_id, lon, lat, at in rows:
            members.setdefault((grid_id, class_id), []).append((lon, lat, at))
    spots = [
        (grid_id, class_id, centre, spot)
        for (grid_id, class_id), points in members.items()
        for centre, spot in _spots(points, settings.repeat_count)
    ]
    classes = CaseClass.objects.in_bulk({class_id for _g, class_id, _c, _s in spots})
    grids = Region.objects.select_related("parent").in_bulk({grid_id for grid_id, *_rest in spots})
    found = []
    for grid_id, class_id, centre, spot in spots:
        cls, grid = classes[class_id], grids.get(grid_id)
        cell = cells.cell_of(centre[0], centre[1])
        found.append(
            RepeatPlace(
                cell=cell,
                case_class_id=class_id,
                class_code=cls.code,
                class_name=cls.name,
                major_id=cls.parent_id or 0,
                grid_id=grid.pk if grid else 0,
                grid_code=grid.code if grid else "",
                grid_name=grid.name if grid else "",
                street_id=(grid.parent.parent_id if grid and grid.parent else 0) or 0,
                cases=len(spot),
                first=min(p[2] for p in spot),
                last=max(p[2] for p in spot),
            )
        )
    found.sort(key=lambda p: (-p.cases, -p.last.timestamp()))
    return found


def _spots(points: list[tuple], least: int) -> list[tuple[tuple, list[tuple]]]:
    """(centre, members): groups of at least ``least`` points within ``REPEAT_RADIUS_M`` of a
    centre point, taken greedily from the point with most neighbours (a grid's 小类 has a few
    dozen reports a month at most)."""
    left, spots = list(points), []
    while len(left) >= least:
        near = [
            (p, [q for q in left if cells.distance_m(p[0], p[1], q[0], q[1]) <= REPEAT_RADIUS_M])
            for p in left
        ]
        centre, best = max(near, key=lambda pair: len(pair[1]))
        if len(best) < least:
            break
        spots.append((centre, best))
        taken = {id(q) for q in best}
        left = [p for p in left if id(p) not in taken]
    return spots


def repeats_raise(*, last: date | None = None) -> RunResult:
    """Warnings for the repeat places, one per spot × 小类 × ISO week of its latest report."""
    settings = InsightSettings.current()
    days, least = settings.repeat_days, settings.repeat_count
    rows = {}
    for p in repeat_places(last=last):
        year, week, _wd = timezone.localdate(p.last).isocalendar()
        rows[f"repeat:{p.cell}:{p.case_class_id}:{year}-W{week:02d}"] = {
            "kind": AlertKind.REPEAT,
            "severity": 3 if p.cases >= 3 * least else 2 if p.cases >= 2 * least else 1,
            "day": timezone.localdate(p.last),
            "street_id": p.street_id or None,
            "grid_id": p.grid_id or None,
            "case_class_id": p.case_class_id,
            "major_class_id": p.major_id or None,
            "observed": p.cases,
            "expected": 0,
            "score": None,
            "explanation": _("%(grid)s · %(cls)s: %(n)d reports at one spot in %(days)d days")
            % {"grid": p.grid_name, "cls": p.class_name, "n": p.cases, "days": days},
            "link": p.link,
        }
    return alerts_upsert(rows)

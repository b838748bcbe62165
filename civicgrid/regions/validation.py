"""Coverage of a whole generation: every parent tiled by its children, every problem located."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext as _
from shapely.geometry.base import BaseGeometry

from civicgrid.geo.coverage import GAP, OUTSIDE_PARENT, OVERLAP, Problem, validate_children
from civicgrid.regions.models import Level


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
            "area": problem.area_m2, "parent": problem.codes[0]}  # fmt: skip
    if problem.kind == OVERLAP:
        return _("%(a)s and %(b)s overlap by %(area).1f m².") % {
            "a": problem.codes[0], "b": problem.codes[1], "area": problem.area_m2}  # fmt: skip
    if problem.kind == OUTSIDE_PARENT:
        return _("%(child)s reaches %(area).1f m² outside its parent %(parent)s.") % {
            "child": problem.codes[0], "area": problem.area_m2, "parent": problem.codes[1]}  # fmt: skip
    return problem.kind


def coverage_problems(entries: dict[str, Entry], *, tolerance_m2: float | None = None) -> list[Problem]:
    """Gaps, overlaps and overhangs at every level of the tree, in a stable order."""
    tolerance = settings.COVERAGE_TOLERANCE_M2 if tolerance_m2 is None else tolerance_m2
    children: dict[str, list[Entry]] = defaultdict(list)
    problems: list[Problem] = []
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
            parent.code, parent.geometry, [k.code for k in kids], [k.geometry for k in kids], tolerance_m2=tolerance
        )
        for problem in found:
            problem.message = _message(problem)
        problems += found
    return problems

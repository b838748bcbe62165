"""The hotline's configuration as the import reads it: feedback limits per kind and the hotline
class → 小类 mapping (back-office tables, cached a few seconds per process like cases.limits)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from civicgrid.cases import limits
from civicgrid.cases.clock import Limit, parse_limit
from civicgrid.cases.models import CaseClass, Urgency
from civicgrid.hotline.models import DEFAULT_LIMITS, HotlineClassMap, HotlineLimit, LimitKind


def feedback_limits() -> dict[str, Limit]:
    def build():
        table = dict(DEFAULT_LIMITS) | dict(HotlineLimit.objects.values_list("kind", "limit"))
        return {kind: parse_limit(text) for kind, text in table.items()}

    return limits.cached("hotline_limits", build)


@dataclass(frozen=True)
class Mapping:
    case_class: CaseClass | None
    limit_kind: str


def class_mappings() -> dict[str, Mapping]:
    def build():
        rows = HotlineClassMap.objects.select_related("case_class", "case_class__department")
        return {r.hotline_class: Mapping(r.case_class, r.limit_kind) for r in rows}

    return limits.cached("hotline_classes", build)


def limit_kind_for(*, given: str, urgency: str, mapping: Mapping | None) -> str:
    """The file's own kind; else the class mapping's; else emergency for an emergency; else ordinary."""
    if given:
        return given
    if mapping is not None and mapping.limit_kind:
        return mapping.limit_kind
    return LimitKind.EMERGENCY if urgency == Urgency.EMERGENCY else LimitKind.ORDINARY


def feedback_deadline(*, received_at: datetime, requested: datetime | None, kind: str) -> datetime:
    """The hotline's requested feedback time when it sends one (it is the hotline's promise to the
    caller); otherwise the kind's limit from the time the hotline received the call."""
    if requested is not None:
        return requested
    return limits.calendar().add(received_at, feedback_limits()[kind])

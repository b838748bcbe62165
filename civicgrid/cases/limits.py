"""Where a case's time limits come from: the working calendar, stage limits and class limits.

All three are configuration a city changes (office hours in settings; local days off and stage
limits in the back office; class limits in the taxonomy). Each process caches what it read for
a few seconds, so a change reaches every worker without a restart.
"""

from __future__ import annotations

import functools
import threading
import time as _time
from dataclasses import dataclass
from datetime import time

from django.conf import settings

from civicgrid.cases.clock import Limit, WorkCalendar, parse_limit
from civicgrid.cases.models import CalendarOverride, CaseClass, Stage, StageLimit, Urgency

# Stage limits when the back office has no row (sources: cn-grid-domain.md §1.5 — Fuzhou: verify
# and register-and-dispatch within 1 working hour, the unit reads the order within 1 h; Taiyuan:
# register+dispatch 10 min urgent / 30 min otherwise, check 1 h). Emergencies run on natural time.
DEFAULT_STAGE_LIMITS: dict[str, dict[str, str]] = {
    Stage.VERIFY: {Urgency.NORMAL: "1工作时", Urgency.URGENT: "1小时", Urgency.EMERGENCY: "30分钟"},
    Stage.REGISTER: {Urgency.NORMAL: "0.5工作时", Urgency.URGENT: "15分钟", Urgency.EMERGENCY: "10分钟"},
    Stage.DISPATCH: {Urgency.NORMAL: "0.5工作时", Urgency.URGENT: "15分钟", Urgency.EMERGENCY: "10分钟"},
    Stage.ACCEPT: {Urgency.NORMAL: "1工作时", Urgency.URGENT: "30分钟", Urgency.EMERGENCY: "15分钟"},
    Stage.CHECK: {Urgency.NORMAL: "1工作时", Urgency.URGENT: "1小时", Urgency.EMERGENCY: "30分钟"},
    Stage.CLOSE: {Urgency.NORMAL: "1工作时", Urgency.URGENT: "1小时", Urgency.EMERGENCY: "1小时"},
}

CACHE_SECONDS = 5.0


def parse_office_hours(text: str) -> tuple[tuple[time, time], ...]:
    """``"08:30-12:00,13:30-17:30"`` → periods; ValueError on anything else."""
    periods = []
    for part in text.split(","):
        start, _, end = part.strip().partition("-")
        periods.append((time.fromisoformat(start.strip()), time.fromisoformat(end.strip())))
    return tuple(periods)


@dataclass
class _Cached:
    at: float
    value: object


_lock = threading.Lock()
_cache: dict[str, _Cached] = {}


def cached(key: str, build):
    hit = _cache.get(key)
    now = _time.monotonic()
    if hit is None or now - hit.at > CACHE_SECONDS:
        with _lock:
            hit = _Cached(now, build())
            _cache[key] = hit
    return hit.value


def forget() -> None:
    """Drop cached configuration (after an edit in this process, and between tests)."""
    _cache.clear()


def calendar() -> WorkCalendar:
    def build():
        overrides = dict(CalendarOverride.objects.values_list("day", "is_workday"))
        return WorkCalendar(office_hours=parse_office_hours(settings.OFFICE_HOURS), overrides=overrides)

    return cached("calendar", build)


def stage_limit(stage: str, urgency: str) -> Limit:
    def build():
        table = {s: dict(u) for s, u in DEFAULT_STAGE_LIMITS.items()}
        for row in StageLimit.objects.all():
            table.setdefault(row.stage, {})[row.urgency] = row.limit
        return {s: {u: parse_limit(text) for u, text in by.items()} for s, by in table.items()}

    return cached("stages", build)[stage][urgency]


def handle_limit(case_class: CaseClass, urgency: str) -> Limit:
    """The class's handling limit; a class without one falls back to 5 working days."""
    text = case_class.limit_text(urgency) if case_class else ""
    return _parsed(text or "5工作日")


@functools.lru_cache(maxsize=1024)
def _parsed(text: str) -> Limit:
    """Limits are immutable, so each text is parsed once (this runs on every dispatch and rework)."""
    return parse_limit(text)


def warn_share() -> float:
    return settings.SLA_WARN_SHARE

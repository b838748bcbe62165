"""Whistles as the API and the pages show them: plain dicts, times in the district's zone."""

from __future__ import annotations

from django.utils import timezone

from civicgrid.whistles.models import MeetingRecord, Summons, Whistle
from civicgrid.whistles.selectors import summons_list


def _at(value):
    return timezone.localtime(value) if value else None


def summons_status(s: Summons, now) -> str:
    """waiting, on_time, late (reported after the deadline) or missing (deadline passed, none)."""
    if s.reported_at is not None:
        return "late" if s.late else "on_time"
    return "missing" if s.late or s.deadline <= now else "waiting"


def summons_out(s: Summons, now=None) -> dict:
    status = summons_status(s, now or timezone.now())
    return {
        "department": s.department.code,
        "department_name": s.department.name,
        "deadline": _at(s.deadline),
        "status": status,
        "reported_at": _at(s.reported_at),
        "reported_by": str(s.reported_by) if s.reported_by_id else None,
        "attendees": s.attendees,
        "where": s.where,
        "lon": s.lon,
        "lat": s.lat,
        "note": s.note,
        "late": s.late,
    }


def whistle_summary(w: Whistle) -> dict:
    return {
        "number": w.number,
        "kind": w.kind,
        "kind_label": w.get_kind_display(),
        "state": w.state,
        "title": w.title,
        "region": {"code": w.region.code, "name": w.region.name, "level": w.region.level},
        "street": {"code": w.street.code, "name": w.street.name},
        "case": w.case.number if w.case_id else None,
        "lead": w.lead.code,
        "limit": w.limit,
        "opened_at": _at(w.opened_at),
        "closed_at": _at(w.closed_at),
    }


def meeting_out(m: MeetingRecord) -> dict:
    return {
        "held_at": _at(m.held_at),
        "place": m.place,
        "attendees": m.attendees,
        "agreed": m.agreed,
        "recorded_by": str(m.recorded_by),
        "tasks": [
            {
                "department": t.department.code,
                "department_name": t.department.name,
                "task": t.task,
                "due": t.due,
            }
            for t in m.tasks.all()
        ],
    }


def whistle_detail(w: Whistle) -> dict:
    now = timezone.now()
    meetings = w.meetings.select_related("recorded_by").prefetch_related("tasks__department")
    return whistle_summary(w) | {
        "description": w.description,
        "place": w.place,
        "blown_by": str(w.blown_by),
        "blown_as": w.blown_as,
        "result": w.result,
        "summonses": [summons_out(s, now) for s in summons_list(w)],
        "meetings": [meeting_out(m) for m in meetings],
    }

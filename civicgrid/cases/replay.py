"""Rebuild a case's state and clock from its event log alone, with the same rules (``apply_move``).

The figures a case shows — state, stage deadline, handling deadline, late stages, counters — are
all consequences of its events. ``case_replay`` proves it for one case; ``civicgrid cases
verify-clock`` runs it over many. A difference means a row was changed outside the workflow, or
the configuration (stage limits, calendar) changed after the events were written.
"""

from __future__ import annotations

from civicgrid.cases import workflow
from civicgrid.cases.models import Case, CaseClass
from civicgrid.cases.workflow import MOVES, Actor

CLOCK_FIELDS = (
    "state",
    "stage",
    "stage_seq",
    "stage_started_at",
    "stage_deadline",
    "stage_warn_at",
    "due_at",
    "paused_at",
    "pending_extension",
    "late_stages",
    "rework_count",
    "return_count",
    "extension_count",
    "department_id",
    "case_class_id",
    "urgency",
    "satisfaction",
    "registered_at",
    "dispatched_at",
    "closed_at",
    "version",
)


def case_replay(case: Case) -> Case:
    """A fresh, unsaved Case built only from ``case``'s events."""
    events = list(case.events.order_by("seq"))
    first = events[0]
    classes = {c.code: c for c in CaseClass.objects.filter(parent__isnull=False)}
    rebuilt = Case(
        channel=case.channel,
        lon=case.lon,
        lat=case.lat,
        grid_id=case.grid_id,
        community_id=case.community_id,
        street_id=case.street_id,
        district_id=case.district_id,
        reporter_id=case.reporter_id,
        case_class=classes.get(first.data.get("case_class") or ""),
        urgency=first.data.get("urgency", case.urgency),
    )
    rebuilt.pk = case.pk
    workflow.start_case(
        rebuilt, at=first.at, actor=Actor(first.actor_id), role=first.actor_role, initial=first.to_state
    )
    for event in events[1:]:
        data = dict(event.data)
        if event.action == workflow.Action.REGISTER:
            rebuilt.case_class = classes.get(data.get("case_class") or "", rebuilt.case_class)
            rebuilt.urgency = data.get("urgency", rebuilt.urgency)
        workflow.apply_move(
            rebuilt,
            MOVES[event.action],
            actor=Actor(event.actor_id),
            role=event.actor_role,
            at=event.at,
            seq=event.seq,
            note=event.note,
            data=data,
        )
    return rebuilt


def case_replay_differences(case: Case) -> dict[str, tuple]:
    """Fields whose stored value differs from the replayed one: {field: (stored, replayed)}."""
    rebuilt = case_replay(case)
    return {
        f: (getattr(case, f), getattr(rebuilt, f))
        for f in CLOCK_FIELDS
        if getattr(case, f) != getattr(rebuilt, f)
    }

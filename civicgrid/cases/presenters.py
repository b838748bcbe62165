"""A case as the API and the pages show it: staff see the whole case (personal data masked), the
public follow page sees only what a resident needs (no names, no phones, no photo locations).
"""

from __future__ import annotations

from django.urls import reverse
from django.utils import timezone

from civicgrid.accounts.models import Role
from civicgrid.cases import workflow
from civicgrid.cases.models import Case, CaseState
from civicgrid.cases.workflow import ACTION_LABELS, Actor


def _place(region) -> dict:
    return {"code": region.code, "name": region.name}


def is_overdue(case: Case, now=None) -> bool:
    now = now or timezone.now()
    return bool(case.stage_deadline and case.paused_at is None and case.stage_deadline < now and case.is_open)


def case_summary(case: Case, now=None) -> dict:
    return {
        "number": case.number,
        "title": case.title,
        "state": case.state,
        "state_label": str(CaseState(case.state).label),
        "channel": case.channel,
        "case_class": case.case_class.code if case.case_class else None,
        "case_class_name": case.case_class.name if case.case_class else None,
        "urgency": case.urgency,
        "grid": _place(case.grid),
        "street": _place(case.street),
        "department": case.department.name if case.department_id else None,
        "created_at": case.created_at,
        "stage": case.stage,
        "stage_deadline": case.stage_deadline,
        "overdue": is_overdue(case, now),
        "version": case.version,
        "level": case.level,
        "tier": case.tier,
        "tier_deadline": case.tier_deadline,
    }


def _events(case: Case, *, public: bool, known: list | None = None, names: dict | None = None) -> list[dict]:
    """The timeline; ``known``: the events already in hand (a new case's), ``names``: their
    actors' names by user id."""
    rows = []
    events = known if known is not None else case.events.select_related("actor").order_by("seq")
    names = names or {}
    for e in events:
        if public and e.action in (workflow.Action.NOTE, workflow.Action.FOLLOW_UP):
            continue
        rows.append(
            {
                "seq": e.seq,
                "action": e.action,
                "action_label": str(ACTION_LABELS.get(e.action, e.action)),
                "from_state": e.from_state,
                "to_state": e.to_state,
                "to_state_label": str(CaseState(e.to_state).label),
                "actor": None
                if public or e.actor_id is None
                else names[e.actor_id]
                if e.actor_id in names
                else str(e.actor),
                "actor_role": "" if public else e.actor_role,
                "at": e.at,
                "note": e.note if not public or e.action in _PUBLIC_NOTES else "",
                "data": {} if public else e.data,
            }
        )
    return rows


# Notes a resident may read: what was done, and why a report was voided or rated.
_PUBLIC_NOTES = {workflow.Action.FEEDBACK, workflow.Action.VOID, workflow.Action.RATE}


def attachment_url(case: Case, attachment_id: int, *, public: bool) -> str:
    if public:
        return reverse("case-track-file", args=[case.tracking_code, attachment_id])
    return reverse("case-file", args=[case.number, attachment_id])


def _co_department_codes(case: Case) -> list[str]:
    codes = getattr(case, "co_department_codes", None)  # read with the units by selectors.case_get
    if codes is None:
        codes = list(case.units.filter(lead=False).values_list("department__code", flat=True))
    return codes


def case_detail(
    case: Case, actor: Actor, *, events: list | None = None, attachments: list | None = None
) -> dict:
    """The case for a reader in scope. Staff see all of it (personal data masked); a resident
    reading their own report sees what the follow page shows: no staff, notes or photo places.
    ``events``/``attachments``: a new case's, as written (the reader made them)."""
    staff = bool(actor.scope.roles - {Role.RESIDENT})
    detail = case_summary(case)
    detail.update(
        description=case.description,
        address=case.address,
        lon=case.lon,
        lat=case.lat,
        community=_place(case.community),
        generation=case.generation_id,
        reporter_name=str(case.reporter_name or ""),
        reporter_phone=str(case.reporter_phone or ""),
        tracking_code=case.tracking_code,
        due_at=case.due_at,
        paused=case.paused_at is not None,
        pending_extension=case.pending_extension,
        rework_count=case.rework_count,
        return_count=case.return_count,
        extension_count=case.extension_count,
        satisfaction=case.satisfaction,
        co_departments=_co_department_codes(case),
        events=_events(
            case, public=not staff, known=events, names={actor.user_id: actor.name} if actor.name else None
        ),
        attachments=[
            {
                "id": a.id,
                "purpose": a.purpose,
                "kind": a.kind,
                "content_type": a.content_type,
                "size": a.size,
                "url": attachment_url(case, a.id, public=False),
                "gps": [a.gps_lon, a.gps_lat] if staff and a.gps_lon is not None else None,
            }
            for a in (attachments if attachments is not None else case.attachments.all())
            if staff or a.public
        ],
        moves=[{"action": m.action, "label": m.label} for m in workflow.available_moves(case, actor)],
    )
    return detail


def case_public(case: Case) -> dict:
    """What the resident's follow link shows."""
    return {
        "number": case.number,
        "title": case.title,
        "description": case.description,
        "state": case.state,
        "state_label": str(CaseState(case.state).label),
        "case_class_name": case.case_class.name if case.case_class else None,
        "community": case.community.name,
        "created_at": case.created_at,
        "closed_at": case.closed_at,
        "satisfaction": case.satisfaction,
        "can_rate": case.state == CaseState.CLOSED and not case.satisfaction,
        "lon": case.lon,
        "lat": case.lat,
        "events": _events(case, public=True),
        "attachments": [
            {"id": a.id, "purpose": a.purpose, "url": attachment_url(case, a.id, public=True)}
            for a in case.attachments.filter(public=True, kind="image")
        ],
    }

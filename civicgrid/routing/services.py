"""Moves between the tiers of 四级四事: escalate, send down, resolve at the tier, and the sweep
that escalates every case whose tier deadline has passed (docs/decisions/0005).

Each move is one transaction: the case row is written only if it is still at the version the
mover saw (so a manual move racing the sweep cannot double an escalation), the event goes on
the timeline with the version bump, the move is audited and the new tier's owners are told.
"""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from civicgrid.audit.services import audit_record
from civicgrid.cases import limits, selectors
from civicgrid.cases.models import Case, CaseEvent, CaseState, Level, Tier
from civicgrid.cases.versioning import check_version, write_versioned
from civicgrid.cases.workflow import Actor, enter_stage, iso_time
from civicgrid.errors import DomainError
from civicgrid.notifications.services import notify
from civicgrid.routing import rules
from civicgrid.routing.config import TierConf, routing

S = CaseState
AUTO_REASON = "deadline passed"  # the sweep's reason, as data (shown translated on the page)
# What a routing move changes on the case row.
FIELDS = [
    "state",
    "version",
    "tier",
    "tier_deadline",
    "due_at",
    "stage",
    "stage_seq",
    "stage_started_at",
    "stage_deadline",
    "stage_warn_at",
    "clock_working",
    "late_stages",
    "updated_at",
]
NEWS = {
    rules.ESCALATE: "case.tier_escalated",
    rules.SEND_DOWN: "case.tier_sent_down",
    rules.RESOLVE: "case.tier_resolved",
}


def route_new_case(case: Case, *, level: str, at: datetime, resolving: bool = False) -> dict | None:
    """Give a new (unsaved) case its level and first tier. At a grassroots tier the case starts
    in that tier's hands with its deadline (the caller starts it "being handled") and the event
    data to record is returned; at the street tier (or resolved on the spot) None."""
    if level not in Level.values:
        raise DomainError("unknown_level", _("Unknown level %(l)s.") % {"l": level}, {"level": level})
    conf = routing()
    case.level = level
    case.tier = conf.first[level]
    if case.tier == Tier.STREET or resolving:
        return None
    tier = conf.conf(case.tier)
    case.tier_deadline = case.due_at = limits.calendar().add(at, tier.limit)
    return {"level": level, "tier": case.tier, "deadline": iso_time(case.tier_deadline), "auto": False}


def _enter_tier(case: Case, action: str, target: TierConf, at: datetime) -> dict:
    """Put the case at ``target`` in memory: state, clocks, version. Returns the event data."""
    data = {"from_tier": case.tier, "to_tier": target.tier}
    late = case.stage_deadline is not None and case.paused_at is None and at > case.stage_deadline
    case.tier = target.tier
    if action == rules.RESOLVE:
        # Resolved: the check and closure follow as for any case; the tier's clock stops.
        case.state, case.tier_deadline = S.CHECKING, None
        data["meeting_form"] = target.meeting_form
    elif target.grassroots:
        case.state = S.HANDLING
        case.tier_deadline = case.due_at = limits.calendar().add(at, target.limit)
        data["deadline"] = iso_time(case.tier_deadline)
    else:
        # Up to the street: the command centre registers (立案) and dispatches it as usual.
        case.state, case.tier_deadline, case.due_at = S.REPORTED, None, None
    clock: dict = {}
    enter_stage(case, at, clock)
    data.update(late=late, clock=clock)
    case.late_stages += int(late)
    case.version += 1
    case.updated_at = at
    return data


def _write(case: Case, seen: int) -> None:
    write_versioned(case, seen, {f: getattr(case, f) for f in FIELDS})


def _move(
    case: Case,
    action: str,
    target: TierConf,
    *,
    actor: Actor,
    role: str,
    reason: str,
    at: datetime,
    auto: bool,
):
    """Make the checked move on the locked case: row, event, audit, notices."""
    seen, from_state = case.version, case.state
    data = _enter_tier(case, action, target, at) | {"reason": reason, "auto": auto}
    _write(case, seen)
    event = CaseEvent.objects.create(
        case=case,
        seq=case.version,
        action=action,
        from_state=from_state,
        to_state=case.state,
        actor_id=actor.user_id,
        actor_role=role,
        at=at,
        note="" if auto else reason,
        data=data,
    )
    user = get_user_model().objects.filter(pk=actor.user_id).first() if actor.user_id else None
    audit_record(
        action=f"case.{action}",
        actor=user,
        object_type="cases.case",
        object_id=case.number,
        detail={k: v for k, v in data.items() if k != "clock"},
    )
    notify(
        user_ids=selectors.stage_owner_ids(case),
        kind=NEWS[action],
        case=case,
        link=f"/cases/{case.number}/",
        title=_("%(number)s %(title)s: %(tier)s")
        % {"number": case.number, "title": case.title, "tier": Tier(case.tier).label},
        body=reason,
    )
    return event


def tier_move(
    *,
    actor: Actor,
    number: str,
    action: str,
    version: int | None,
    reason: str = "",
    to_tier: str = "",
    at=None,
) -> Case:
    """Escalate, send down or resolve at the tier. Refusals change nothing: 404 outside scope,
    409 from this state or tier or on a stale version, 403 for this person, 400 for bad input."""
    reason = (reason or "").strip()
    with transaction.atomic():
        case = selectors.case_get(scope=actor.scope, number=number, for_update=True)
        check_version(case, version)
        role, target = rules.check(case, action, actor, reason=reason, to_tier=to_tier)
        _move(
            case, action, target, actor=actor, role=role, reason=reason, at=at or timezone.now(), auto=False
        )
    return case


SYSTEM = Actor(user_id=None, name="system")


def routing_sweep(*, now: datetime | None = None) -> int:
    """Escalate every case still being handled at a grassroots tier past the tier's deadline.
    Runs every minute (Huey); reads the database only, so a restart loses nothing. Each case is
    re-read under its row lock and written only at the version seen, so a second sweeper or a
    manual move at the same moment makes it once, never twice."""
    now = now or timezone.now()
    due = (
        Case.objects.filter(tier_deadline__lte=now, state=S.HANDLING, paused_at__isnull=True)
        .exclude(tier=Tier.STREET)
        .order_by("tier_deadline")
        .values_list("pk", flat=True)
    )
    done = 0
    for pk in list(due[:5000]):
        with transaction.atomic():
            case = Case.objects.select_for_update().filter(pk=pk).first()
            if case is None or not (
                case.tier_deadline
                and case.tier_deadline <= now
                and rules.possible(case, rules.ESCALATE, routing())
            ):
                continue  # moved meanwhile
            target = routing().above(case.tier)
            try:
                _move(
                    case, rules.ESCALATE, target, actor=SYSTEM, role="", reason=AUTO_REASON, at=now, auto=True
                )
            except DomainError:
                continue  # a manual move won the race; its version stands
            done += 1
    return done

"""The case state machine: which moves exist, who may make them, and what each does.

``apply_move`` is the only code that changes a case's state and clock. It works on a ``Case``
in memory and returns the event to append, so the services (one move, one transaction) and the
demo's bulk loader (thousands of cases at once) follow exactly the same rules.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from civicgrid.accounts.models import Role
from civicgrid.accounts.scopes import ANONYMOUS, Scope
from civicgrid.cases import limits
from civicgrid.cases.clock import Limit
from civicgrid.cases.models import Case, CaseEvent, CaseState, Stage, Tier
from civicgrid.errors import DomainError
from civicgrid.routing.config import tier_limit

S = CaseState


class Action:
    REPORT = "report"
    VERIFY = "verify"
    VOID = "void"
    REGISTER = "register"
    DISPATCH = "dispatch"
    ACCEPT = "accept"
    RETURN = "return"
    FEEDBACK = "feedback"
    CHECK_PASS = "check_pass"
    CHECK_FAIL = "check_fail"
    CLOSE = "close"
    RATE = "rate"
    FOLLOW_UP = "follow_up"
    EXTEND_REQUEST = "extend_request"
    EXTEND_APPROVE = "extend_approve"
    EXTEND_REJECT = "extend_reject"
    SUSPEND = "suspend"
    RESUME = "resume"
    PAUSE = "pause"
    UNPAUSE = "unpause"
    SELF_RESOLVE = "self_resolve"
    NOTE = "note"
    # 四级四事 (civicgrid.routing makes these; they move the case between tiers, not in MOVES)
    TIER_ESCALATE = "tier_escalate"
    TIER_SEND_DOWN = "tier_send_down"
    TIER_RESOLVE = "tier_resolve"
    MERGE = "merge"  # this case is a duplicate: it joins its master (cases/merging.py)
    MERGE_IN = "merge_in"  # the master's side of a merge


ACTION_LABELS = {
    Action.REPORT: pgettext_lazy("case action", "Report"),
    Action.VERIFY: gettext_lazy("Verify on site"),
    Action.VOID: gettext_lazy("Void"),
    Action.REGISTER: gettext_lazy("Register"),
    Action.DISPATCH: gettext_lazy("Dispatch"),
    Action.ACCEPT: gettext_lazy("Accept"),
    Action.RETURN: gettext_lazy("Return (not ours)"),
    Action.FEEDBACK: gettext_lazy("Report the result"),
    Action.CHECK_PASS: gettext_lazy("Check: passed"),
    Action.CHECK_FAIL: gettext_lazy("Check: failed, rework"),
    Action.CLOSE: pgettext_lazy("case action", "Close"),
    Action.RATE: gettext_lazy("Rate"),
    Action.FOLLOW_UP: gettext_lazy("Follow-up call"),
    Action.EXTEND_REQUEST: gettext_lazy("Request an extension"),
    Action.EXTEND_APPROVE: gettext_lazy("Approve the extension"),
    Action.EXTEND_REJECT: gettext_lazy("Refuse the extension"),
    Action.SUSPEND: gettext_lazy("Suspend (cannot be solved now)"),
    Action.RESUME: gettext_lazy("Resume handling"),
    Action.PAUSE: gettext_lazy("Pause the clock (waiting for the resident)"),
    Action.UNPAUSE: gettext_lazy("Restart the clock"),
    Action.SELF_RESOLVE: gettext_lazy("Resolved on the spot"),
    Action.NOTE: gettext_lazy("Add a note"),
    Action.TIER_ESCALATE: gettext_lazy("Escalate to the next tier"),
    Action.TIER_SEND_DOWN: gettext_lazy("Send down (misrouted)"),
    Action.TIER_RESOLVE: gettext_lazy("Resolved at the tier"),
    Action.MERGE: gettext_lazy("Merged into another case (duplicate)"),
    Action.MERGE_IN: gettext_lazy("A duplicate report was merged in"),
}

# The clock each state runs; states not listed stop it.
STAGE_OF = {
    S.VERIFYING: Stage.VERIFY,
    S.REPORTED: Stage.REGISTER,
    S.REGISTERED: Stage.DISPATCH,
    S.DISPATCHED: Stage.ACCEPT,
    S.HANDLING: Stage.HANDLE,
    S.CHECKING: Stage.CHECK,
    S.CHECKED: Stage.CLOSE,
}

AREA, DEPARTMENT, REPORTER = "area", "department", "reporter"
R = Role


@dataclass(frozen=True)
class Move:
    action: str
    sources: frozenset[str]
    target: str | None  # None: the state stays
    roles: tuple[str, ...]  # in the order an acting role is chosen
    over: str  # what the actor's scope must cover: the case's AREA, its DEPARTMENT, or be its REPORTER
    note_required: bool = False
    guard: Callable[[Case], bool] | None = None

    @property
    def label(self) -> str:
        return str(ACTION_LABELS[self.action])


_STAFF_NOTE = (R.SHIFT_LEAD, R.OPERATOR, R.STREET_OPERATOR, R.COMMUNITY_STAFF, R.GRID_CHIEF, R.GRID_WORKER)
_OPEN = frozenset(STAGE_OF) | {S.SUSPENDED}

MOVES: dict[str, Move] = {
    m.action: m
    for m in [
        Move(
            Action.VERIFY,
            frozenset({S.VERIFYING}),
            S.REPORTED,
            (R.GRID_WORKER, R.GRID_CHIEF, R.COMMUNITY_STAFF),
            AREA,
        ),
        Move(
            Action.VOID,
            frozenset({S.VERIFYING, S.REPORTED}),
            S.VOIDED,
            (R.SHIFT_LEAD, R.STREET_OPERATOR),
            AREA,
            True,
        ),
        Move(Action.REGISTER, frozenset({S.REPORTED}), S.REGISTERED, (R.SHIFT_LEAD, R.STREET_OPERATOR), AREA),
        Move(
            Action.DISPATCH,
            frozenset({S.REGISTERED}),
            S.DISPATCHED,
            (R.OPERATOR, R.SHIFT_LEAD, R.STREET_OPERATOR),
            AREA,
            # A case at a grassroots tier (四级四事) is escalated to the street tier first.
            guard=lambda c: c.tier == Tier.STREET,
        ),
        Move(Action.ACCEPT, frozenset({S.DISPATCHED}), S.HANDLING, (R.DEPARTMENT_HANDLER,), DEPARTMENT),
        Move(
            Action.RETURN, frozenset({S.DISPATCHED}), S.REGISTERED, (R.DEPARTMENT_HANDLER,), DEPARTMENT, True
        ),
        Move(
            Action.FEEDBACK,
            frozenset({S.HANDLING}),
            S.CHECKING,
            (R.DEPARTMENT_HANDLER,),
            DEPARTMENT,
            True,
            guard=lambda c: c.paused_at is None and not c.pending_extension,
        ),
        Move(Action.CHECK_PASS, frozenset({S.CHECKING}), S.CHECKED, (R.GRID_WORKER, R.GRID_CHIEF), AREA),
        Move(
            Action.CHECK_FAIL, frozenset({S.CHECKING}), S.HANDLING, (R.GRID_WORKER, R.GRID_CHIEF), AREA, True
        ),
        Move(Action.CLOSE, frozenset({S.CHECKED}), S.CLOSED, (R.SHIFT_LEAD, R.STREET_OPERATOR), AREA),
        Move(
            Action.RATE,
            frozenset({S.CLOSED}),
            None,
            (R.RESIDENT,),
            REPORTER,
            guard=lambda c: not c.satisfaction,
        ),
        Move(
            Action.FOLLOW_UP,
            frozenset({S.CLOSED}),
            None,
            (R.OPERATOR, R.SHIFT_LEAD, R.STREET_OPERATOR),
            AREA,
            guard=lambda c: not c.followup,
        ),
        Move(
            Action.EXTEND_REQUEST,
            frozenset({S.HANDLING}),
            None,
            (R.DEPARTMENT_HANDLER,),
            DEPARTMENT,
            True,
            guard=lambda c: not c.pending_extension and c.paused_at is None,
        ),
        Move(
            Action.EXTEND_APPROVE,
            frozenset({S.HANDLING}),
            None,
            (R.SHIFT_LEAD,),
            AREA,
            guard=lambda c: bool(c.pending_extension),
        ),
        Move(
            Action.EXTEND_REJECT,
            frozenset({S.HANDLING}),
            None,
            (R.SHIFT_LEAD,),
            AREA,
            True,
            guard=lambda c: bool(c.pending_extension),
        ),
        Move(
            Action.SUSPEND,
            frozenset({S.HANDLING}),
            S.SUSPENDED,
            (R.DEPARTMENT_HANDLER, R.SHIFT_LEAD),
            DEPARTMENT,
            True,
            guard=lambda c: c.paused_at is None and not c.pending_extension,
        ),
        Move(Action.RESUME, frozenset({S.SUSPENDED}), S.HANDLING, (R.SHIFT_LEAD,), AREA),
        Move(
            Action.PAUSE,
            frozenset({S.HANDLING}),
            None,
            (R.DEPARTMENT_HANDLER,),
            DEPARTMENT,
            True,
            guard=lambda c: c.paused_at is None,
        ),
        Move(
            Action.UNPAUSE,
            frozenset({S.HANDLING}),
            None,
            (R.DEPARTMENT_HANDLER,),
            DEPARTMENT,
            guard=lambda c: c.paused_at is not None,
        ),
        Move(
            Action.SELF_RESOLVE,
            frozenset({S.REPORTED}),
            S.CHECKED,
            (R.GRID_WORKER,),
            AREA,
            guard=lambda c: bool(c.case_class_id) and c.case_class.self_resolvable,
        ),
        Move(Action.NOTE, _OPEN, None, (*_STAFF_NOTE, R.DEPARTMENT_HANDLER), AREA, True),
    ]
}


# Merging takes two cases at once, so its moves are not in MOVES (which lists the one-case moves
# offered on a case's page): cases/merging.py checks them with check_move(..., moves=MERGE_MOVES).
_MERGERS = (R.OPERATOR, R.SHIFT_LEAD, R.STREET_OPERATOR)
MERGE_MOVES: dict[str, Move] = {
    Action.MERGE: Move(Action.MERGE, _OPEN, S.VOIDED, _MERGERS, AREA, guard=lambda c: c.master_id is None),
    Action.MERGE_IN: Move(Action.MERGE_IN, _OPEN, None, _MERGERS, AREA, guard=lambda c: c.master_id is None),
}


@dataclass(frozen=True)
class Actor:
    """Who makes a move: a signed-in person with a scope, or a resident holding a tracking link."""

    user_id: int | None
    scope: Scope = ANONYMOUS
    tracking_case_id: int | None = None
    name: str = ""


def acting_role(move: Move, case: Case, actor: Actor) -> str | None:
    """The role under which ``actor`` may make ``move`` on ``case``, or None."""
    if move.over == REPORTER:
        own = actor.user_id is not None and case.reporter_id == actor.user_id
        return Role.RESIDENT if own or actor.tracking_case_id == case.pk else None
    scope = actor.scope
    in_area = scope.everything or case.grid_id in scope.region_ids
    in_department = case.department_id is not None and case.department_id in scope.department_ids
    for role in move.roles:
        if not scope.has_role(role):
            continue
        if role == Role.DEPARTMENT_HANDLER:
            # A co-handler may add notes; only the lead unit moves the case (首接负责).
            if in_department or (move.action == Action.NOTE and _co_handles(case, scope)):
                return role
        elif in_area:
            return role
    return None


def _co_handles(case: Case, scope: Scope) -> bool:
    return any(d in scope.department_ids for d in getattr(case, "co_department_ids", ()))


def _possible(move: Move, case: Case) -> bool:
    return case.state in move.sources and (move.guard is None or move.guard(case))


def available_moves(case: Case, actor: Actor) -> list[Move]:
    return [m for m in MOVES.values() if _possible(m, case) and acting_role(m, case, actor)]


def _allowed(case: Case, actor: Actor) -> list[str]:
    return [m.action for m in available_moves(case, actor)]


def check_move(
    case: Case, action: str, actor: Actor, *, note: str = "", moves: dict[str, Move] = MOVES
) -> tuple[Move, str]:
    """The move and acting role, or the refusal: 409 from this state, 403 for this person."""
    move = moves.get(action)
    if move is None:
        raise DomainError("unknown_action", _("There is no move called %(a)s.") % {"a": action})
    if not _possible(move, case):
        raise DomainError(
            "illegal_move",
            _("“%(move)s” is not possible while the case is “%(state)s”.")
            % {"move": move.label, "state": CaseState(case.state).label},
            {"state": case.state, "allowed": _allowed(case, actor)},
            status=409,
        )
    role = acting_role(move, case, actor)
    if role is None:
        raise DomainError(
            "move_forbidden",
            _("You may not “%(move)s” this case.") % {"move": move.label},
            {"state": case.state, "allowed": _allowed(case, actor)},
            status=403,
        )
    if move.note_required and not note.strip():
        raise DomainError("note_required", _("“%(move)s” needs a written reason.") % {"move": move.label})
    return move, role


@dataclass
class MoveResult:
    event: CaseEvent
    # Departments to record on the case (dispatch): (department id, lead?)
    units: list[tuple[int, bool]] = field(default_factory=list)


def iso_time(value: datetime | None) -> str | None:
    # Always in local time: a datetime read back from the database is in UTC, one made in
    # memory is not, and the event log must not depend on which one a move happened to see.
    # The default zone, not the "current" one: it is the district's, and looking up the current
    # zone (a thread-local) cost a tenth of the bulk demo load.
    return value.astimezone(timezone.get_default_timezone()).isoformat() if value else None


def _handle_limit(case: Case) -> Limit:
    """At a grassroots tier the tier's limit (routing configuration), else the class's."""
    return tier_limit(case.tier) or limits.handle_limit(case.case_class, case.urgency)


def enter_stage(case: Case, at: datetime, clock: dict) -> None:
    """Start the clock of the case's (new) state and say so in the event's data."""
    cal = limits.calendar()
    stage = STAGE_OF.get(case.state, Stage.NONE)
    case.stage_seq += 1
    case.stage = stage
    case.stage_started_at = at if stage else None
    if not stage:
        case.stage_deadline = case.stage_warn_at = None
        clock["stage"] = ""
        return
    if stage == Stage.HANDLE:
        limit = _handle_limit(case)
        deadline = case.due_at
    else:
        limit = limits.stage_limit(stage, case.urgency)
        deadline = cal.add(at, limit)
        if case.due_at and stage == Stage.ACCEPT:
            deadline = min(deadline, case.due_at)
    case.clock_working = limit.working
    case.stage_deadline = deadline
    case.stage_warn_at = cal.warn_at(at, deadline, limits.warn_share(), working=limit.working)
    clock.update(
        stage=stage, limit=limit.as_dict(), deadline=iso_time(deadline), warn_at=iso_time(case.stage_warn_at)
    )


def _shift_clock(case: Case, since: datetime, at: datetime) -> int:
    """Move the deadlines on by the time the clock stood still (pause, suspension)."""
    cal = limits.calendar()
    minutes = cal.elapsed(since, at, working=case.clock_working)
    for name in ("stage_deadline", "stage_warn_at", "due_at", "tier_deadline"):  # 四级四事 too
        value = getattr(case, name)
        if value is not None:
            setattr(case, name, cal.add_minutes(value, minutes, working=case.clock_working))
    return minutes


def start_case(
    case: Case, *, at: datetime, actor: Actor, role: str, initial: str, note: str = ""
) -> CaseEvent:
    """Give a new (unsaved) case its first state, clock and event."""
    case.state = initial
    case.created_at = case.updated_at = at
    clock: dict = {}
    enter_stage(case, at, clock)
    return CaseEvent(
        case=case,
        seq=1,
        action=Action.REPORT,
        from_state="",
        to_state=initial,
        actor_id=actor.user_id,
        actor_role=role,
        at=at,
        note=note,
        lon=case.lon,
        lat=case.lat,
        data={
            "channel": case.channel,
            "case_class": case.case_class.code if case.case_class_id else None,
            "urgency": case.urgency,
            "clock": clock,
        },
    )


def apply_move(
    case: Case,
    move: Move,
    *,
    actor: Actor,
    role: str,
    at: datetime,
    seq: int,
    note: str = "",
    data: dict | None = None,
    lon: float | None = None,
    lat: float | None = None,
) -> MoveResult:
    """Make ``move`` on ``case`` in memory. The caller has checked it (``check_move``) and saves."""
    data = dict(data or {})
    result = MoveResult(event=CaseEvent(case=case, seq=seq, action=move.action, from_state=case.state))
    late = case.stage_deadline is not None and case.paused_at is None and at > case.stage_deadline
    cal = limits.calendar()
    a = move.action
    if a == Action.REGISTER:
        case.registered_at = at
    elif a == Action.DISPATCH:
        case.department_id = data["department"]
        case.dispatched_at = at
        case.due_at = cal.add(at, limits.handle_limit(case.case_class, case.urgency))
        result.units = [(data["department"], True)] + [(d, False) for d in data.get("co_departments", [])]
    elif a == Action.RETURN:
        case.return_count += 1
        case.department_id = None
        case.due_at = None
    elif a == Action.CHECK_FAIL:
        case.rework_count += 1
        case.due_at = cal.add(at, _handle_limit(case))
        if case.tier != Tier.STREET:  # reworked at its tier: the tier's clock, escalated if missed
            case.tier_deadline = case.due_at
    elif a == Action.CLOSE:
        case.closed_at = at
    elif a == Action.RATE:
        case.satisfaction = data["satisfaction"]
        case.rating_comment = data.get("comment", "")
        case.rated_at = at
    elif a == Action.FOLLOW_UP:
        case.followup = {**data, "at": iso_time(at)}
    elif a == Action.EXTEND_REQUEST:
        case.pending_extension = {"limit": data["limit"], "requested_at": iso_time(at)}
    elif a == Action.EXTEND_APPROVE:
        extra = Limit.from_dict(case.pending_extension["limit"])
        case.due_at = cal.add(case.due_at, extra)
        case.stage_deadline = case.due_at
        case.stage_warn_at = cal.warn_at(
            case.stage_started_at, case.due_at, limits.warn_share(), working=case.clock_working
        )
        case.extension_count += 1
        case.stage_seq += 1  # a new deadline: its warning and overdue notice are due afresh
        data = {**data, "limit": case.pending_extension["limit"], "deadline": iso_time(case.due_at)}
        case.pending_extension = None
    elif a == Action.EXTEND_REJECT:
        case.pending_extension = None
    elif a in (Action.PAUSE, Action.SUSPEND):
        case.paused_at = at
        if a == Action.SUSPEND:
            case.review_on = date.fromisoformat(data["review_on"])
    elif a in (Action.UNPAUSE, Action.RESUME):
        data = {**data, "paused_minutes": _shift_clock(case, case.paused_at, at)}
        case.paused_at = None
        case.review_on = None
    elif a == Action.SELF_RESOLVE:
        case.self_resolved = True
        case.registered_at = case.registered_at or at
    if move.target is not None and move.target != case.state:
        data["late"] = late
        case.late_stages += int(late)
        case.state = move.target
        if a == Action.RESUME:
            # The handling clock restarts where it stood, shifted by the suspension.
            case.stage_seq += 1
            case.stage = Stage.HANDLE
            case.stage_started_at = at
            case.stage_deadline = case.due_at
            case.stage_warn_at = cal.warn_at(at, case.due_at, limits.warn_share(), working=case.clock_working)
            data["clock"] = {
                "stage": Stage.HANDLE,
                "deadline": iso_time(case.due_at),
                "warn_at": iso_time(case.stage_warn_at),
            }
        else:
            clock: dict = {}
            enter_stage(case, at, clock)
            data["clock"] = clock
    case.version += 1
    case.updated_at = at
    event = result.event
    event.to_state, event.actor_id, event.actor_role = case.state, actor.user_id, role
    event.at, event.note, event.lon, event.lat, event.data = at, note, lon, lat, data
    return result

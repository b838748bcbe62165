"""Who may move a case between tiers, and from which states (docs/decisions/0005).

A grassroots tier (building, estate, community) handles a case in the state "being handled"
with the tier's clock; its owners resolve it (on to the usual check and closure) or escalate it.
Operators of the command centre and the street may re-route any case in their area. Tier-only
roles (``accounts.models.TIER_ROLES``) act through the (role, region) they hold, never through
the territory of another role.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from civicgrid.accounts.models import TIER_ROLES, Role
from civicgrid.accounts.scopes import Scope
from civicgrid.cases.models import Case, CaseState, Tier
from civicgrid.cases.workflow import ACTION_LABELS, Action, Actor
from civicgrid.errors import DomainError
from civicgrid.routing.config import Routing, TierConf, routing

S = CaseState
ESCALATE, SEND_DOWN, RESOLVE = Action.TIER_ESCALATE, Action.TIER_SEND_DOWN, Action.TIER_RESOLVE
ACTIONS = (RESOLVE, ESCALATE, SEND_DOWN)
# Who may re-route any case in their area (not resolve it: that is the tier's own work).
ROUTERS = (Role.OPERATOR, Role.SHIFT_LEAD, Role.STREET_OPERATOR)
# At the street tier a case may be sent down only before a department has it; a department that
# holds a misrouted case returns it (回退) first.
STREET_SEND_DOWN_STATES = frozenset({S.VERIFYING, S.REPORTED, S.REGISTERED})
REASON_MAX = 2000


def _places(case: Case) -> tuple[int, ...]:
    return (case.grid_id, case.community_id, case.street_id, case.district_id)


def owner_role(scope: Scope, case: Case, conf: TierConf) -> str | None:
    """The role under which the reader owns the case's tier ``conf`` where the case is."""
    places = _places(case)
    in_area = scope.everything or case.grid_id in scope.region_ids
    for role in conf.owner_roles:
        if role in TIER_ROLES:
            if any((role, region) in scope.tier_anchors for region in places):
                return role
        elif scope.has_role(role) and in_area:
            return role
    return None


def _router_role(scope: Scope, case: Case) -> str | None:
    if scope.everything or case.grid_id in scope.region_ids:
        return next((r for r in ROUTERS if scope.has_role(r)), None)
    return None


def _at_grassroots(case: Case) -> bool:
    return case.tier != Tier.STREET and case.state == S.HANDLING and case.paused_at is None


def possible(case: Case, action: str, conf: Routing) -> bool:
    if action in (ESCALATE, RESOLVE):
        return _at_grassroots(case)
    if action == SEND_DOWN:
        if not conf.below(case.tier):
            return False
        return _at_grassroots(case) or (case.tier == Tier.STREET and case.state in STREET_SEND_DOWN_STATES)
    return False


def acting_role(case: Case, action: str, scope: Scope, conf: Routing) -> str | None:
    owner = owner_role(scope, case, conf.conf(case.tier))
    if action == RESOLVE:
        return owner
    return owner or _router_role(scope, case)


def available(case: Case, actor: Actor) -> list[str]:
    conf = routing()
    return [a for a in ACTIONS if possible(case, a, conf) and acting_role(case, a, actor.scope, conf)]


def label(action: str) -> str:
    return str(ACTION_LABELS[action])


def check(case: Case, action: str, actor: Actor, *, reason: str, to_tier: str = "") -> tuple[str, TierConf]:
    """The acting role and the tier the case goes to, or the refusal (nothing is changed):
    409 from this state or tier, 403 for this person, 400 for a missing reason or a bad tier."""
    conf = routing()
    if action not in ACTIONS:
        raise DomainError("unknown_action", _("There is no move called %(a)s.") % {"a": action})
    allowed = {"state": case.state, "tier": case.tier, "allowed": available(case, actor)}
    if action == SEND_DOWN and not conf.below(case.tier):
        raise DomainError(
            "no_lower_tier",
            _("The case is at the lowest tier; it cannot be sent further down."),
            allowed,
            status=409,
        )
    if not possible(case, action, conf):
        raise DomainError(
            "illegal_move",
            _("“%(move)s” is not possible while the case is “%(state)s” at the tier “%(tier)s”.")
            % {"move": label(action), "state": S(case.state).label, "tier": Tier(case.tier).label},
            allowed,
            status=409,
        )
    role = acting_role(case, action, actor.scope, conf)
    if role is None:
        raise DomainError(
            "move_forbidden",
            _("You may not “%(move)s” this case.") % {"move": label(action)},
            allowed,
            status=403,
        )
    if not reason.strip():
        raise DomainError(
            "reason_required", _("“%(move)s” needs a written reason.") % {"move": label(action)}
        )
    if len(reason) > REASON_MAX:
        raise DomainError(
            "text_too_long",
            _("The reason is longer than %(n)d characters.") % {"n": REASON_MAX},
            {"max": REASON_MAX},
        )
    return role, _target(case, action, to_tier, conf)


def _target(case: Case, action: str, to_tier: str, conf: Routing) -> TierConf:
    if action == RESOLVE:
        return conf.conf(case.tier)
    if action == ESCALATE:
        return conf.above(case.tier)
    lower = conf.below(case.tier)
    if not to_tier:  # one rung down unless told
        return lower[-1]
    found = next((t for t in lower if t.tier == to_tier), None)
    if found is None:
        raise DomainError(
            "bad_tier",
            _("Send the case down to one of: %(t)s.") % {"t": ", ".join(t.label for t in lower)},
            {"to_tier": to_tier, "allowed": [t.tier for t in lower]},
        )
    return found

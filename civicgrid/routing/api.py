"""/api/v1/routing: the tier ladder, your tiers' cases, and the moves between tiers (四级四事).
Thin: parse, call a service, render. A case's level is given when it is created
(POST /api/v1/cases/, field ``level``)."""

from __future__ import annotations

from ninja import Router

from civicgrid.accounts.scopes import request_scope
from civicgrid.cases.api import READ, WRITE, actor_for
from civicgrid.cases.selectors import case_queryset
from civicgrid.routing import presenters, rules, selectors, services
from civicgrid.routing.schemas import RoutedListOut, RoutedOut, RoutingConfigOut, SendDownIn, TierMoveIn

router = Router(tags=["routing"])
LIST_MAX = 200


@router.get("/config", response=RoutingConfigOut, auth=READ, summary="The tier ladder and level → first tier")
def config(request):
    return presenters.config_out()


@router.get("/cases", response=RoutedListOut, auth=READ, summary="Open cases at the grassroots tiers you see")
def tier_cases(request, tier: str = "", limit: int = 50, offset: int = 0):
    actor = actor_for(request)
    found = selectors.tier_case_list(scope=actor.scope, tier=tier)
    page = found[max(offset, 0) : max(offset, 0) + min(max(limit, 1), LIST_MAX)]
    return {"count": found.count(), "items": [presenters.routed(c, actor) for c in page]}


def _moved(request, number: str, action: str, payload, to_tier: str = "") -> dict:
    actor = actor_for(request)
    case = services.tier_move(
        actor=actor,
        number=number,
        action=action,
        version=payload.version,
        reason=payload.reason,
        to_tier=to_tier,
    )
    visible = case_queryset(request_scope(request)).filter(pk=case.pk).exists()
    return presenters.routed(case, actor, visible=visible)


@router.post("/cases/{number}/escalate", response=RoutedOut, auth=WRITE, summary="Escalate to the next tier")
def escalate(request, number: str, payload: TierMoveIn):
    return _moved(request, number, rules.ESCALATE, payload)


@router.post("/cases/{number}/send-down", response=RoutedOut, auth=WRITE, summary="Send down (misrouted)")
def send_down(request, number: str, payload: SendDownIn):
    return _moved(request, number, rules.SEND_DOWN, payload, payload.to_tier)


@router.post("/cases/{number}/resolve", response=RoutedOut, auth=WRITE, summary="Resolved at the tier")
def resolve(request, number: str, payload: TierMoveIn):
    return _moved(request, number, rules.RESOLVE, payload)

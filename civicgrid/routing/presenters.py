"""A case as routing shows it: where it stands on the ladder and what the reader may do."""

from __future__ import annotations

from civicgrid.cases.models import Case, Tier
from civicgrid.cases.workflow import Actor
from civicgrid.routing import rules
from civicgrid.routing.config import routing


def routed(case: Case, actor: Actor, *, visible: bool = True) -> dict:
    return {
        "number": case.number,
        "title": case.title,
        "state": case.state,
        "level": case.level,
        "tier": case.tier,
        "tier_label": str(Tier(case.tier).label),
        "tier_deadline": case.tier_deadline,
        "version": case.version,
        "grid": case.grid.name,
        "community": case.community.name,
        "moves": rules.available(case, actor) if visible else [],
        "visible": visible,
    }


def config_out() -> dict:
    conf = routing()
    return {
        "tiers": [
            {
                "tier": t.tier,
                "label": t.label,
                "position": t.position,
                "owner_roles": list(t.owner_roles),
                "limit": t.limit_text,
                "meeting_form": t.meeting_form,
            }
            for t in conf.ladder
        ],
        "first_tier": dict(conf.first),
    }

"""``{% routing_panel case %}``: a case's level, tier, tier deadline and the tier moves the reader
may make, for the staff case page (one line there)."""

from __future__ import annotations

from django import template
from django.utils import timezone

from civicgrid.cases.api import actor_for
from civicgrid.cases.models import Level, Tier
from civicgrid.routing import rules
from civicgrid.routing.config import routing

register = template.Library()


@register.inclusion_tag("routing/_panel.html", takes_context=True)
def routing_panel(context, case):
    request = context["request"]
    conf = routing()
    moves = rules.available(case, actor_for(request))
    tier = conf.conf(case.tier)
    posted = context.get("posted") or {}
    return {
        "case": case,
        "level_label": Level(case.level).label,
        "tier_label": Tier(case.tier).label,
        "meeting_form": tier.meeting_form,
        "overdue": bool(case.tier_deadline and case.tier_deadline < timezone.now()),
        "moves": [(a, rules.label(a)) for a in moves],
        "lower": conf.below(case.tier) if rules.SEND_DOWN in moves else [],
        "posted": posted if posted.get("action") in rules.ACTIONS else {},
        "csrf_token": context.get("csrf_token"),
    }

"""Reads for routing, scope-filtered like every case read (``cases.selectors.case_queryset``):
what a tier role may see, the tier list of a page, and whom a tier's case waits for."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from civicgrid.accounts.models import GridPost, GridStaffing, Role, RoleAssignment
from civicgrid.accounts.scopes import Scope
from civicgrid.cases.models import OPEN_STATES, Case, Tier
from civicgrid.errors import DomainError
from civicgrid.regions.models import Level, Region
from civicgrid.routing.config import routing

# The case column holding a region of each level (cases are denormalised down the tree).
_COLUMN = {Level.DISTRICT: "district_id", Level.STREET: "street_id", Level.COMMUNITY: "community_id"}


def tier_scope_q(scope: Scope) -> Q:
    """Cases a tier role reaches: at a tier its role owns, under the region the role is held on.
    Read by ``cases.selectors.case_scope_q``, so every case read applies it."""
    conf = routing()
    levels = dict(
        Region.objects.filter(id__in={r for _role, r in scope.tier_anchors}).values_list("id", "level")
    )
    q = Q(pk__in=[])
    for role, region in sorted(scope.tier_anchors):
        tiers = conf.tiers_of(role)
        if tiers and region in levels:
            q |= Q(tier__in=sorted(tiers), **{_COLUMN.get(levels[region], "grid_id"): region})
    return q


def tier_case_list(*, scope: Scope, tier: str = "") -> QuerySet[Case]:
    """Open cases at a grassroots tier that the reader may see, the nearest tier deadline first."""
    from civicgrid.cases.selectors import case_queryset  # cases.selectors reads this module

    query = case_queryset(scope).filter(state__in=sorted(OPEN_STATES)).exclude(tier=Tier.STREET)
    if tier:
        if tier not in Tier.values or tier == Tier.STREET:
            raise DomainError(
                "unknown_tier",
                _("There is no grassroots tier %(t)s.") % {"t": tier},
                {"tier": tier, "allowed": _grassroots()},
            )
        query = query.filter(tier=tier)
    return query.select_related("case_class", "grid", "community").order_by("tier_deadline", "id")


def _grassroots() -> list[str]:
    return [t.tier for t in routing().ladder if t.grassroots]


def tier_owner_ids(case: Case, tier: str | None = None) -> list[int]:
    """Who owns ``tier`` (the case's own by default) where the case is: the people it waits for,
    told of each routing move and of its warnings and overdue notices."""
    conf = routing().conf(tier or case.tier)
    day = timezone.localdate()
    places = [case.grid_id, case.community_id, case.street_id, case.district_id]
    active = Q(valid_from__lte=day) & (Q(valid_until__isnull=True) | Q(valid_until__gte=day))
    users = set(
        RoleAssignment.objects.filter(active, role__in=conf.owner_roles, region_id__in=places).values_list(
            "user_id", flat=True
        )
    )
    if Role.GRID_WORKER in conf.owner_roles:  # grid workers hold posts, not role assignments
        posts = GridStaffing.objects.filter(
            grid_id=case.grid_id, post__in=[GridPost.FULL_TIME, GridPost.PART_TIME]
        )
        users |= set(
            posts.filter(Q(start__lte=day), Q(end__isnull=True) | Q(end__gte=day)).values_list(
                "user_id", flat=True
            )
        )
    return sorted(users)

"""The routing configuration as the code reads it: defaults overlaid with the back office's rows,
cached per process for a few seconds (``cases.limits.cached``) like every other case limit, so
an edit reaches every worker without a restart.
"""

from __future__ import annotations

from dataclasses import dataclass

from civicgrid.cases import limits
from civicgrid.cases.clock import Limit, parse_limit
from civicgrid.cases.models import Tier
from civicgrid.routing.defaults import DEFAULT_FIRST_TIER, DEFAULT_TIERS
from civicgrid.routing.models import LevelRoute, TierSetting


@dataclass(frozen=True)
class TierConf:
    tier: str
    position: int
    owner_roles: tuple[str, ...]
    limit: Limit | None  # None: the street tier (ordinary workflow clock)
    limit_text: str
    meeting_form: str
    active: bool

    @property
    def grassroots(self) -> bool:
        return self.tier != Tier.STREET

    @property
    def label(self) -> str:
        return str(Tier(self.tier).label)


@dataclass(frozen=True)
class Routing:
    ladder: tuple[TierConf, ...]  # active tiers, lowest first; the street tier is always last
    first: dict[str, str]  # level → first tier (an inactive one resolved to the next active)
    tiers: dict[str, TierConf]  # every tier, active or not (a case may sit at one switched off)

    def conf(self, tier: str) -> TierConf:
        return self.tiers[tier]

    def above(self, tier: str) -> TierConf | None:
        """The next active tier up from ``tier`` (which may itself be inactive now)."""
        return next((t for t in self.ladder if t.position > self.tiers[tier].position), None)

    def below(self, tier: str) -> list[TierConf]:
        return [t for t in self.ladder if t.position < self.tiers[tier].position]

    def tiers_of(self, role: str) -> frozenset[str]:
        return frozenset(t.tier for t in self.ladder if t.grassroots and role in t.owner_roles)


def _build() -> Routing:
    rows = {
        t: (pos, tuple(roles), limit, form, True) for t, (pos, roles, limit, form) in DEFAULT_TIERS.items()
    }
    for row in TierSetting.objects.all():
        rows[row.tier] = (row.position, tuple(row.owner_roles), row.limit, row.meeting_form, row.active)
    # The street tier is the top rung whatever its row says (the ordinary workflow ends the ladder).
    street = rows[Tier.STREET]
    rows[Tier.STREET] = (max(r[0] for r in rows.values()) + 1, street[1], "", street[3], True)
    tiers = {
        t: TierConf(t, pos, roles, parse_limit(limit) if t != Tier.STREET else None, limit, form, active)
        for t, (pos, roles, limit, form, active) in rows.items()
    }
    ladder = tuple(sorted((c for c in tiers.values() if c.active), key=lambda c: c.position))
    routing = Routing(ladder=ladder, first={}, tiers=tiers)
    first = dict(DEFAULT_FIRST_TIER) | dict(LevelRoute.objects.values_list("level", "first_tier"))
    for level, tier in first.items():
        routing.first[level] = tier if tiers[tier].active else routing.above(tier).tier
    return routing


def routing() -> Routing:
    return limits.cached("routing", _build)


def tier_limit(tier: str) -> Limit | None:
    """The handling limit of a grassroots tier; None at the street tier (the class's limit runs)."""
    return None if tier == Tier.STREET else routing().conf(tier).limit

"""The documented default of 四级四事 routing (docs/routing.md), loaded by migration 0002 and used
for any tier or level the back office has no row for.

No public source defines the routing exactly (cn-grid-domain.md: "[NF] … model it as
家庭事→邻里事→小区事→社区事, each level with its own handler and escalation"); this reads the
Xuanwu description (xuanwu-133-model.txt): 家庭事/邻里事 by the building leader or a mediator at the
door, 小区事 by the building party branch with the owners' committee in a residents' council,
社区事 by the community party organisation in a party members' and residents' representatives'
meeting; beyond that the street and district departments (the ordinary dispatch).
"""

from __future__ import annotations

from civicgrid.accounts.models import Role
from civicgrid.cases.models import Level, Tier

# tier: (position, owner roles, time limit for cases.clock.parse_limit, meeting form)
DEFAULT_TIERS: dict[str, tuple[int, tuple[str, ...], str, str]] = {
    Tier.BUILDING: (1, (Role.BUILDING_LEADER, Role.MEDIATOR), "3工作日", "上门做工作"),
    Tier.ESTATE: (2, (Role.BUILDING_BRANCH, Role.OWNERS_COMMITTEE), "5工作日", "居民议事会"),
    Tier.COMMUNITY: (3, (Role.PARTY_SECRETARY, Role.COMMUNITY_STAFF), "10工作日", "党员和居民代表大会"),
    # The ordinary workflow: registered by the command centre and dispatched to departments.
    Tier.STREET: (4, (Role.OPERATOR, Role.SHIFT_LEAD, Role.STREET_OPERATOR), "", ""),
}

DEFAULT_FIRST_TIER: dict[str, str] = {
    Level.FAMILY: Tier.BUILDING,
    Level.NEIGHBOURHOOD: Tier.BUILDING,
    Level.ESTATE: Tier.ESTATE,
    Level.COMMUNITY: Tier.COMMUNITY,
    Level.STREET: Tier.STREET,
    Level.DISTRICT: Tier.STREET,
}

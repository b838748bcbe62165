"""What part of the district a person may see: the union of their roles' scopes.

Every selector that lists or fetches scoped objects filters through ``Scope``; a view never
filters by hand. A role over a region covers its whole subtree; a department role covers what
is sent to that department; a grid post (``GridStaffing``) covers its grid.
"""

from __future__ import annotations

import functools
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from django.db import connection
from django.db.models import Q
from django.utils import timezone

from civicgrid.accounts.models import TIER_ROLES, GridStaffing, Role, RoleAssignment
from civicgrid.regions.models import Region
from civicgrid.sql import column, table


@dataclass(frozen=True)
class Scope:
    """The regions and departments a user's roles reach, on one day."""

    user_id: int | None
    roles: frozenset[str] = frozenset()
    region_ids: frozenset[int] = frozenset()
    department_ids: frozenset[int] = frozenset()
    # Region ids the user holds a role *on* (not the subtree), for "their grids" lists.
    anchors: frozenset[int] = field(default=frozenset())
    # True when the scope reaches every region: filters are then skipped, because a district-wide
    # IN list of ~700 ids costs 1.5–2× the unfiltered query (bench/bench_scopes.py).
    everything: bool = False
    # (role, region id) of the tier roles (``TIER_ROLES``): kept apart from ``anchors`` because
    # they reach only the cases routed to that role's tiers there (``civicgrid.routing``).
    tier_anchors: frozenset[tuple[str, int]] = field(default=frozenset())

    def has_role(self, *roles: str) -> bool:
        return not self.roles.isdisjoint(roles)

    def covers_region(self, region_id: int) -> bool:
        return region_id in self.region_ids

    def covers_department(self, department_id: int) -> bool:
        return department_id in self.department_ids


ANONYMOUS = Scope(user_id=None)


def region_q(scope: Scope, field: str) -> Q:
    """A filter keeping rows whose region ``field`` (a FK or its id) lies inside ``scope``."""
    if scope.everything:
        return Q()
    return Q(**{f"{field}__in": scope.region_ids})


# The region tree (children by parent), read at most every TREE_TTL seconds per process: reading
# all ~700 regions cost ~15 % of a create-case request (bench/bench_cases_create.py). A save or
# delete of a region in this process drops it at once; other processes see a re-parented region
# within TREE_TTL seconds.
TREE_TTL = 10.0
_tree: dict[str, tuple] = {}


def _region_tree() -> dict:
    """{"children": by parent id, "total": count, "subtrees": answers so far} of this process."""
    now = time.monotonic()
    cached = _tree.get("tree")
    if cached is not None and now - cached[0] < TREE_TTL:
        return cached[1]
    children: dict[int | None, list[int]] = defaultdict(list)
    total = 0
    # order_by(): the models' default orderings (by code, by grid) would sort and join for nothing.
    for region_id, parent_id in Region.objects.order_by().values_list("id", "parent_id"):
        children[parent_id].append(region_id)
        total += 1
    tree = {"children": dict(children), "total": total, "subtrees": {}}
    _tree["tree"] = (now, tree)
    return tree


def forget_region_tree(*args, **kwargs) -> None:
    """Drop the cached region tree (a region was saved or deleted; bulk writes call it too)."""
    _tree.clear()


def region_subtrees(root_ids: set[int]) -> tuple[frozenset[int], bool]:
    """Ids of the given regions and every region below them, and whether that is all regions."""
    if not root_ids:
        return frozenset(), False
    tree = _region_tree()
    roots = frozenset(root_ids)
    known = tree["subtrees"].get(roots)
    if known is not None:  # the same anchors again (most requests come from few people)
        return known
    children = tree["children"]
    found, stack = set(), list(roots)
    while stack:
        node = stack.pop()
        if node in found:
            continue
        found.add(node)
        stack.extend(children.get(node, ()))
    answer = (frozenset(found), len(found) == tree["total"])
    if len(tree["subtrees"]) < 4096:
        tree["subtrees"][roots] = answer
    return answer


@functools.cache
def _scope_sql() -> str:
    """The user's roles valid on a day, and their grid posts on it (as the role "")."""
    ra, gs, c = RoleAssignment, GridStaffing, column
    return (
        f"SELECT {c(ra, 'role')}, {c(ra, 'region')}, {c(ra, 'department')} FROM {table(ra)} "
        f"WHERE {c(ra, 'user')} = %s AND {c(ra, 'valid_from')} <= %s "
        f"AND ({c(ra, 'valid_until')} IS NULL OR {c(ra, 'valid_until')} >= %s) "
        f"UNION ALL SELECT '', {c(gs, 'grid')}, NULL FROM {table(gs)} "
        f"WHERE {c(gs, 'user')} = %s AND {c(gs, 'start')} <= %s "
        f"AND ({c(gs, 'end')} IS NULL OR {c(gs, 'end')} >= %s)"
    )


def scope_for(user, *, on: date | None = None) -> Scope:
    """The scope of ``user`` today (or ``on``); anonymous and inactive users get nothing."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return ANONYMOUS
    on = on or timezone.localdate()
    # Roles and grid posts in one round trip (this runs on every request; building the same
    # two ORM queries cost more than running them); a post comes back as the role "" on its grid.
    day = on.isoformat()
    with connection.cursor() as cursor:
        cursor.execute(_scope_sql(), [user.pk, day, day, user.pk, day, day])
        rows = cursor.fetchall()
    assignments = [row for row in rows if row[0]]
    posts = [region for role, region, _d in rows if not role]
    roles = {role for role, _, _ in assignments}
    if posts:
        roles.add(Role.GRID_WORKER)
    tiered = {(role, region) for role, region, _ in assignments if role in TIER_ROLES}
    anchors = {region for role, region, _ in assignments if region and role not in TIER_ROLES} | set(posts)
    departments = {department for _, _, department in assignments if department}
    region_ids, everything = region_subtrees(anchors)
    return Scope(
        user_id=user.pk,
        roles=frozenset(roles),
        region_ids=region_ids,
        department_ids=frozenset(departments),
        anchors=frozenset(anchors),
        everything=everything,
        tier_anchors=frozenset(tiered),
    )


def request_scope(request) -> Scope:
    """The scope of the request's user, computed once per request."""
    scope = getattr(request, "_civicgrid_scope", None)
    if scope is None:
        scope = request._civicgrid_scope = scope_for(getattr(request, "user", None))
    return scope

"""Reads of people and departments, always through the reader's scope."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from civicgrid.accounts.models import (
    Department,
    GridPost,
    GridStaffing,
    Role,
    RoleAssignment,
    SecondFactorPolicy,
)
from civicgrid.accounts.scopes import Scope, region_q
from civicgrid.errors import NotFound, OutOfScope
from civicgrid.regions.models import Region

# Chief first, then the workers, then the party branch: how a grid's notice board reads.
_POST_ORDER = [GridPost.CHIEF, GridPost.FULL_TIME, GridPost.PART_TIME, GridPost.BRANCH_SECRETARY]


def _current_staffing() -> QuerySet[GridStaffing]:
    today = timezone.localdate()
    return GridStaffing.objects.filter(Q(end__isnull=True) | Q(end__gte=today), start__lte=today)


def grid_people(*, scope: Scope, grid: Region) -> list[GridStaffing]:
    """Who serves ``grid`` now; nothing unless the reader's scope covers the grid."""
    if not scope.covers_region(grid.pk):
        return []
    rows = _current_staffing().filter(grid=grid).select_related("user").order_by("start")
    return sorted(rows, key=lambda row: _POST_ORDER.index(row.post))


def grid_people_or_404(*, scope: Scope, code: str) -> tuple[Region, list[GridStaffing]]:
    grid = Region.objects.filter(code=code).first()
    message = _("Region %(code)s does not exist.") % {"code": code}
    if grid is None:
        raise NotFound("region_not_found", message)
    if not scope.covers_region(grid.pk):
        # Answers exactly like an absent region, so existence does not leak; audited.
        raise OutOfScope("region_not_found", message, object_type="region.people", object_id=code)
    return grid, grid_people(scope=scope, grid=grid)


def staffing_history(*, scope: Scope, grid: Region) -> QuerySet[GridStaffing]:
    """Every post ever held in ``grid``, newest first (empty outside the scope)."""
    if not scope.covers_region(grid.pk):
        return GridStaffing.objects.none()
    return GridStaffing.objects.filter(grid=grid).select_related("user").order_by("-start")


def department_list(*, scope: Scope) -> QuerySet[Department]:
    """Departments serving a region in the reader's scope, and the reader's own departments."""
    if scope.everything:
        return Department.objects.order_by("code")
    return Department.objects.filter(region_q(scope, "region") | Q(id__in=scope.department_ids)).order_by(
        "code"
    )


def second_factor_required(*, user) -> bool:
    """Whether a role ``user`` holds today is one the security admin marked as needing TOTP.

    Cheaper than ``scope_for`` (no region tree), since the setup middleware asks on every page.
    """
    required = set(SecondFactorPolicy.objects.filter(required=True).values_list("role", flat=True))
    if not required or user is None or not user.is_authenticated:
        return False
    today = timezone.localdate()
    active = Q(valid_from__lte=today) & (Q(valid_until__isnull=True) | Q(valid_until__gte=today))
    if RoleAssignment.objects.filter(active, user=user, role__in=required).exists():
        return True
    # A current grid post makes a grid worker without a role row (as in ``scope_for``).
    return Role.GRID_WORKER in required and _current_staffing().filter(user=user).exists()

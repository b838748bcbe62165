"""Who sees which part of Xuanwu: persona tests over the demo staff."""

from datetime import date

import pytest
from django.db.models import Q

from civicgrid.accounts.models import GridPost, GridStaffing, Role, RoleAssignment, User
from civicgrid.accounts.scopes import ANONYMOUS, region_q, scope_for
from civicgrid.regions.models import Region

pytestmark = pytest.mark.django_db
GRID_A = "32010200200101"  # 梅园新村社区
GRID_B = "32010201000101"  # 板仓社区, another street


def _scope(username):
    return scope_for(User.objects.get(username=username))


def _id(code):
    return Region.objects.get(code=code).pk


def test_a_grid_worker_sees_their_grid_and_nothing_else(demo_staff):
    scope = _scope(f"gw-{GRID_A}")
    assert scope.covers_region(_id(GRID_A))
    assert not scope.covers_region(_id(GRID_B))
    assert not scope.covers_region(_id("32010200200102"))  # the next grid in the same community
    assert scope.region_ids == {_id(GRID_A)}
    assert Role.GRID_WORKER in scope.roles


def test_a_street_operator_sees_their_street_subtree(demo_staff):
    scope = _scope("street-320102002")
    street = Region.objects.get(code="320102002000")
    grids = set(Region.objects.filter(parent__parent=street).values_list("id", flat=True))
    assert grids and grids <= scope.region_ids
    assert not scope.covers_region(_id(GRID_B))
    assert not scope.covers_region(_id("320102000000"))  # not the district above


def test_a_grid_chief_sees_every_grid_of_the_community(demo_staff):
    scope = _scope("chief-320102002001")
    community = Region.objects.get(code="320102002001")
    assert set(community.children.values_list("id", flat=True)) <= scope.region_ids
    assert not scope.covers_region(_id(GRID_B))


def test_the_command_centre_sees_the_whole_district(demo_staff):
    scope = _scope("operator")
    assert scope.region_ids == set(Region.objects.values_list("id", flat=True))
    # Selectors then skip the filter instead of sending every id (see bench_scopes).
    assert scope.everything and region_q(scope, "grid") == Q()
    street = _scope("street-320102002")
    assert not street.everything and region_q(street, "grid") == Q(grid__in=street.region_ids)


def test_a_department_sees_its_department_not_territory(demo_staff):
    scope = _scope("dept-d01")
    assert scope.region_ids == frozenset()
    assert len(scope.department_ids) == 1
    assert not _scope("dept-d02").department_ids & scope.department_ids


@pytest.mark.parametrize("username", ["resident1", "auditor", "secadmin", "admin"])
def test_unscoped_roles_see_no_territory(demo_staff, username):
    assert _scope(username).region_ids == frozenset()


def test_ended_posts_and_roles_stop_counting(demo_staff):
    worker = User.objects.get(username=f"gw-{GRID_A}")
    GridStaffing.objects.filter(user=worker).update(end=date(2026, 6, 30))
    assert scope_for(worker, on=date(2026, 6, 30)).covers_region(_id(GRID_A))
    assert scope_for(worker, on=date(2026, 7, 1)).region_ids == frozenset()
    operator = User.objects.get(username="operator")
    RoleAssignment.objects.filter(user=operator).update(valid_until=date(2026, 3, 1))
    assert scope_for(operator, on=date(2026, 3, 2)).region_ids == frozenset()


def test_anonymous_and_inactive_users_see_nothing(demo_staff):
    assert scope_for(None) == ANONYMOUS
    worker = User.objects.get(username=f"gw-{GRID_A}")
    worker.is_active = False
    worker.save()
    assert scope_for(worker) == ANONYMOUS


def test_every_grid_is_staffed_and_history_is_kept(demo_staff):
    grids = Region.objects.filter(level="grid")
    staffed = set(
        GridStaffing.objects.filter(post=GridPost.FULL_TIME, end__isnull=True).values_list(
            "grid_id", flat=True
        )
    )
    assert staffed == set(grids.values_list("id", flat=True))
    assert set(GridStaffing.objects.filter(post=GridPost.CHIEF).values_list("grid_id", flat=True)) == staffed


def test_a_re_parented_region_moves_between_scopes_at_once(demo_staff):
    """The region tree is cached per process; saving a region drops the cache."""
    street_a, street_b = _scope("street-320102002"), _scope("street-320102010")
    grid = Region.objects.get(code=GRID_A)
    assert street_a.covers_region(grid.pk) and not street_b.covers_region(grid.pk)
    grid.parent = Region.objects.get(code=GRID_B).parent  # into 板仓社区 (another street)
    grid.save()
    assert not _scope("street-320102002").covers_region(grid.pk)
    assert _scope("street-320102010").covers_region(grid.pk)

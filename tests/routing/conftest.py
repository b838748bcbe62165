"""The whole demo (committed once per module, as for the case tests) and routing helpers."""

from __future__ import annotations

import pytest

from civicgrid.routing import services
from tests.cases.conftest import actor, cases_demo, committed_demo, local, report  # noqa: F401
from tests.cases.steps import GRID_A, point_in


@pytest.fixture(scope="package")
def _module_demo(django_db_setup, django_db_blocker, demo_divisions):
    """The whole demo, committed once for this package's modules (not once per module: loading
    and emptying it cost more than most modules' tests); each test still runs in its own
    rolled-back transaction on top of it."""
    yield from committed_demo(django_db_blocker, demo_divisions)


BL_A = f"bl-{GRID_A}"  # building leader of GRID_A
OC_A = f"oc-{GRID_A}"  # owners' committee member of GRID_A
BB_A = f"bb-{GRID_A}"


def family_case(grid: str = GRID_A, *, level: str = "family", **fields):
    """A 家庭事 reported by the grid's worker: it starts at the building tier."""
    return report(f"gw-{grid}", point=point_in(grid), level=level, title="邻里漏水纠纷", **fields)


def tier(who: str, case, action: str, *, reason: str = "已上门协调", **kwargs):
    case.refresh_from_db()
    moved = services.tier_move(
        actor=actor(who), number=case.number, action=action, version=case.version, reason=reason, **kwargs
    )
    case.refresh_from_db()
    return moved

"""Fixtures for whistles: the case tests' committed demo (geography, staff, taxonomy) and helpers
to blow whistles and report in as the demo's people."""

from __future__ import annotations

import itertools

import pytest

from civicgrid.cases import limits
from civicgrid.whistles import services

from ..cases.conftest import actor, committed_demo, local  # noqa: F401  (fixtures and helpers)


@pytest.fixture(scope="package")
def _module_demo(django_db_setup, django_db_blocker, demo_divisions):
    """The whole demo, committed once for this package's modules (not once per module: loading
    and emptying it cost more than most modules' tests); each test still runs in its own
    rolled-back transaction on top of it."""
    yield from committed_demo(django_db_blocker, demo_divisions)


_keys = itertools.count(1)
STREET_A, STREET_B = "street-320102002", "street-320102010"  # 梅园新村街道, 玄武湖街道
STREET_A_CODE, STREET_B_CODE = "320102002000", "320102010000"
COMMUNITY_A = "320102002001"
STAFF_A = f"staff-{COMMUNITY_A}"
GW_A = "gw-32010200200101"


@pytest.fixture
def wdemo(_module_demo, db):
    """The whole Xuanwu demo with no cases and no whistles; configuration caches dropped."""
    limits.forget()
    yield _module_demo
    limits.forget()


def blow(who: str = STREET_A, *, kind: str = "routine", departments=("D01", "D02"), lead: str = "", **fields):
    """Blow a whistle as ``who`` (a username); a standalone matter unless ``case`` is given."""
    fields.setdefault("title", "占道经营反复回潮" if not fields.get("case") else "")
    data = services.WhistleInput(
        kind=kind, departments=list(departments), lead=lead or departments[0], **fields
    )
    return services.whistle_blow(
        actor=actor(who), data=data, idempotency_key=f"whistle-key-{next(_keys):06d}", submitted_by=who
    ).whistle


def report_in(who: str, whistle, **fields):
    fields.setdefault("attendees", "王伟、李娜")
    return services.summons_report_in(actor=actor(who), number=whistle.number, **fields)

"""Fixtures for patrols: the case tests' committed demo (geography and staff) once for the package,
key places inside the test grids, and helpers to patrol as the demo's people."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta

import numpy as np
import pytest
from django.utils import timezone

from civicgrid.accounts.models import User
from civicgrid.geo.tracks import LocalFrame
from civicgrid.patrol import defaults, services
from civicgrid.patrol.models import DutyRule, KeyPlace, KeyPlaceKind, PatrolPlan, PlaceRule
from civicgrid.regions.models import Region

from ..cases.conftest import committed_demo
from ..cases.steps import CHIEF_A, GRID_A, GRID_A2, GRID_B, GW_A, GW_A2, GW_B, PT_A, STAFF_A, STREET_A  # noqa: F401

_keys = itertools.count(1)
CHIEF_B = "chief-320102010001"  # 板仓社区 (GRID_B's community)


@pytest.fixture(scope="package")
def _module_demo(django_db_setup, django_db_blocker, demo_divisions):
    """The whole demo, committed once for this package; each test runs in its own rolled-back
    transaction on top of it."""
    yield from committed_demo(django_db_blocker, demo_divisions)


@pytest.fixture
def pdemo(_module_demo, db):
    """The demo with the shipped patrol defaults (a flush by another package may have emptied
    what migration 0002 wrote)."""
    defaults.defaults_install(PatrolPlan, PlaceRule, DutyRule)
    return _module_demo


def user(username: str) -> User:
    return User.objects.get(username=username)


def key() -> str:
    return f"test-{next(_keys):06d}"


def grid_point(code: str = GRID_A, dx: float = 0.0, dy: float = 0.0) -> tuple[float, float]:
    """A point ``dx`` m east and ``dy`` m north of a point well inside the grid."""
    shape = services.grid_shape(Region.objects.get(code=code))
    inside = shape.representative_point()
    frame = LocalFrame(inside.x, inside.y)
    return inside.x + dx / frame.kx, inside.y + dy / frame.ky


def place(
    code: str = GRID_A, *, radius_m: int = 50, kind: str = KeyPlaceKind.SCHOOL, name: str = ""
) -> KeyPlace:
    lon, lat = grid_point(code)
    return KeyPlace.objects.create(
        grid=Region.objects.get(code=code),
        name=name or f"测试小学{next(_keys)}",
        kind=kind,
        lon=lon,
        lat=lat,
        radius_m=radius_m,
    )


def walk(
    code: str = GRID_A,
    *,
    n: int = 61,
    step_m: float = 5.0,
    every_s: float = 5.0,
    start: datetime | None = None,
    x0: float = 0.0,
) -> list[services.PointIn]:
    """A straight walk eastwards from ``x0`` m east of the grid's inner point: ``n`` points
    ``step_m`` apart. (GRID_A reaches about 100 m west and 115 m east of that point.)"""
    start = start or timezone.now() - timedelta(hours=1)
    lon0, lat0 = grid_point(code)
    frame = LocalFrame(lon0, lat0)
    xs = x0 + np.arange(n) * step_m
    return [
        services.PointIn(
            seq=i, at=start + timedelta(seconds=i * every_s), lon=lon0 + x / frame.kx, lat=lat0, accuracy=5.0
        )
        for i, x in enumerate(xs)
    ]


def start(username: str = GW_A, code: str = GRID_A, *, at: datetime | None = None):
    patrol, _created = services.patrol_start(
        user=user(username),
        grid_code=code,
        client_key=key(),
        started_at=at or timezone.now() - timedelta(hours=1),
    )
    return patrol

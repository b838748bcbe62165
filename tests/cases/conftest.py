"""Fixtures for cases: the whole demo (geography, staff, taxonomy) and helpers to act as a role."""

from __future__ import annotations

import itertools
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from civicgrid.accounts.models import GridPost, GridStaffing, User
from civicgrid.accounts.scopes import scope_for
from civicgrid.cases import limits
from civicgrid.cases.services import CaseInput, case_create, case_move
from civicgrid.cases.workflow import Actor

SHANGHAI = ZoneInfo("Asia/Shanghai")
# A point inside 玄武区 (梅园新村街道 area) and the grid it falls in is looked up by the tests.
POINT = (118.7968, 32.0450)
_keys = itertools.count(1)


def local(*args) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


def actor(username: str) -> Actor:
    user = User.objects.get(username=username)
    return Actor(user_id=user.pk, scope=scope_for(user), name=str(user))


def worker_for(case) -> str:
    post = (
        GridStaffing.objects.filter(grid_id=case.grid_id, post=GridPost.FULL_TIME)
        .select_related("user")
        .first()
    )
    return post.user.username


def report(who: str = "", *, channel: str = "grid_worker", point=POINT, **fields):
    """Create a case as ``who`` (a username; empty: an anonymous resident)."""
    acting = actor(who) if who else Actor(user_id=None)
    data = CaseInput(channel=channel, lon=point[0], lat=point[1], **{"title": "楼道堆放杂物", **fields})
    return case_create(
        actor=acting, data=data, idempotency_key=f"test-key-{next(_keys):06d}", submitted_by=who or "anon"
    ).case


def move(who: str, case, action: str, **kwargs):
    case.refresh_from_db()
    return case_move(actor=actor(who), number=case.number, action=action, version=case.version, **kwargs)


@pytest.fixture
def cases_demo(demo_staff):
    limits.forget()
    yield demo_staff
    limits.forget()

"""Fixtures for cases: the whole demo (geography, staff, taxonomy) and helpers to act as a role."""

from __future__ import annotations

import itertools
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command

from civicgrid.accounts.models import GridPost, GridStaffing, User
from civicgrid.accounts.scopes import scope_for
from civicgrid.cases import limits
from civicgrid.cases.services import CaseInput, case_create, case_move
from civicgrid.cases.workflow import Actor
from civicgrid.regions import locator

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


class _Committed:
    """The demo committed for a module or a package (at most one at a time); a transactional test
    empties every table, so it drops this first (see ``transactional_db`` in tests/conftest.py)."""

    result = None
    # The locator's index of the demo's active generation, built once while the demo stays
    # committed (its boundaries cannot change under the tests; building it takes most of a
    # second, which each test would otherwise pay again after the per-test forget()).
    index = None

    @classmethod
    def load(cls, divisions):
        from civicgrid.demo import loader, xuanwu

        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(xuanwu, "build", lambda seed=xuanwu.DEFAULT_SEED: divisions)
            locator.forget()
            cls.result = loader.demo_load(people=True, cases=0, progress=lambda line: None)
            cls.index = locator.loaded_index()
        return cls.result

    @classmethod
    def reuse_index(cls):
        """Put the committed demo's index back into the locator's (just emptied) cache."""
        if cls.result is not None and cls.index is not None:
            locator._indexes[cls.index.generation_id] = cls.index

    @classmethod
    def drop(cls):
        if cls.result is not None:
            cls.result = cls.index = None
            call_command("flush", interactive=False, verbosity=0)
            locator.forget()


def committed_demo(django_db_blocker, divisions):
    """The whole demo, committed until the fixture using this generator ends; the tables are
    emptied then. Each test still runs in its own rolled-back transaction on top of it."""
    with django_db_blocker.unblock():
        result = _Committed.load(divisions)
    try:
        yield result
    finally:
        with django_db_blocker.unblock():
            _Committed.drop()


@pytest.fixture(scope="module")
def _module_demo(django_db_setup, django_db_blocker, demo_divisions):
    """The whole demo, committed once per test module (loading it takes about a second, and
    the case tests number in the hundreds); each test still runs in its own rolled-back
    transaction on top of it. The tables are emptied when the module is done. Packages whose
    modules are small (tests/open311, tests/hotline, ...) override this with a package-wide one."""
    yield from committed_demo(django_db_blocker, demo_divisions)


@pytest.fixture
def cases_demo(_module_demo, db):
    """The whole Xuanwu demo (geography, staff for every role, taxonomy) with no cases."""
    assert _Committed.result is _module_demo, "the committed demo was emptied by a transactional test"
    limits.forget()
    yield _module_demo
    limits.forget()

"""Shared fixtures: the Xuanwu demo, built once per session and loaded per test as needed."""

from __future__ import annotations

from functools import lru_cache

import pytest
from django.core.cache import cache

from civicgrid.accounts.scopes import forget_region_tree
from civicgrid.regions import locator


@lru_cache(maxsize=1)
def _demo_divisions():
    from civicgrid.demo import xuanwu

    return xuanwu.build()


@pytest.fixture(scope="session")
def demo_divisions():
    """All divisions of the Xuanwu demo with geometry (pure data, built once)."""
    return _demo_divisions()


def load_demo(divisions, monkeypatch, *, people=False):
    """Load the (already built) demo divisions; a generator for use in fixtures."""
    from civicgrid.demo import loader, xuanwu

    monkeypatch.setattr(xuanwu, "build", lambda seed=xuanwu.DEFAULT_SEED: divisions)
    locator.forget()
    yield loader.demo_load(people=people, cases=0, progress=lambda line: None)
    locator.forget()


@pytest.fixture
def demo(db, demo_divisions, monkeypatch):
    """The Xuanwu demo's geography in the test database, its generation active (no staff)."""
    yield from load_demo(demo_divisions, monkeypatch)


@pytest.fixture
def demo_staff(db, demo_divisions, monkeypatch):
    """The whole Xuanwu demo: geography and staff for every role."""
    yield from load_demo(demo_divisions, monkeypatch, people=True)


@pytest.fixture(autouse=True)
def _fresh_locator_cache():
    # Generation ids repeat between tests (each test's database starts empty); only the index of
    # a committed demo's generation, which outlives the test, is kept (tests/cases/conftest.py).
    from tests.cases.conftest import _Committed

    locator.forget()
    _Committed.reuse_index()
    forget_region_tree()
    cache.clear()  # rate-limit counters
    yield
    locator.forget()
    forget_region_tree()


@pytest.fixture
def transactional_db(transactional_db, django_db_blocker):
    """pytest-django's, after emptying a module's or package's committed demo (tests/cases/conftest.py)
    that is still there: pytest-django runs the transactional tests after the others, so one in a
    package that shares a committed demo may follow that package's last test that used it."""
    from tests.cases.conftest import _Committed

    with django_db_blocker.unblock():
        _Committed.drop()
    return transactional_db

"""Fixtures for the grid worker's app: the case tests' committed demo, shared by the package."""

from __future__ import annotations

import pytest

from civicgrid.cases import limits

from ..cases.conftest import committed_demo


@pytest.fixture(scope="package")
def _module_demo(django_db_setup, django_db_blocker, demo_divisions):
    """The whole demo, committed once for this package; each test runs in its own rolled-back
    transaction on top of it."""
    yield from committed_demo(django_db_blocker, demo_divisions)


@pytest.fixture
def mdemo(_module_demo, db):
    limits.forget()
    yield _module_demo
    limits.forget()

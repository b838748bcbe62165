"""Fixtures for the command centre: the case tests' committed demo (geography, staff, taxonomy)
once for the package, with the shipped score sets and settings."""

from __future__ import annotations

import pytest

from civicgrid.insight import defaults
from civicgrid.insight.models import InsightSettings, ScoreItem, ScoreSet

from ..cases.conftest import committed_demo


@pytest.fixture(scope="package")
def _module_demo(django_db_setup, django_db_blocker, demo_divisions):
    """The whole demo, committed once for this package; each test runs in its own rolled-back
    transaction on top of it."""
    yield from committed_demo(django_db_blocker, demo_divisions)


@pytest.fixture
def idemo(_module_demo, db):
    """The demo with the shipped score sets and settings (a flush by another package may have
    emptied what migration 0002 wrote)."""
    defaults.defaults_install(ScoreSet, ScoreItem, InsightSettings)
    return _module_demo

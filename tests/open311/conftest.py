"""Fixtures for the Open311 tests: the cases tests' demo (committed once per module) and an API
key as the district would issue it to an integration."""

from __future__ import annotations

import pytest

from civicgrid.accounts.models import User
from civicgrid.accounts.tokens import api_token_create
from civicgrid.cases import limits
from tests.cases.conftest import cases_demo, committed_demo  # noqa: F401  (fixtures)


@pytest.fixture(scope="package")
def _module_demo(django_db_setup, django_db_blocker, demo_divisions):
    """The whole demo, committed once for this package's modules (not once per module: loading
    and emptying it cost more than most modules' tests); each test still runs in its own
    rolled-back transaction on top of it."""
    yield from committed_demo(django_db_blocker, demo_divisions)


@pytest.fixture
def api_key(cases_demo) -> str:  # noqa: F811
    """A key with cases:write for the command-centre operator (an Open311 intake role)."""
    _row, plaintext = api_token_create(
        user=User.objects.get(username="operator"), name="open311", scopes=["cases:write"]
    )
    return plaintext


@pytest.fixture(autouse=True)
def _fresh_services():
    limits.forget()  # the service list is cached per process; each test's taxonomy is the demo's
    yield
    limits.forget()

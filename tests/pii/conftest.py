"""Fixtures for personal-data tests: a throw-away key file per test and a table with encrypted fields."""

from __future__ import annotations

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.test.utils import override_settings

from civicgrid.pii import keys


@pytest.fixture(autouse=True)
def pii_key_file(tmp_path, settings):
    """Every test gets its own key file, so no test can read another's data or the dev keys."""
    path = tmp_path / "pii-keys.json"
    keys.keyfile_create(path)
    settings.PII_KEY_FILE = path
    keys.forget()
    yield path
    keys.forget()


@pytest.fixture
def resident_model(transactional_db):
    """The test app's Resident model with its table (`civicgrid pii` is installed by settings).

    The table is created by the schema editor outside any transaction: SQLite can only switch
    foreign-key checks off (which its schema editor needs) when no transaction is open, so this
    needs transactional_db; the same code runs unchanged on PostgreSQL.
    """
    installed = [*django_settings.INSTALLED_APPS, "tests.pii.testapp"]
    with override_settings(INSTALLED_APPS=installed):
        from tests.pii.testapp.models import Resident

        with connection.schema_editor() as editor:
            editor.create_model(Resident)
        try:
            yield Resident
        finally:
            with connection.schema_editor() as editor:
                editor.delete_model(Resident)

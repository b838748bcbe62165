from io import StringIO

import pytest
from django.core.management import call_command


@pytest.mark.django_db
def test_the_models_and_migrations_agree():
    # Fails when a model change has no migration, or a migration is not reproducible.
    call_command("makemigrations", "--check", "--dry-run", stdout=StringIO())

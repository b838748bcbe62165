"""Migration 0005 fills the spatial cell of existing cases in SQL: it must agree with
``civicgrid.geo.cells.cell_of``, which new cases get from ``case_build``."""

from __future__ import annotations

import importlib
import random

from django.db import connection

from civicgrid.cases.models import Case
from civicgrid.geo.cells import cell_of

from .conftest import report

fill = importlib.import_module("civicgrid.cases.migrations.0005_case_level_master_cell").fill_cells


class _Editor:
    """What fill_cells uses of a schema editor (SQLite's refuses to open inside a test's
    transaction): the connection and execute."""

    connection = connection

    def execute(self, sql):
        with connection.cursor() as cursor:
            cursor.execute(sql)


def test_sql_fill_matches_python(cases_demo):
    rng = random.Random(5)
    made = [
        report("operator", channel="phone", point=(118.79 + rng.random() * 0.04, 32.04 + rng.random() * 0.04))
        for _ in range(12)
    ]
    expected = {c.pk: cell_of(c.lon, c.lat) for c in made}
    assert all(Case.objects.get(pk=pk).cell == cell for pk, cell in expected.items())
    Case.objects.filter(pk__in=expected).update(cell=0)
    fill(None, _Editor())
    assert dict(Case.objects.filter(pk__in=expected).values_list("pk", "cell")) == expected

"""四级四事 (level, tier, tier deadline), merged duplicates (master) and the spatial cell of the
duplicate check, filled in here for existing cases with the arithmetic of ``civicgrid.geo.cells``.

On SQLite the new columns and constraints rebuild the case table, which drops the bigram text
triggers of 0004: they are made again at the end.
"""

import importlib

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

ROW = "(lat + 90.0) / 0.0025"
COL = "(lon + 180.0) / 0.003"


def fill_cells(apps, schema_editor):
    # Both quotients are positive, so SQLite's CAST (which truncates) is a floor there.
    if schema_editor.connection.vendor == "postgresql":
        expr = f"floor({ROW})::bigint * 1048576 + floor({COL})::bigint"
    else:
        expr = f"CAST({ROW} AS INTEGER) * 1048576 + CAST({COL} AS INTEGER)"
    schema_editor.execute(f"UPDATE cases_case SET cell = {expr}")


def restore_text_triggers(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite":
        return
    text = importlib.import_module("civicgrid.cases.migrations.0004_case_text")
    for sql in text.SQLITE:
        if sql.startswith("CREATE TRIGGER "):
            schema_editor.execute(sql.replace("CREATE TRIGGER ", "CREATE TRIGGER IF NOT EXISTS ", 1))


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_roles_security_tokens"),
        ("cases", "0004_case_text"),
        ("regions", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="case",
            name="cell",
            field=models.BigIntegerField(default=0, editable=False, verbose_name="spatial cell"),
        ),
        migrations.AddField(
            model_name="case",
            name="level",
            field=models.CharField(
                choices=[
                    ("family", "Family matter"),
                    ("neighbourhood", "Neighbourhood matter"),
                    ("estate", "Housing-estate matter"),
                    ("community", "Community matter"),
                    ("street", "Street matter"),
                    ("district", "District matter"),
                ],
                default="street",
                max_length=16,
                verbose_name="level",
            ),
        ),
        migrations.AddField(
            model_name="case",
            name="master",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="linked",
                to="cases.case",
                verbose_name="merged into",
            ),
        ),
        migrations.AddField(
            model_name="case",
            name="tier",
            field=models.CharField(
                choices=[
                    ("building", "Building (building leader or mediator)"),
                    ("estate", "Housing estate (building party branch and owners' committee)"),
                    ("community", "Community (community party organisation)"),
                    ("street", "Street and district departments"),
                ],
                default="street",
                max_length=16,
                verbose_name="tier",
            ),
        ),
        migrations.AddField(
            model_name="case",
            name="tier_deadline",
            field=models.DateTimeField(blank=True, null=True, verbose_name="tier deadline"),
        ),
        migrations.AddIndex(
            model_name="case",
            index=models.Index(fields=["case_class", "cell", "-created_at"], name="case_class_cell"),
        ),
        migrations.AddIndex(
            model_name="case",
            index=models.Index(
                condition=models.Q(("tier_deadline__isnull", False)),
                fields=["tier_deadline"],
                name="case_tier_due",
            ),
        ),
        migrations.AddConstraint(
            model_name="case",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("level__in", ["family", "neighbourhood", "estate", "community", "street", "district"])
                ),
                name="case_level_valid",
            ),
        ),
        migrations.AddConstraint(
            model_name="case",
            constraint=models.CheckConstraint(
                condition=models.Q(("tier__in", ["building", "estate", "community", "street"])),
                name="case_tier_valid",
            ),
        ),
        migrations.RunPython(fill_cells, migrations.RunPython.noop),
        migrations.RunPython(restore_text_triggers, migrations.RunPython.noop),
    ]

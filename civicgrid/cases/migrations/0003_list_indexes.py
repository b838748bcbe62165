"""List indexes at 1,000,000 cases (bench/bench_cases_list.py): overdue, newest per grid, the 大类
filter (the case keeps its major class); foreign-key indexes that a composite index already leads
with are dropped (each index costs every insert).

On SQLite, altering a column rebuilds the table, which drops its triggers: the append-only
trigger of 0002 is made again at the end.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def fill_major_class(apps, schema_editor):
    schema_editor.execute(
        "UPDATE cases_case SET major_class_id = "
        "(SELECT parent_id FROM cases_caseclass WHERE cases_caseclass.id = cases_case.case_class_id) "
        "WHERE case_class_id IS NOT NULL"
    )


def restore_sqlite_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(
            "CREATE TRIGGER IF NOT EXISTS case_event_append_only BEFORE UPDATE ON cases_caseevent "
            "BEGIN SELECT RAISE(ABORT, 'case events are append-only'); END"
        )


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_roles_security_tokens"),
        ("cases", "0002_events_append_only"),
        ("regions", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="case",
            name="major_class",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="cases.caseclass",
                verbose_name="major class",
            ),
        ),
        migrations.AlterField(
            model_name="case",
            name="case_class",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="cases.caseclass",
                verbose_name="class",
            ),
        ),
        migrations.AlterField(
            model_name="case",
            name="department",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="cases",
                to="accounts.department",
                verbose_name="lead department",
            ),
        ),
        migrations.AlterField(
            model_name="case",
            name="district",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="regions.region",
                verbose_name="district",
            ),
        ),
        migrations.AlterField(
            model_name="case",
            name="generation",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                to="regions.boundarygeneration",
                verbose_name="boundary generation",
            ),
        ),
        migrations.AlterField(
            model_name="case",
            name="grid",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="cases",
                to="regions.region",
                verbose_name="grid",
            ),
        ),
        migrations.AlterField(
            model_name="case",
            name="street",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="regions.region",
                verbose_name="street",
            ),
        ),
        migrations.AlterField(
            model_name="caseevent",
            name="case",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="events",
                to="cases.case",
            ),
        ),
        migrations.AlterField(
            model_name="caseunit",
            name="case",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="units",
                to="cases.case",
            ),
        ),
        migrations.AlterField(
            model_name="caseunit",
            name="department",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="accounts.department",
            ),
        ),
        migrations.AddIndex(
            model_name="case",
            index=models.Index(fields=["grid", "-created_at", "-id"], name="case_grid_newest"),
        ),
        migrations.AddIndex(
            model_name="case",
            index=models.Index(fields=["major_class", "-created_at"], name="case_major_newest"),
        ),
        migrations.AddIndex(
            model_name="case",
            index=models.Index(
                condition=models.Q(("paused_at__isnull", True), ("stage_deadline__isnull", False)),
                fields=["stage_deadline"],
                name="case_overdue",
            ),
        ),
        migrations.RunPython(fill_major_class, migrations.RunPython.noop),
        migrations.RunPython(restore_sqlite_trigger, migrations.RunPython.noop),
    ]

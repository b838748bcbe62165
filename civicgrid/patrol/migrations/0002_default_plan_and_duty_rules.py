"""The default patrol plan, its key-place rules and the duty rules of 八定一轮两响应 (a documented
default interpretation, docs/decisions/0006-patrol-duty-rules.md). Data, editable in the back
office; the migration only adds what is missing and leaves existing rows as they are."""

from django.db import migrations

from civicgrid.patrol.defaults import defaults_install


def install(apps, schema_editor):
    defaults_install(
        apps.get_model("patrol", "PatrolPlan"),
        apps.get_model("patrol", "PlaceRule"),
        apps.get_model("patrol", "DutyRule"),
    )


class Migration(migrations.Migration):
    dependencies = [("patrol", "0001_initial")]

    operations = [migrations.RunPython(install, migrations.RunPython.noop)]

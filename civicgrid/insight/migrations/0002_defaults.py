from django.db import migrations

from civicgrid.insight.defaults import defaults_install


def add(apps, schema_editor):
    defaults_install(
        apps.get_model("insight", "ScoreSet"),
        apps.get_model("insight", "ScoreItem"),
        apps.get_model("insight", "InsightSettings"),
    )


class Migration(migrations.Migration):
    dependencies = [("insight", "0001_initial")]
    operations = [migrations.RunPython(add, migrations.RunPython.noop)]

from django.db import migrations

from civicgrid.insight.defaults import SCORE_SETS


def add(apps, schema_editor):
    ScoreSet = apps.get_model("insight", "ScoreSet")
    ScoreItem = apps.get_model("insight", "ScoreItem")
    InsightSettings = apps.get_model("insight", "InsightSettings")
    InsightSettings.objects.get_or_create(pk=1)
    for code, name, kind, items in SCORE_SETS:
        found, created = ScoreSet.objects.get_or_create(code=code, defaults={"name": name, "kind": kind})
        if created:
            for position, (indicator, weight) in enumerate(items):
                ScoreItem.objects.create(
                    score_set=found, indicator=indicator, weight=weight, position=position
                )


class Migration(migrations.Migration):
    dependencies = [("insight", "0001_initial")]
    operations = [migrations.RunPython(add, migrations.RunPython.noop)]

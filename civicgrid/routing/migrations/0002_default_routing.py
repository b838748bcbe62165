"""The documented default of 四级四事 routing (civicgrid/routing/defaults.py, docs/routing.md) as
back-office rows, so a city sees and edits it. Rows already there are left alone."""

from django.db import migrations


def load(apps, schema_editor):
    from civicgrid.routing.defaults import DEFAULT_FIRST_TIER, DEFAULT_TIERS

    TierSetting = apps.get_model("routing", "TierSetting")
    LevelRoute = apps.get_model("routing", "LevelRoute")
    for tier, (position, roles, limit, form) in DEFAULT_TIERS.items():
        TierSetting.objects.get_or_create(
            tier=str(tier),
            defaults={
                "position": position,
                "owner_roles": [str(r) for r in roles],
                "limit": limit,
                "meeting_form": form,
            },
        )
    for level, tier in DEFAULT_FIRST_TIER.items():
        LevelRoute.objects.get_or_create(level=str(level), defaults={"first_tier": str(tier)})


class Migration(migrations.Migration):
    dependencies = [
        ("routing", "0001_initial"),
        ("accounts", "0003_remove_roleassignment_role_assignment_role_valid_and_more"),
    ]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]

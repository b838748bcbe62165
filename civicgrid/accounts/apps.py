from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "civicgrid.accounts"
    verbose_name = _("People and roles")

    def ready(self):
        # signals connects the login receivers; admin_totp is a second admin module, which
        # autodiscovery (admin.py only) would not find.
        from django.db.models.signals import post_delete, post_save

        from civicgrid.accounts import admin_totp, signals  # noqa: F401
        from civicgrid.accounts.scopes import forget_region_tree
        from civicgrid.regions.models import Region

        post_save.connect(forget_region_tree, sender=Region, dispatch_uid="region-tree-save")
        post_delete.connect(forget_region_tree, sender=Region, dispatch_uid="region-tree-delete")

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "civicgrid.accounts"
    verbose_name = _("People and roles")

    def ready(self):
        # signals connects the login receivers; admin_totp is a second admin module, which
        # autodiscovery (admin.py only) would not find.
        from civicgrid.accounts import admin_totp, signals  # noqa: F401

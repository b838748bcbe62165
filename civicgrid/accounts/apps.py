from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "civicgrid.accounts"
    verbose_name = _("People and roles")

    def ready(self):
        from civicgrid.accounts import signals  # noqa: F401  (connects the login receivers)

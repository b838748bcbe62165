from django.apps import AppConfig
from django.db.backends.signals import connection_created
from django.utils.translation import gettext_lazy as _


class CasesConfig(AppConfig):
    name = "civicgrid.cases"
    verbose_name = _("Cases")

    def ready(self):
        from civicgrid.cases.search import register_sqlite

        connection_created.connect(register_sqlite, dispatch_uid="civicgrid.cases.search")

from django.apps import AppConfig
from django.db.backends.signals import connection_created
from django.utils.translation import gettext_lazy as _


class CasesConfig(AppConfig):
    name = "civicgrid.cases"
    verbose_name = _("Cases")

    def ready(self):
        from civicgrid.cases.search import register_sqlite

        connection_created.connect(register_sqlite, dispatch_uid="civicgrid.cases.search")
        from django.db.models.signals import post_delete, post_save

        from civicgrid.cases.models import CaseClass

        # The taxonomy is cached per process for a few seconds (cases.limits); an edit made in
        # this process (back office, import, a test) is seen at once.
        post_save.connect(_forget_cached, sender=CaseClass, dispatch_uid="civicgrid.cases.class_saved")
        post_delete.connect(_forget_cached, sender=CaseClass, dispatch_uid="civicgrid.cases.class_deleted")


def _forget_cached(**kwargs) -> None:
    from civicgrid.cases import limits

    limits.forget()

from django.apps import AppConfig
from django.db.models.signals import post_save
from django.utils.translation import gettext_lazy as _


class Open311Config(AppConfig):
    name = "civicgrid.open311"
    verbose_name = _("Open311 GeoReport v2")

    def ready(self) -> None:
        from civicgrid.cases.models import Case
        from civicgrid.open311.services import case_saved

        # The token row goes into case_create's own transaction (see case_saved for why).
        post_save.connect(case_saved, sender=Case, dispatch_uid="open311.case_saved")

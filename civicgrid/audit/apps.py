from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    name = "civicgrid.audit"
    verbose_name = _("Audit trail")

    def ready(self) -> None:
        from django.contrib.auth import signals

        from civicgrid.audit import receivers

        # dispatch_uid keeps one receiver each even if ready() runs twice (tests, autoreload).
        signals.user_logged_in.connect(receivers.login_succeeded, dispatch_uid="audit.login")
        signals.user_login_failed.connect(receivers.login_failed, dispatch_uid="audit.login_failed")
        signals.user_logged_out.connect(receivers.logged_out, dispatch_uid="audit.logout")

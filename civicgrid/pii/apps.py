from django.apps import AppConfig
from django.conf import settings
from django.core import checks
from django.utils.translation import gettext_lazy as _


def check_key_file(app_configs=None, **kwargs):
    """``civicgrid check`` reports a key file that cannot be read, or that others can read."""
    from civicgrid.pii import keys

    path = getattr(settings, "PII_KEY_FILE", None)
    if not path:
        return [checks.Error("settings.PII_KEY_FILE is not set.", id="pii.E010")]
    try:
        keys.keyring_read(path)
    except keys.KeyFileError as exc:
        return [checks.Error(str(exc), id="pii.E011")]
    return [checks.Warning(problem, id="pii.W010") for problem in keys.keyfile_exposure(path)]


class PiiConfig(AppConfig):
    name = "civicgrid.pii"
    label = "pii"
    verbose_name = _("Personal data protection")

    def ready(self) -> None:
        checks.register(check_key_file, checks.Tags.security)

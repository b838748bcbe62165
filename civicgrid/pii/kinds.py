"""The kinds of protected personal data; each kind has its own masking rule and validator."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class PIIKind(models.TextChoices):
    ID_NUMBER = "id_number", _("ID number")
    PHONE = "phone", _("Phone number")
    ADDRESS = "address", _("Exact address")
    NAME = "name", _("Name")
    TAGS = "tags", _("Special-population tags")
    # Not personal data but a credential (a TOTP seed): encrypted the same way, never shown.
    SECRET = "secret", _("Secret")

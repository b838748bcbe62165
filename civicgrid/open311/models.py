"""What an Open311 post brings beyond the case itself: the token the client may turn into the
case number, and the client's own identifiers and contact (kept encrypted, never shown)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from civicgrid.pii.fields import EncryptedTextField
from civicgrid.pii.kinds import PIIKind


class ServiceRequest(models.Model):
    """One case made through ``POST requests``. The case is the record; this row holds the
    spec's token and the fields a case has no place for."""

    case = models.OneToOneField(
        "cases.Case", verbose_name=_("case"), on_delete=models.PROTECT, related_name="open311"
    )
    # Random and unguessable: the spec lets anyone turn a token into the request id.
    token = models.CharField(_("token"), max_length=32, unique=True)
    api_token = models.ForeignKey(
        "accounts.ApiToken",
        verbose_name=_("API key"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    account_id = models.CharField(_("client's account id"), max_length=64, blank=True)
    device_id = models.CharField(_("client's device id"), max_length=64, blank=True)
    # No validation of the format: a client's e-mail is stored as given, never shown.
    email = EncryptedTextField(_("reporter's e-mail"), kind=PIIKind.ADDRESS, blank=True, validate=False)
    media_url = models.URLField(_("media URL given by the client"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("received at"))

    class Meta:
        verbose_name = _("Open311 service request")
        verbose_name_plural = _("Open311 service requests")

    def __str__(self) -> str:
        return f"{self.case_id} · {self.token}"

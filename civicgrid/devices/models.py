"""Cameras and sensors (雪亮工程, 物联感知): the device registry, alarm types and every alarm received.

A device signs each alarm with its own shared secret (HMAC-SHA256, see ``devices.signing``). The
server needs the secret's plaintext to check a signature, so it is encrypted at rest (like a TOTP
seed), never hashed, and shown only once, when it is made.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from civicgrid.cases.models import Urgency
from civicgrid.pii.fields import EncryptedTextField
from civicgrid.pii.kinds import PIIKind

# What a device id and an alarm type code may look like (they travel in headers and URLs).
DEVICE_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$"
TYPE_CODE_PATTERN = r"^[a-z][a-z0-9_.-]{0,31}$"


class DeviceKind(models.TextChoices):
    CAMERA = "camera", _("Camera")
    SMOKE = "smoke", _("Smoke detector")
    WATER_LEVEL = "water_level", _("Water-level sensor")
    MANHOLE = "manhole", _("Manhole-cover sensor")
    GAS = "gas", _("Gas detector")
    OTHER = "other", _("Other sensor")


class Device(models.Model):
    """A camera or sensor that may post alarms, standing at a place inside a grid."""

    external_id = models.CharField(_("device id"), max_length=64, unique=True)
    kind = models.CharField(_("kind"), max_length=16, choices=DeviceKind.choices)
    name = models.CharField(_("name"), max_length=100)
    lon = models.FloatField(_("longitude (WGS-84)"))
    lat = models.FloatField(_("latitude (WGS-84)"))
    address = models.CharField(_("address"), max_length=200, blank=True)
    # Located from lon/lat with grid_locate whenever the place changes (devices.services).
    grid = models.ForeignKey(
        "regions.Region", verbose_name=_("grid"), on_delete=models.PROTECT, related_name="+"
    )
    district = models.ForeignKey(
        "regions.Region", verbose_name=_("district"), on_delete=models.PROTECT, related_name="+"
    )
    active = models.BooleanField(_("active"), default=True)
    secret = EncryptedTextField(_("shared secret"), kind=PIIKind.SECRET)
    secret_set_at = models.DateTimeField(_("secret set at"))
    last_seen = models.DateTimeField(_("last alarm at"), null=True, blank=True)
    created_at = models.DateTimeField(_("registered at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("changed at"), auto_now=True)

    class Meta:
        verbose_name = _("device")
        verbose_name_plural = _("devices")
        ordering = ["external_id"]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=DeviceKind.values), name="device_kind_valid"),
            models.CheckConstraint(
                condition=Q(lon__gte=-180, lon__lte=180, lat__gte=-90, lat__lte=90),
                name="device_place_valid",
            ),
        ]
        indexes = [models.Index(fields=["grid", "external_id"], name="device_grid")]

    def __str__(self) -> str:
        return f"{self.external_id} {self.name}"


class AlarmType(models.Model):
    """What an alarm type means for the case workflow: its 小类, urgency and how bursts fold."""

    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=64)
    case_class = models.ForeignKey(
        "cases.CaseClass",
        verbose_name=_("case class (小类)"),
        on_delete=models.PROTECT,
        related_name="+",
        limit_choices_to={"parent__isnull": False},
    )
    urgency = models.CharField(_("urgency"), max_length=16, choices=Urgency.choices, default=Urgency.NORMAL)
    # A camera re-fires every few seconds while a car stays parked; these alarms are one matter.
    fold_minutes = models.PositiveIntegerField(
        _("fold window (minutes)"),
        default=30,
        help_text=_(
            "Alarms of this type from one device within this time of the last one join its open case."
        ),
    )
    note_minutes = models.PositiveIntegerField(
        _("note at most every (minutes)"),
        default=10,
        help_text=_("A folded alarm adds a note to the case's timeline at most this often."),
    )
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("alarm type")
        verbose_name_plural = _("alarm types")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(condition=Q(urgency__in=Urgency.values), name="alarm_type_urgency_valid"),
            models.CheckConstraint(condition=Q(fold_minutes__gte=1), name="alarm_type_fold_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class AlarmOutcome(models.TextChoices):
    CREATED = "created", _("Made a case")
    FOLDED = "folded", _("Joined an open case")
    REPEATED = "repeated", _("Sent again (same alarm id)")
    REFUSED = "refused", _("Refused")


ACCEPTED = (AlarmOutcome.CREATED, AlarmOutcome.FOLDED)


class Alarm(models.Model):
    """One alarm as received, accepted or refused. Append-only; the reason says why a refusal."""

    received_at = models.DateTimeField(_("received at"), db_index=True)
    device = models.ForeignKey(
        Device,
        verbose_name=_("device"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="alarms",
    )
    # The device id as claimed (kept for refusals from unknown devices).
    claimed_device = models.CharField(_("claimed device id"), max_length=64, blank=True)
    external_id = models.CharField(_("alarm id"), max_length=64, blank=True)
    alarm_type = models.ForeignKey(
        AlarmType, verbose_name=_("alarm type"), null=True, blank=True, on_delete=models.PROTECT
    )
    type_code = models.CharField(_("type as sent"), max_length=32, blank=True)
    occurred_at = models.DateTimeField(_("occurred at"), null=True, blank=True)
    lon = models.FloatField(null=True, blank=True)
    lat = models.FloatField(null=True, blank=True)
    text = models.CharField(_("text"), max_length=500, blank=True)
    snapshot_sha256 = models.CharField(_("snapshot SHA-256"), max_length=64, blank=True)
    outcome = models.CharField(_("outcome"), max_length=16, choices=AlarmOutcome.choices)
    reason = models.CharField(_("reason"), max_length=48, blank=True)
    status = models.PositiveSmallIntegerField(_("HTTP status"))
    case = models.ForeignKey(
        "cases.Case",
        verbose_name=_("case"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # Set only on alarms whose signature checked out: unique per device, so a replay inside the
    # time window (or two copies racing) cannot be taken twice. Per device, because two devices
    # sharing a secret (the demo's) may sign the same body in the same second. A refused alarm's
    # signature is not kept, or an attacker could burn a sniffed signature by sending it first
    # with a forged body.
    signature = models.CharField(max_length=64, blank=True)
    # This alarm wrote a note on its case's timeline (notes are rationed per alarm type).
    noted = models.BooleanField(default=False)
    ip = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        verbose_name = _("alarm")
        verbose_name_plural = _("alarms")
        ordering = ["-received_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(outcome__in=AlarmOutcome.values), name="alarm_outcome_valid"),
            models.UniqueConstraint(
                fields=["device", "signature"], condition=~Q(signature=""), name="alarm_signature_once"
            ),
            # The same alarm id from one device is taken once; a re-send is answered, not doubled.
            models.UniqueConstraint(
                fields=["device", "external_id"],
                condition=Q(outcome__in=["created", "folded"]),
                name="alarm_taken_once",
            ),
        ]
        indexes = [
            # The fold decision: this device's last accepted alarm of this type.
            models.Index(fields=["device", "alarm_type", "-received_at"], name="alarm_device_type"),
            models.Index(fields=["case", "-received_at"], name="alarm_case"),
        ]

    def __str__(self) -> str:
        return f"{self.claimed_device} {self.type_code} {self.outcome}"

    @property
    def accepted(self) -> bool:
        return self.outcome in ACCEPTED

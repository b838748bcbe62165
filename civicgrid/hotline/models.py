"""12345 hotline work orders (接诉即办): the batches they arrive in, each order and the case it
became, and the tables a city changes — feedback time limits, hotline class → 小类, landmarks.

An order is identified by the hotline's own number (``external_number``): a re-sent batch finds
its orders and changes nothing; a changed order updates its case. Orders that cannot be placed
wait in the triage queue (state ``triaged``) until an operator places or rejects them.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from civicgrid.cases.clock import parse_limit
from civicgrid.cases.models import Urgency
from civicgrid.pii.fields import EncryptedTextField
from civicgrid.pii.kinds import PIIKind

EXTERNAL_NUMBER_MAX = 64


def _validate_limit(value: str) -> None:
    try:
        parse_limit(value)
    except ValueError as exc:
        raise ValidationError(str(exc)) from None


class LimitKind(models.TextChoices):
    """The hotline's feedback classes (Beijing 12345 service spec, cn-grid-domain.md §2)."""

    EMERGENCY = "emergency", _("Emergency (life or property)")
    UTILITIES = "utilities", _("Water, power, gas or heating")
    ORDINARY = "ordinary", _("Ordinary")
    COMPLEX = "complex", _("Complex")


# Feedback limits when the back office has no row. "7 days" and "15 days" are natural days, which
# parse_limit only takes as hours ("天" is refused as ambiguous): 168 and 360 natural hours.
DEFAULT_LIMITS = {
    LimitKind.EMERGENCY: "2小时",
    LimitKind.UTILITIES: "24小时",
    LimitKind.ORDINARY: "168小时",
    LimitKind.COMPLEX: "360小时",
}


class HotlineLimit(models.Model):
    """A feedback time limit per kind; kinds without a row use ``DEFAULT_LIMITS``."""

    kind = models.CharField(_("kind"), max_length=16, choices=LimitKind.choices, unique=True)
    limit = models.CharField(_("time limit"), max_length=16, validators=[_validate_limit])

    class Meta:
        verbose_name = _("hotline feedback limit")
        verbose_name_plural = _("hotline feedback limits")
        ordering = ["kind"]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=LimitKind.values), name="hotline_limit_kind_valid")
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.limit}"


class HotlineClassMap(models.Model):
    """The hotline's own class (诉求分类, as its files spell it) → our 小类 and feedback kind.
    An unmapped class falls back to the keyword suggestion on the caller's words."""

    hotline_class = models.CharField(_("hotline class"), max_length=100, unique=True)
    case_class = models.ForeignKey(
        "cases.CaseClass",
        verbose_name=_("case class"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        limit_choices_to={"parent__isnull": False},
    )
    limit_kind = models.CharField(_("feedback kind"), max_length=16, choices=LimitKind.choices, blank=True)

    class Meta:
        verbose_name = _("hotline class mapping")
        verbose_name_plural = _("hotline class mappings")
        ordering = ["hotline_class"]

    def __str__(self) -> str:
        return f"{self.hotline_class} → {self.case_class or '-'}"


class Landmark(models.Model):
    """A place people name instead of an address (a station, a park, a hospital): the gazetteer
    that places orders sent without coordinates, next to the street and community names."""

    name = models.CharField(_("name"), max_length=60, unique=True)
    aliases = models.CharField(
        _("other names"), max_length=300, blank=True, help_text=_("Separated by commas or spaces.")
    )
    lon = models.FloatField(_("longitude (WGS-84)"))
    lat = models.FloatField(_("latitude (WGS-84)"))
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("landmark")
        verbose_name_plural = _("landmarks")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def names(self) -> list[str]:
        extra = self.aliases.replace("，", ",").replace("、", ",").replace(" ", ",").split(",")
        return [n for n in dict.fromkeys([self.name, *(a.strip() for a in extra)]) if n]


class BatchStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Importing")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")
    REFUSED = "refused", _("Refused")


class BatchFormat(models.TextChoices):
    JSON = "json", "JSON"
    CSV = "csv", "CSV"
    XLSX = "xlsx", "Excel"


class HotlineBatch(models.Model):
    """One file of orders from the hotline and what became of each row."""

    file_name = models.CharField(_("file name"), max_length=200)
    format = models.CharField(_("format"), max_length=8, choices=BatchFormat.choices)
    # The file as received (content-addressed in the default storage): the import reads it, and
    # a second copy of the same bytes is refused as a duplicate batch.
    sha256 = models.CharField(max_length=64, db_index=True)
    stored_as = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("imported by"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("received at"))
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=BatchStatus.choices)
    # Rows done so far: every chunk commits its rows, their report lines and this, together.
    total = models.PositiveIntegerField(_("rows"), default=0)
    done = models.PositiveIntegerField(_("rows done"), default=0)
    created = models.PositiveIntegerField(_("created"), default=0)
    updated = models.PositiveIntegerField(_("updated"), default=0)
    unchanged = models.PositiveIntegerField(_("unchanged"), default=0)
    triaged = models.PositiveIntegerField(_("triaged"), default=0)
    rejected = models.PositiveIntegerField(_("rejected"), default=0)
    error_code = models.CharField(_("error"), max_length=40, blank=True)
    error_message = models.CharField(_("error message"), max_length=500, blank=True)
    duplicate_of = models.ForeignKey(
        "self", verbose_name=_("same file as"), null=True, blank=True, on_delete=models.SET_NULL
    )

    class Meta:
        verbose_name = _("hotline batch")
        verbose_name_plural = _("hotline batches")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=BatchStatus.values), name="hotline_batch_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(format__in=BatchFormat.values), name="hotline_batch_format_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.file_name}"

    @property
    def percent(self) -> int:
        if self.status in (BatchStatus.DONE, BatchStatus.REFUSED):
            return 100
        return self.done * 100 // self.total if self.total else 0

    @property
    def finished(self) -> bool:
        return self.status in (BatchStatus.DONE, BatchStatus.FAILED, BatchStatus.REFUSED)

    def counts(self) -> dict[str, int]:
        return {k: getattr(self, k) for k in ("created", "updated", "unchanged", "triaged", "rejected")}


class Outcome(models.TextChoices):
    CREATED = "created", _("Created")
    UPDATED = "updated", _("Updated")
    UNCHANGED = "unchanged", _("Unchanged")
    TRIAGED = "triaged", _("Triaged")
    REJECTED = "rejected", _("Rejected")


class HotlineBatchLine(models.Model):
    """What one row of a batch became, with the reason when it was triaged or rejected."""

    batch = models.ForeignKey(HotlineBatch, on_delete=models.CASCADE, related_name="lines", db_index=False)
    row = models.PositiveIntegerField(_("row"))
    external_number = models.CharField(_("order number"), max_length=EXTERNAL_NUMBER_MAX, blank=True)
    outcome = models.CharField(_("outcome"), max_length=16, choices=Outcome.choices)
    case_number = models.CharField(_("case"), max_length=32, blank=True)
    code = models.CharField(_("reason code"), max_length=40, blank=True)
    message = models.CharField(_("reason"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("batch report line")
        verbose_name_plural = _("batch report lines")
        ordering = ["batch", "row"]
        constraints = [
            models.UniqueConstraint(fields=["batch", "row"], name="hotline_line_once"),
            models.CheckConstraint(
                condition=Q(outcome__in=Outcome.values), name="hotline_line_outcome_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.batch_id}:{self.row} {self.outcome}"


class OrderState(models.TextChoices):
    PLACED = "placed", _("Placed (case created)")
    TRIAGED = "triaged", _("Awaiting manual placement")
    REJECTED = "rejected", _("Rejected")


class HotlineOrder(models.Model):
    external_number = models.CharField(_("order number"), max_length=EXTERNAL_NUMBER_MAX, unique=True)
    batch = models.ForeignKey(
        HotlineBatch, verbose_name=_("last batch"), on_delete=models.PROTECT, related_name="orders"
    )
    received_at = models.DateTimeField(_("received at"))
    content = models.TextField(_("caller's words"))
    caller_name = EncryptedTextField(_("caller's name"), kind=PIIKind.NAME, blank=True)
    # Landlines and extensions too: no mobile-number validation.
    caller_phone = EncryptedTextField(_("caller's phone"), kind=PIIKind.PHONE, blank=True, validate=False)
    # A keyed hash of name and phone (pii.crypto.blind_index): tells a changed caller without
    # decrypting every stored order on a re-import.
    caller_fingerprint = models.CharField(max_length=64, blank=True, editable=False)
    address = models.CharField(_("address"), max_length=200, blank=True)
    # As the hotline sent them, in ``crs``; the case holds the point in WGS-84.
    lon = models.FloatField(_("longitude"), null=True, blank=True)
    lat = models.FloatField(_("latitude"), null=True, blank=True)
    crs = models.CharField(_("coordinate system"), max_length=8, default="wgs84")
    hotline_class = models.CharField(_("hotline class"), max_length=100, blank=True)
    urgency = models.CharField(_("urgency"), max_length=16, choices=Urgency.choices)
    feedback_requested_at = models.DateTimeField(_("requested feedback time"), null=True, blank=True)
    limit_kind = models.CharField(_("feedback kind"), max_length=16, choices=LimitKind.choices)
    feedback_deadline = models.DateTimeField(_("feedback deadline"))
    # sha256 of the order's non-personal fields as imported: a re-sent unchanged order is skipped.
    fingerprint = models.CharField(max_length=64, editable=False)
    state = models.CharField(_("state"), max_length=16, choices=OrderState.choices)
    # How it was placed: "coordinates", "community:<code>", "street:<code>", "landmark:<id>",
    # "manual:<code>"; or why it waits in triage / was rejected.
    placed_by = models.CharField(_("placed by"), max_length=60, blank=True)
    reason_code = models.CharField(_("reason code"), max_length=40, blank=True)
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    case = models.OneToOneField(
        "cases.Case",
        verbose_name=_("case"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="hotline_order",
    )
    created_at = models.DateTimeField(_("imported at"))
    updated_at = models.DateTimeField(_("updated at"))

    class Meta:
        verbose_name = _("hotline order")
        verbose_name_plural = _("hotline orders")
        ordering = ["-received_at", "-id"]
        indexes = [
            # The triage queue, oldest first; and the export by date range.
            models.Index(fields=["state", "received_at"], name="hotline_order_state"),
            models.Index(fields=["received_at"], name="hotline_order_received"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(state__in=OrderState.values), name="hotline_order_state_valid"
            ),
            models.CheckConstraint(
                condition=Q(limit_kind__in=LimitKind.values), name="hotline_order_kind_valid"
            ),
            # A placed order has its case; one waiting in triage has none yet.
            models.CheckConstraint(
                condition=~Q(state="placed") | Q(case__isnull=False), name="hotline_placed_has_case"
            ),
        ]

    def __str__(self) -> str:
        return self.external_number

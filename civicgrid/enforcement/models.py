"""Comprehensive law enforcement (综合执法) in the grid: the enforcement item list (执法事项清单)
with its checkpoints, inspection tasks for officers and grid workers (执法队员进网格), and the
inspections with their checklist answers, photos and position.

Positions are WGS-84. Only ``enforcement.services`` (and the Excel import in
``enforcement.items``) writes these rows; every write a person makes is audited there.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class EnforcementItem(models.Model):
    """One matter on the list (执法事项): what is inspected, on which legal basis, by whom."""

    code = models.CharField(_("item code"), max_length=32, unique=True)
    name = models.CharField(_("item name"), max_length=200)
    legal_basis = models.TextField(_("legal basis"), blank=True)
    department = models.ForeignKey(
        "accounts.Department",
        verbose_name=_("implementing department"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="enforcement_items",
    )
    case_class = models.ForeignKey(
        "cases.CaseClass",
        verbose_name=_("default case class"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        limit_choices_to={"parent__isnull": False},
        help_text=_("The minor class (小类) of a case raised from a failed checkpoint."),
    )
    active = models.BooleanField(_("active"), default=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("enforcement item")
        verbose_name_plural = _("enforcement items")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class Checkpoint(models.Model):
    """One line of an item's checklist (检查要点), answered pass, fail or not applicable."""

    item = models.ForeignKey(
        EnforcementItem, verbose_name=_("item"), on_delete=models.CASCADE, related_name="checkpoints"
    )
    seq = models.PositiveSmallIntegerField(_("order"))
    text = models.CharField(_("checkpoint"), max_length=300)
    case_class = models.ForeignKey(
        "cases.CaseClass",
        verbose_name=_("case class"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        limit_choices_to={"parent__isnull": False},
        help_text=_("Empty: the item's default class."),
    )
    # A checkpoint dropped from the list is retired, not deleted: past answers refer to it.
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("checkpoint")
        verbose_name_plural = _("checkpoints")
        ordering = ["item", "seq", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=("item", "seq"), condition=Q(active=True), name="enforcement_checkpoint_seq"
            )
        ]

    def __str__(self) -> str:
        return f"{self.seq}. {self.text}"


class TaskState(models.TextChoices):
    OPEN = "open", _("Open")
    DONE = "done", pgettext_lazy("task state", "Done")
    CANCELLED = "cancelled", _("Cancelled")


class InspectionTask(models.Model):
    """Inspect an item in a grid by a day: given to enforcement officers and the grid's workers."""

    item = models.ForeignKey(
        EnforcementItem, verbose_name=_("item"), on_delete=models.PROTECT, related_name="tasks"
    )
    grid = models.ForeignKey(
        "regions.Region",
        verbose_name=_("grid"),
        on_delete=models.PROTECT,
        related_name="inspection_tasks",
        limit_choices_to={"level": "grid"},
    )
    assignees = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("assigned to"), related_name="inspection_tasks"
    )
    due = models.DateField(_("due"))
    state = models.CharField(_("state"), max_length=16, choices=TaskState.choices, default=TaskState.OPEN)
    note = models.CharField(_("note"), max_length=500, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("inspection task")
        verbose_name_plural = _("inspection tasks")
        ordering = ["state", "due", "id"]
        indexes = [models.Index(fields=("grid", "state"), name="enforcement_task_grid_state")]
        constraints = [
            models.CheckConstraint(condition=Q(state__in=TaskState.values), name="enforcement_task_state")
        ]

    def __str__(self) -> str:
        return f"{self.item.code} · {self.grid.code} · {self.due}"


class Inspection(models.Model):
    """One inspection on site: the item's checklist answered, where and when, by whom."""

    task = models.ForeignKey(
        InspectionTask,
        verbose_name=_("task"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="inspections",
    )
    item = models.ForeignKey(
        EnforcementItem, verbose_name=_("item"), on_delete=models.PROTECT, related_name="inspections"
    )
    grid = models.ForeignKey(
        "regions.Region", verbose_name=_("grid"), on_delete=models.PROTECT, related_name="inspections"
    )
    inspector = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("inspector"),
        on_delete=models.PROTECT,
        related_name="inspections",
    )
    at = models.DateTimeField(_("inspected at"))
    lon = models.FloatField(_("longitude (WGS-84)"))
    lat = models.FloatField(_("latitude (WGS-84)"))
    accuracy_m = models.FloatField(_("accuracy (m)"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=1000, blank=True)
    # The phone's key, so an inspection queued offline and sent twice is recorded once.
    client_key = models.CharField(_("client key"), max_length=64, blank=True)
    failed = models.PositiveSmallIntegerField(_("failed checkpoints"), default=0)
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("inspection")
        verbose_name_plural = _("inspections")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=("grid", "at"), name="enforcement_inspection_grid_at")]
        constraints = [
            models.UniqueConstraint(
                fields=("inspector", "client_key"),
                condition=~Q(client_key=""),
                name="enforcement_inspection_client_key",
            )
        ]

    def __str__(self) -> str:
        return f"{self.item.code} · {self.grid.code} · {self.at:%Y-%m-%d %H:%M}"


class AnswerResult(models.TextChoices):
    PASS = "pass", _("Pass")
    FAIL = "fail", _("Fail")
    NOT_APPLICABLE = "na", _("Not applicable")


class InspectionAnswer(models.Model):
    """A checkpoint's answer; a failed one may raise one case (``case``)."""

    inspection = models.ForeignKey(
        Inspection, verbose_name=_("inspection"), on_delete=models.CASCADE, related_name="answers"
    )
    checkpoint = models.ForeignKey(
        Checkpoint, verbose_name=_("checkpoint"), on_delete=models.PROTECT, related_name="answers"
    )
    result = models.CharField(_("result"), max_length=8, choices=AnswerResult.choices)
    note = models.CharField(_("note"), max_length=500, blank=True)
    case = models.OneToOneField(
        "cases.Case",
        verbose_name=_("case raised"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="inspection_answer",
    )

    class Meta:
        verbose_name = _("answer")
        verbose_name_plural = _("answers")
        ordering = ["inspection", "checkpoint__seq", "id"]
        constraints = [
            models.UniqueConstraint(fields=("inspection", "checkpoint"), name="enforcement_answer_once"),
            models.CheckConstraint(condition=Q(result__in=AnswerResult.values), name="enforcement_result"),
            # Only a failed checkpoint raises a case.
            models.CheckConstraint(
                condition=Q(case__isnull=True) | Q(result=AnswerResult.FAIL), name="enforcement_case_on_fail"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.checkpoint} → {self.result}"


def _photo_path(instance, filename: str) -> str:
    # Content-addressed like case attachments: a retried upload writes the same file.
    return f"enforcement/{instance.sha256[:2]}/{instance.sha256}{filename[filename.rfind('.') :]}"


class InspectionPhoto(models.Model):
    """A photo taken on the inspection, cleaned like a case photo (re-encoded, no metadata)."""

    inspection = models.ForeignKey(
        Inspection, verbose_name=_("inspection"), on_delete=models.CASCADE, related_name="photos"
    )
    file = models.FileField(_("file"), upload_to=_photo_path, max_length=200)
    content_type = models.CharField(_("content type"), max_length=64)
    size = models.PositiveIntegerField(_("size"))
    sha256 = models.CharField(max_length=64)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    # Where the photo says it was taken (EXIF), for staff; the stored file carries no metadata.
    gps_lon = models.FloatField(null=True, blank=True)
    gps_lat = models.FloatField(null=True, blank=True)
    uploaded_at = models.DateTimeField(_("uploaded at"))

    # Served inline like a case's image (cases.files).
    kind = "image"

    class Meta:
        verbose_name = _("inspection photo")
        verbose_name_plural = _("inspection photos")
        ordering = ["inspection", "id"]

    def __str__(self) -> str:
        return self.sha256[:12]

"""街道吹哨、部门报到: a street or community blows a whistle on a case or a standalone matter,
the summoned departments report in (报到) before a deadline, a meeting records who does what,
and the whistle closes with its case (or by its blower, for a standalone matter).

Only ``whistles.services`` writes these rows; every write is audited there.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from civicgrid.cases.clock import parse_limit


class WhistleKind(models.TextChoices):
    ROUTINE = "routine", _("Routine whistle")  # 日常哨
    TOUGH = "tough", _("Tough-case whistle")  # 攻坚哨
    EMERGENCY = "emergency", _("Emergency whistle")  # 应急哨


class WhistleState(models.TextChoices):
    OPEN = "open", _("Open")
    CLOSED = "closed", _("Closed")


# Report-in limits when the back office has no row. Emergencies count natural minutes (the
# Pinggu origin: departments arrive within 30 minutes); the others count office time.
DEFAULT_LIMITS = {
    WhistleKind.ROUTINE: "1工作日",
    WhistleKind.TOUGH: "4工作时",
    WhistleKind.EMERGENCY: "30分钟",
}


def _validate_limit(value: str) -> None:
    try:
        parse_limit(value)
    except ValueError as exc:
        raise ValidationError(str(exc)) from None


class WhistleLimit(models.Model):
    """The report-in limit of one kind of whistle, as an office writes it ("30分钟", "4工作时")."""

    kind = models.CharField(_("kind"), max_length=16, choices=WhistleKind.choices, unique=True)
    limit = models.CharField(_("report-in limit"), max_length=16, validators=[_validate_limit])

    class Meta:
        verbose_name = _("whistle report-in limit")
        verbose_name_plural = _("whistle report-in limits")
        ordering = ["kind"]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=WhistleKind.values), name="whistle_limit_kind_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.limit}"


class Whistle(models.Model):
    number = models.CharField(_("number"), max_length=24, unique=True)
    kind = models.CharField(_("kind"), max_length=16, choices=WhistleKind.choices)
    state = models.CharField(
        _("state"), max_length=16, choices=WhistleState.choices, default=WhistleState.OPEN
    )
    # Who blows: a street or a community (a region of that level), and the person.
    region = models.ForeignKey(
        "regions.Region", verbose_name=_("blown by (street or community)"), on_delete=models.PROTECT,
        related_name="+",
    )  # fmt: skip
    # The street it belongs to (the region itself or its parent): the figures group by it.
    street = models.ForeignKey(
        "regions.Region", verbose_name=_("street"), on_delete=models.PROTECT, related_name="+", db_index=False
    )
    blown_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("blown by"), on_delete=models.PROTECT, related_name="+"
    )
    blown_as = models.CharField(_("as"), max_length=32)
    case = models.ForeignKey(
        "cases.Case", verbose_name=_("case"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="whistles",
    )  # fmt: skip
    # A standalone matter's own words; a case's whistle copies the case's title and place, so a
    # summoned department that cannot open the case still knows what it is summoned for.
    title = models.CharField(_("title"), max_length=100)
    description = models.TextField(_("description"), blank=True)
    place = models.CharField(_("place"), max_length=200, blank=True)
    lead = models.ForeignKey(
        "accounts.Department",
        verbose_name=pgettext_lazy("whistle", "lead department"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    limit = models.CharField(_("report-in limit"), max_length=16)
    opened_at = models.DateTimeField(_("blown at"))
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("closed by"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="+",
    )  # fmt: skip
    result = models.TextField(_("result"), blank=True)
    # A retried submission (double tap, network retry) returns the first whistle, never a second.
    idempotency_key = models.CharField(max_length=80, unique=True, editable=False)
    submitted_by = models.CharField(max_length=64, blank=True, editable=False)

    class Meta:
        verbose_name = _("whistle")
        verbose_name_plural = _("whistles")
        ordering = ["-opened_at", "-id"]
        indexes = [
            models.Index(fields=["-opened_at", "-id"], name="whistle_newest"),
            models.Index(fields=["street", "-opened_at"], name="whistle_street_newest"),
            # The close sweep: open whistles on cases.
            models.Index(fields=["state", "case"], name="whistle_state_case"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=WhistleKind.values), name="whistle_kind_valid"),
            models.CheckConstraint(condition=Q(state__in=WhistleState.values), name="whistle_state_valid"),
            models.CheckConstraint(
                condition=Q(state=WhistleState.OPEN, closed_at__isnull=True)
                | Q(state=WhistleState.CLOSED, closed_at__isnull=False),
                name="whistle_closed_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"

    @property
    def is_open(self) -> bool:
        return self.state == WhistleState.OPEN


class Summons(models.Model):
    """One department called by a whistle, and its report-in (报到): who came, when, where."""

    whistle = models.ForeignKey(Whistle, on_delete=models.CASCADE, related_name="summonses", db_index=False)
    department = models.ForeignKey(
        "accounts.Department", verbose_name=_("department"), on_delete=models.PROTECT, related_name="+"
    )
    deadline = models.DateTimeField(_("report in by"))
    reported_at = models.DateTimeField(_("reported in at"), null=True, blank=True)
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("reported in by"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="+",
    )  # fmt: skip
    # The officials who came, as their names are shown on duty (like staff display names: not
    # personal data of residents, so stored plainly; no phone numbers are taken here).
    attendees = models.CharField(_("who came"), max_length=300, blank=True)
    where = models.CharField(_("where"), max_length=200, blank=True)
    lon = models.FloatField(_("longitude (WGS-84)"), null=True, blank=True)
    lat = models.FloatField(_("latitude (WGS-84)"), null=True, blank=True)
    note = models.TextField(_("note"), blank=True)
    # Late: reported in after the deadline, or the deadline passed without a report-in.
    late = models.BooleanField(_("late"), default=False)
    late_notified_at = models.DateTimeField(_("lateness notified at"), null=True, blank=True)

    class Meta:
        verbose_name = _("summons")
        verbose_name_plural = _("summonses")
        ordering = ["whistle", "id"]
        constraints = [
            models.UniqueConstraint(fields=["whistle", "department"], name="summons_once"),
            models.CheckConstraint(
                condition=Q(reported_at__isnull=True) | Q(reported_by__isnull=False),
                name="summons_report_has_person",
            ),
        ]
        indexes = [
            models.Index(fields=["department", "whistle"], name="summons_department"),
            # The late sweep: summonses still waiting whose lateness nobody was told of yet.
            models.Index(
                fields=["deadline"],
                name="summons_waiting",
                condition=Q(reported_at__isnull=True, late_notified_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.whistle_id} · {self.department_id}"

    @property
    def reported(self) -> bool:
        return self.reported_at is not None


class MeetingRecord(models.Model):
    """What the departments on site agreed (现场会), and who does what by when."""

    whistle = models.ForeignKey(Whistle, on_delete=models.CASCADE, related_name="meetings")
    held_at = models.DateTimeField(_("held at"))
    place = models.CharField(_("place"), max_length=200, blank=True)
    attendees = models.CharField(_("attendees"), max_length=500)
    agreed = models.TextField(_("what was agreed"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("recorded by"), on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(_("recorded at"))

    class Meta:
        verbose_name = _("meeting record")
        verbose_name_plural = _("meeting records")
        ordering = ["whistle", "held_at", "id"]

    def __str__(self) -> str:
        return f"{self.whistle_id} @ {self.held_at:%Y-%m-%d %H:%M}"


class MeetingTask(models.Model):
    meeting = models.ForeignKey(MeetingRecord, on_delete=models.CASCADE, related_name="tasks")
    department = models.ForeignKey(
        "accounts.Department", verbose_name=_("department"), on_delete=models.PROTECT, related_name="+"
    )
    task = models.CharField(_("task"), max_length=300)
    due = models.DateField(_("due"))

    class Meta:
        verbose_name = _("meeting task")
        verbose_name_plural = _("meeting tasks")
        ordering = ["meeting", "due", "id"]

    def __str__(self) -> str:
        return f"{self.department_id}: {self.task}"

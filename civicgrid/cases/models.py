"""Cases (案件) from report to rated closure, their append-only timeline, and the tables that
steer them: the two-level taxonomy, stage time limits, dispatch rules and calendar overrides.

A case's state only changes through ``cases.workflow.apply_move`` (called by ``cases.services``
and by the demo's bulk path alike), which also writes the event that explains the change.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from civicgrid.cases.clock import parse_limit
from civicgrid.pii.fields import EncryptedTextField
from civicgrid.pii.kinds import PIIKind


class Family(models.TextChoices):
    EVENT = "E", _("Event")
    PART = "P", _("Part")
    GOVERNANCE = "G", _("Social-governance matter")


class Urgency(models.TextChoices):
    NORMAL = "normal", _("Normal")
    URGENT = "urgent", _("Urgent")
    EMERGENCY = "emergency", _("Emergency")


def _validate_limit(value: str) -> None:
    try:
        parse_limit(value)
    except ValueError as exc:
        raise ValidationError(str(exc)) from None


class CaseClass(models.Model):
    """A 大类 (no parent) or a 小类 (parent = its 大类). Only 小类 are put on cases."""

    code = models.CharField(_("code"), max_length=8, unique=True)
    name = models.CharField(_("name"), max_length=50)
    name_en = models.CharField(_("English name"), max_length=80, blank=True)
    family = models.CharField(_("family"), max_length=1, choices=Family.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("major class"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="minors",
    )
    register_rule = models.TextField(_("registration condition"), blank=True)
    close_rule = models.TextField(_("closing condition"), blank=True)
    # Handling limits per urgency, as an office writes them ("5工作日", "4工作时", "2小时").
    limit_normal = models.CharField(
        _("time limit (normal)"), max_length=16, blank=True, validators=[_validate_limit]
    )
    limit_urgent = models.CharField(
        _("time limit (urgent)"), max_length=16, blank=True, validators=[_validate_limit]
    )
    limit_emergency = models.CharField(
        _("time limit (emergency)"), max_length=16, blank=True, validators=[_validate_limit]
    )
    department = models.ForeignKey(
        "accounts.Department",
        verbose_name=_("default department"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        help_text=_("Empty: the locality (street office) owns it."),
    )
    self_resolvable = models.BooleanField(_("grid worker may self-resolve"), default=False)
    keywords = models.JSONField(_("keywords"), default=list, blank=True)
    # The duplicate check on intake (cases/duplicates.py): open cases of this 小类 this near and
    # this recent are offered to the reporter and the operator. A wide matter (a flooded road)
    # wants a larger radius than a blocked drain.
    duplicate_radius_m = models.PositiveIntegerField(_("duplicate radius (m)"), default=100)
    duplicate_window_days = models.PositiveSmallIntegerField(_("duplicate window (days)"), default=7)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("case class")
        verbose_name_plural = _("case classes")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(condition=Q(family__in=Family.values), name="case_class_family_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    @property
    def is_minor(self) -> bool:
        return self.parent_id is not None

    def clean(self) -> None:
        if self.parent_id and not all((self.limit_normal, self.limit_urgent, self.limit_emergency)):
            raise ValidationError(_("A minor class needs a time limit for every urgency."))

    def limit_text(self, urgency: str) -> str:
        return getattr(self, f"limit_{urgency}")


class Channel(models.TextChoices):
    GRID_WORKER = "grid_worker", _("Grid worker")
    RESIDENT = "resident", _("Resident (web)")
    PHONE = "phone", _("Phone call")
    WALK_IN = "walk_in", _("Walk-in")
    LEADER = "leader", _("Leader's instruction")
    API = "api", _("API")
    HOTLINE = "hotline", _("12345 hotline")
    OPEN311 = "open311", _("Open311")
    SENSOR = "sensor", _("Camera or sensor")
    INSPECTION = "inspection", _("Enforcement inspection")


class CaseState(models.TextChoices):
    VERIFYING = "verifying", _("Awaiting verification")
    REPORTED = "reported", _("Awaiting registration")
    VOIDED = "voided", _("Voided")
    REGISTERED = "registered", _("Awaiting dispatch")
    DISPATCHED = "dispatched", _("Awaiting acceptance")
    HANDLING = "handling", _("Being handled")
    SUSPENDED = "suspended", _("Suspended")
    CHECKING = "checking", _("Awaiting check")
    CHECKED = "checked", _("Awaiting closure")
    CLOSED = "closed", _("Closed")


OPEN_STATES = frozenset(CaseState) - {CaseState.VOIDED, CaseState.CLOSED}


class Stage(models.TextChoices):
    """The clock a case is on; each has a time limit (``StageLimit`` or the class's)."""

    VERIFY = "verify", _("Verification")
    REGISTER = "register", _("Registration")
    DISPATCH = "dispatch", _("Dispatch")
    ACCEPT = "accept", _("Acceptance")
    HANDLE = "handle", _("Handling")
    CHECK = "check", _("Check")
    CLOSE = "close", _("Closure")
    NONE = "", _("No clock")


class Level(models.TextChoices):
    """四级四事: what kind of matter a case is, which picks the tier that takes it first."""

    FAMILY = "family", _("Family matter")
    NEIGHBOURHOOD = "neighbourhood", _("Neighbourhood matter")
    ESTATE = "estate", _("Housing-estate matter")
    COMMUNITY = "community", _("Community matter")
    STREET = "street", _("Street matter")
    DISTRICT = "district", _("District matter")


class Tier(models.TextChoices):
    """Who handles a case now: the three grassroots tiers, then the street and the district
    departments (the dispatch workflow). ``civicgrid.routing`` configures and moves them."""

    BUILDING = "building", _("Building (building leader or mediator)")
    ESTATE = "estate", _("Housing estate (building party branch and owners' committee)")
    COMMUNITY = "community", _("Community (community party organisation)")
    STREET = "street", _("Street and district departments")


class Satisfaction(models.TextChoices):
    SATISFIED = "satisfied", _("Satisfied")
    BASIC = "basic", _("Basically satisfied")
    DISSATISFIED = "dissatisfied", _("Dissatisfied")


class Case(models.Model):
    number = models.CharField(_("number"), max_length=32, unique=True)
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    state = models.CharField(_("state"), max_length=16, choices=CaseState.choices)
    # Optimistic concurrency: every move names the version it saw; the loser of a race is told.
    version = models.PositiveIntegerField(_("version"), default=1)
    # Foreign keys whose lookups an index below already leads with carry no index of their own
    # (db_index=False): each index is paid for on every insert (bench/bench_cases_create.py).
    case_class = models.ForeignKey(
        CaseClass,
        verbose_name=_("class"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    # The class's 大类, kept with the case so a 大类 filter is one index range, not a list of 小类.
    major_class = models.ForeignKey(
        CaseClass,
        verbose_name=_("major class"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        editable=False,
    )
    urgency = models.CharField(_("urgency"), max_length=16, choices=Urgency.choices, default=Urgency.NORMAL)
    title = models.CharField(_("title"), max_length=100)
    description = models.TextField(_("description"), blank=True)
    address = models.CharField(_("address"), max_length=200, blank=True)
    lon = models.FloatField(_("longitude (WGS-84)"))
    lat = models.FloatField(_("latitude (WGS-84)"))
    generation = models.ForeignKey(
        "regions.BoundaryGeneration",
        verbose_name=_("boundary generation"),
        on_delete=models.PROTECT,
        db_index=False,
    )
    # The place, denormalised down the tree so scope filters and rollups need no joins.
    grid = models.ForeignKey(
        "regions.Region",
        verbose_name=_("grid"),
        on_delete=models.PROTECT,
        related_name="cases",
        db_index=False,
    )
    community = models.ForeignKey(
        "regions.Region", verbose_name=_("community"), on_delete=models.PROTECT, related_name="+"
    )
    street = models.ForeignKey(
        "regions.Region", verbose_name=_("street"), on_delete=models.PROTECT, related_name="+", db_index=False
    )
    district = models.ForeignKey(
        "regions.Region",
        verbose_name=_("district"),
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reporter"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reported_cases",
    )
    reporter_name = EncryptedTextField(_("reporter's name"), kind=PIIKind.NAME, blank=True)
    reporter_phone = EncryptedTextField(_("reporter's phone"), kind=PIIKind.PHONE, blank=True)
    # The secret in the public follow link; not the number, which is guessable.
    tracking_code = models.CharField(_("tracking code"), max_length=16, unique=True)
    idempotency_key = models.CharField(
        _("idempotency key"), max_length=80, null=True, blank=True, unique=True
    )
    submitted_by = models.CharField(_("submitted by"), max_length=64, blank=True, editable=False)
    department = models.ForeignKey(
        "accounts.Department",
        verbose_name=_("lead department"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="cases",
        db_index=False,
    )
    self_resolved = models.BooleanField(_("self-resolved"), default=False)
    rework_count = models.PositiveSmallIntegerField(_("reworks"), default=0)
    return_count = models.PositiveSmallIntegerField(_("returns"), default=0)
    extension_count = models.PositiveSmallIntegerField(_("extensions"), default=0)
    created_at = models.DateTimeField(_("reported at"))
    registered_at = models.DateTimeField(_("registered at"), null=True, blank=True)
    dispatched_at = models.DateTimeField(_("dispatched at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    # The clock. stage_seq counts stage changes, so a notice is sent once per stage.
    stage = models.CharField(_("stage"), max_length=16, choices=Stage.choices, blank=True)
    stage_seq = models.PositiveIntegerField(default=0, editable=False)
    stage_started_at = models.DateTimeField(null=True, blank=True)
    stage_deadline = models.DateTimeField(_("stage deadline"), null=True, blank=True)
    stage_warn_at = models.DateTimeField(null=True, blank=True)
    due_at = models.DateTimeField(_("handling deadline"), null=True, blank=True)
    # Whether the current stage's limit counts working time (a pause shifts it on the same clock).
    clock_working = models.BooleanField(default=True, editable=False)
    paused_at = models.DateTimeField(_("clock paused since"), null=True, blank=True)
    pending_extension = models.JSONField(null=True, blank=True, editable=False)
    review_on = models.DateField(_("suspension review date"), null=True, blank=True)
    warned_seq = models.PositiveIntegerField(default=0, editable=False)
    overdue_seq = models.PositiveIntegerField(default=0, editable=False)
    late_stages = models.PositiveSmallIntegerField(_("stages finished late"), default=0)
    satisfaction = models.CharField(
        _("resident's rating"), max_length=16, choices=Satisfaction.choices, blank=True
    )
    rating_comment = models.CharField(_("rating comment"), max_length=500, blank=True)
    rated_at = models.DateTimeField(_("rated at"), null=True, blank=True)
    followup = models.JSONField(_("follow-up call"), null=True, blank=True)
    # 四级四事: the matter's level and the tier handling it now (with that tier's deadline).
    level = models.CharField(_("level"), max_length=16, choices=Level.choices, default=Level.STREET)
    tier = models.CharField(_("tier"), max_length=16, choices=Tier.choices, default=Tier.STREET)
    tier_deadline = models.DateTimeField(_("tier deadline"), null=True, blank=True)
    # Duplicates: a merged case points at its master; the master carries on for all reporters.
    master = models.ForeignKey(
        "self",
        verbose_name=_("merged into"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="linked",
    )
    # The spatial cell of (lon, lat) (``civicgrid.geo.cells``): the duplicate check's index.
    cell = models.BigIntegerField(_("spatial cell"), default=0, editable=False)
    updated_at = models.DateTimeField(_("updated at"))

    class Meta:
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        ordering = ["-created_at", "-id"]
        indexes = [
            # The list's common shapes: newest first, within a scope, optionally by state.
            models.Index(fields=["-created_at", "-id"], name="case_newest"),
            models.Index(fields=["state", "-created_at"], name="case_state_newest"),
            models.Index(fields=["street", "state", "-created_at"], name="case_street_state"),
            models.Index(fields=["grid", "state"], name="case_grid_state"),
            models.Index(fields=["grid", "-created_at", "-id"], name="case_grid_newest"),
            models.Index(fields=["department", "state", "-created_at"], name="case_department_state"),
            models.Index(fields=["case_class", "-created_at"], name="case_class_newest"),
            models.Index(fields=["major_class", "-created_at"], name="case_major_newest"),
            # The SLA sweep: open cases whose warning or deadline has come.
            models.Index(
                fields=["stage_warn_at"], name="case_warn_due", condition=Q(stage_warn_at__isnull=False)
            ),
            # The duplicate check: the same 小类 in nearby cells, recent first.
            models.Index(fields=["case_class", "cell", "-created_at"], name="case_class_cell"),
            # The routing sweep: grassroots tiers whose deadline has come.
            models.Index(
                fields=["tier_deadline"], name="case_tier_due", condition=Q(tier_deadline__isnull=False)
            ),
            # The overdue filter: running clocks past their deadline.
            models.Index(
                fields=["stage_deadline"],
                name="case_overdue",
                condition=Q(stage_deadline__isnull=False, paused_at__isnull=True),
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(state__in=CaseState.values), name="case_state_valid"),
            models.CheckConstraint(condition=Q(channel__in=Channel.values), name="case_channel_valid"),
            models.CheckConstraint(condition=Q(urgency__in=Urgency.values), name="case_urgency_valid"),
            models.CheckConstraint(condition=Q(level__in=Level.values), name="case_level_valid"),
            models.CheckConstraint(condition=Q(tier__in=Tier.values), name="case_tier_valid"),
            models.CheckConstraint(
                condition=Q(satisfaction="") | Q(satisfaction__in=Satisfaction.values),
                name="case_satisfaction_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES


class CaseUnit(models.Model):
    """A department on a case: the lead (首接负责) or a co-handler."""

    # Both lookups are served by the unique (case, department) and the (department, case) index.
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="units", db_index=False)
    department = models.ForeignKey(
        "accounts.Department", on_delete=models.PROTECT, related_name="+", db_index=False
    )
    lead = models.BooleanField(default=False)

    class Meta:
        verbose_name = _("case unit")
        verbose_name_plural = _("case units")
        constraints = [models.UniqueConstraint(fields=["case", "department"], name="case_unit_once")]
        indexes = [models.Index(fields=["department", "case"])]

    def __str__(self) -> str:
        return f"{self.case_id} · {self.department_id}{' (lead)' if self.lead else ''}"


class CaseEvent(models.Model):
    """One step of a case's timeline. Append-only: rows are never updated or deleted."""

    case = models.ForeignKey(
        Case, on_delete=models.PROTECT, related_name="events", db_index=False
    )  # (case, seq)
    seq = models.PositiveIntegerField(_("step"))
    action = models.CharField(_("action"), max_length=24)
    from_state = models.CharField(_("from"), max_length=16, blank=True)
    to_state = models.CharField(_("to"), max_length=16)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("by"), null=True, blank=True, on_delete=models.PROTECT
    )
    actor_role = models.CharField(_("as"), max_length=32, blank=True)
    at = models.DateTimeField(_("at"))
    note = models.TextField(_("note"), blank=True)
    lon = models.FloatField(null=True, blank=True)
    lat = models.FloatField(null=True, blank=True)
    # The clock as it was set by this step (stage, limit, deadline …): the SLA replays from it.
    data = models.JSONField(default=dict, blank=True)
    # The Idempotency-Key of the request that made this move (a phone's offline queue sends it
    # again after a lost answer). NULL, not "", so that adding it altered no existing row: on
    # SQLite a column with a default rebuilds the table (and drops its append-only trigger).
    client_key = models.CharField(max_length=64, null=True, blank=True)  # noqa: DJ001

    class Meta:
        verbose_name = _("case event")
        verbose_name_plural = _("case events")
        ordering = ["case", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["case", "seq"], name="case_event_seq_once"),
            models.UniqueConstraint(
                fields=["case", "client_key"],
                condition=Q(client_key__isnull=False),
                name="case_event_client_key",
            ),
        ]
        indexes = [models.Index(fields=["at"], name="case_event_at")]

    def __str__(self) -> str:
        return f"{self.case_id} #{self.seq} {self.action}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("case events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("case events are append-only")


class CaseFollower(models.Model):
    """Someone following a case they did not report: a resident who found their matter already
    reported, or the reporter of a duplicate merged into it. The code is the secret in their
    follow link (/track/<code>/); it shows the public progress and never grants the reporter's
    moves (rating)."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="followers")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    code = models.CharField(_("follow code"), max_length=16, unique=True)
    # Set when the follower is the reporter of this duplicate, merged into ``case``.
    linked_case = models.ForeignKey(
        Case, null=True, blank=True, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    created_at = models.DateTimeField(_("following since"))

    class Meta:
        verbose_name = _("case follower")
        verbose_name_plural = _("case followers")
        constraints = [
            # One row per person and case (a signed-in resident following twice gets the same code).
            models.UniqueConstraint(fields=["case", "user"], name="case_follower_once"),
            models.UniqueConstraint(fields=["linked_case"], name="case_follower_linked_once"),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} ← {self.user_id or 'link'}"


class AttachmentPurpose(models.TextChoices):
    REPORT = "report", _("Report")
    BEFORE = "before", _("Before")
    AFTER = "after", _("After")
    PROGRESS = "progress", _("Progress")


def _attachment_path(instance, filename: str) -> str:
    return f"cases/{instance.sha256[:2]}/{instance.sha256}{filename[filename.rfind('.') :]}"


class Attachment(models.Model):
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="attachments")
    event = models.ForeignKey(
        CaseEvent, null=True, blank=True, on_delete=models.PROTECT, related_name="attachments"
    )
    purpose = models.CharField(_("purpose"), max_length=16, choices=AttachmentPurpose.choices)
    file = models.FileField(_("file"), upload_to=_attachment_path, max_length=200)
    kind = models.CharField(_("kind"), max_length=16)
    content_type = models.CharField(_("content type"), max_length=64)
    size = models.PositiveIntegerField(_("size"))
    sha256 = models.CharField(max_length=64)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    # Where the photo says it was taken (EXIF), for staff; the stored file carries no metadata.
    gps_lon = models.FloatField(null=True, blank=True)
    gps_lat = models.FloatField(null=True, blank=True)
    public = models.BooleanField(_("shown on the public page"), default=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(_("uploaded at"))

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["case", "id"]

    def __str__(self) -> str:
        return f"{self.purpose} {self.sha256[:12]}"


class CaseCounter(models.Model):
    """The last number given per district and day (``320102-20261128-000123``)."""

    district_code = models.CharField(max_length=6)
    day = models.DateField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["district_code", "day"], name="case_counter_once")]

    def __str__(self) -> str:
        return f"{self.district_code} {self.day}: {self.last}"


class StageLimit(models.Model):
    """A stage's time limit per urgency; stages without a row use ``cases.limits.DEFAULT_STAGE_LIMITS``."""

    stage = models.CharField(_("stage"), max_length=16, choices=[c for c in Stage.choices if c[0]])
    urgency = models.CharField(_("urgency"), max_length=16, choices=Urgency.choices)
    limit = models.CharField(_("time limit"), max_length=16, validators=[_validate_limit])

    class Meta:
        verbose_name = _("stage time limit")
        verbose_name_plural = _("stage time limits")
        ordering = ["stage", "urgency"]
        constraints = [models.UniqueConstraint(fields=["stage", "urgency"], name="stage_limit_once")]

    def __str__(self) -> str:
        return f"{self.get_stage_display()} · {self.get_urgency_display()}: {self.limit}"


class DispatchRule(models.Model):
    """小类 × area → department. The most specific rule wins; 属地兜底 when none applies."""

    case_class = models.ForeignKey(
        CaseClass,
        verbose_name=_("class"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        limit_choices_to={"parent__isnull": False},
    )
    region = models.ForeignKey(
        "regions.Region",
        verbose_name=_("area"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        help_text=_("The rule covers this region's whole subtree; empty: everywhere."),
    )
    department = models.ForeignKey(
        "accounts.Department", verbose_name=_("department"), on_delete=models.CASCADE
    )
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("dispatch rule")
        verbose_name_plural = _("dispatch rules")
        constraints = [
            models.UniqueConstraint(fields=["case_class", "region"], name="dispatch_rule_once"),
            models.CheckConstraint(
                condition=Q(case_class__isnull=False) | Q(region__isnull=False),
                name="dispatch_rule_not_empty",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case_class or '*'} @ {self.region or '*'} → {self.department}"


class CalendarOverride(models.Model):
    """A local day off or an extra working day, winning over the national calendar."""

    day = models.DateField(_("day"), unique=True)
    is_workday = models.BooleanField(_("working day"))
    note = models.CharField(_("note"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("calendar override")
        verbose_name_plural = _("calendar overrides")
        ordering = ["day"]

    def __str__(self) -> str:
        return f"{self.day} {'+' if self.is_workday else '-'} {self.note}"

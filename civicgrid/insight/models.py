"""The command centre's tables (指挥大脑).

Rollups (``insight.rollups``): ``CaseFact`` holds what each case counts for — its place, class,
channel, state and SLA outcomes, derived from its event log — and ``CaseDay`` sums the facts by
report day × grid × 小类 × channel × state × department × reporting worker. ``EventDay`` counts the
moves made each day by grid, 大类 and action. Dashboards, indicators and indices read these, not
the case table. Ids in the rollups are plain integers (0 = none), not foreign keys: a rollup row
must never stop a region or a class from being edited, and 0 (not NULL) keeps the unique keys
working on both databases.

Configuration: ``InsightSettings`` (one row), ``ScoreSet``/``ScoreItem`` (the composite scores and
the "网格+" index, as weights an administrator edits). Outputs: ``Alert`` (early warnings),
``WatchTerm``/``OpinionWeek`` (opinion monitoring) and ``Review`` (周提醒 · 月点评 · 季调度).
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

# The additive measures of a case (0/1 each, except the minutes), in CaseFact and CaseDay alike.
# docs/indicators.md gives each one's definition; insight.indicators the rates built from them.
MEASURES = (
    "cases",  # 上报数
    "worker_reports",  # reports by grid workers (有效上报率's denominator)
    "worker_valid",  # … of them registered (有效上报数)
    "registered",  # 立案数 (incl. resolved on the spot)
    "registered_on_time",  # 按时立案数
    "dispatched",  # 派遣数 = 应处置数
    "dispatched_ok",  # 准确派遣数: dispatched and never returned
    "handled",  # 处置数: the department reported a result
    "handled_on_time",  # 按期处置数: … and no handling stage ended late
    "closed",  # 结案数
    "closed_on_time",  # 按期结案数: closed with every stage on time
    "reworked",  # 返工数
    "extended",  # 延期数
    "open",  # still open
    "overdue",  # open with its stage clock past the deadline (at the last refresh)
    "overdue_handle",  # 超期待处置数: dispatched or being handled, past the handling deadline
    "visited",  # 有效回访数: a follow-up call or the resident's own rating
    "contacted",  # 已联系
    "resolved",  # 已解决
    "satisfied",  # 满意
    "basic",  # 基本满意
    "close_minutes",  # minutes from report to closure, summed over closed cases
)


class _Measures(models.Model):
    """The measures (``MEASURES``), summed by the rollup."""

    cases = models.IntegerField(default=0)
    worker_reports = models.IntegerField(default=0)
    worker_valid = models.IntegerField(default=0)
    registered = models.IntegerField(default=0)
    registered_on_time = models.IntegerField(default=0)
    dispatched = models.IntegerField(default=0)
    dispatched_ok = models.IntegerField(default=0)
    handled = models.IntegerField(default=0)
    handled_on_time = models.IntegerField(default=0)
    closed = models.IntegerField(default=0)
    closed_on_time = models.IntegerField(default=0)
    reworked = models.IntegerField(default=0)
    extended = models.IntegerField(default=0)
    open = models.IntegerField(default=0)
    overdue = models.IntegerField(default=0)
    overdue_handle = models.IntegerField(default=0)
    visited = models.IntegerField(default=0)
    contacted = models.IntegerField(default=0)
    resolved = models.IntegerField(default=0)
    satisfied = models.IntegerField(default=0)
    basic = models.IntegerField(default=0)
    close_minutes = models.BigIntegerField(default=0)

    class Meta:
        abstract = True


class RollupState(models.Model):
    """Where the incremental refresh stands (one row per rollup family, name "cases")."""

    name = models.CharField(max_length=32, unique=True)
    event_id = models.BigIntegerField(default=0)  # the highest CaseEvent id folded in
    checked_at = models.DateTimeField(null=True, blank=True)  # "now" of the last refresh
    refreshed_at = models.DateTimeField(null=True, blank=True)
    rebuilt_at = models.DateTimeField(null=True, blank=True)
    facts = models.IntegerField(default=0)

    class Meta:
        verbose_name = _("rollup state")
        verbose_name_plural = _("rollup states")

    def __str__(self) -> str:
        return f"{self.name} @ {self.event_id}"


class _Keyed(models.Model):
    """The dimensions shared by a case's fact and the daily rollup."""

    day = models.DateField(_("day reported"))
    district_id = models.IntegerField(default=0)
    street_id = models.IntegerField(default=0)
    community_id = models.IntegerField(default=0)
    grid_id = models.IntegerField(default=0)
    major_class_id = models.IntegerField(default=0)
    case_class_id = models.IntegerField(default=0)
    channel = models.CharField(max_length=16)
    state = models.CharField(max_length=16)
    department_id = models.IntegerField(default=0)  # the lead department now
    worker_id = models.IntegerField(default=0)  # the grid worker who reported it (their channel)

    class Meta:
        abstract = True


KEY_FIELDS = (
    "day",
    "district_id",
    "street_id",
    "community_id",
    "grid_id",
    "major_class_id",
    "case_class_id",
    "channel",
    "state",
    "department_id",
    "worker_id",
)


class CaseFact(_Keyed, _Measures):
    case_id = models.BigIntegerField(primary_key=True)

    class Meta:
        verbose_name = _("case fact")
        verbose_name_plural = _("case facts")
        indexes = [models.Index(fields=["day", "grid_id"], name="case_fact_day_grid")]

    def __str__(self) -> str:
        return f"fact {self.case_id}"


class CaseDay(_Keyed, _Measures):
    class Meta:
        verbose_name = _("daily case figures")
        verbose_name_plural = _("daily case figures")
        constraints = [models.UniqueConstraint(fields=list(KEY_FIELDS), name="case_day_key")]
        indexes = [
            models.Index(fields=["street_id", "day"], name="case_day_street"),
            models.Index(fields=["grid_id", "day"], name="case_day_grid"),
            models.Index(fields=["department_id", "day"], name="case_day_department"),
            # The open stock (big screen, map): few rows, whatever the year's size.
            models.Index(fields=["day"], name="case_day_open", condition=Q(open__gt=0)),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.grid_id} {self.state}: {self.cases}"


class EventDay(models.Model):
    """Moves per day (local date of the move), by the case's grid (as it is now) and the action."""

    day = models.DateField()
    district_id = models.IntegerField(default=0)
    street_id = models.IntegerField(default=0)
    community_id = models.IntegerField(default=0)
    grid_id = models.IntegerField(default=0)
    action = models.CharField(max_length=24)
    n = models.IntegerField(default=0)
    late = models.IntegerField(default=0)  # the move ended its stage after the deadline

    class Meta:
        verbose_name = _("daily moves")
        verbose_name_plural = _("daily moves")
        constraints = [models.UniqueConstraint(fields=["day", "grid_id", "action"], name="event_day_key")]
        indexes = [models.Index(fields=["day", "action"], name="event_day_action")]

    def __str__(self) -> str:
        return f"{self.day} {self.grid_id} {self.action}: {self.n}"


# -- configuration ---------------------------------------------------------------------------------


class InsightSettings(models.Model):
    """The command centre's parameters (one row, id 1), edited in the back office (audited)."""

    basic_weight = models.FloatField(
        _("weight of 'basically satisfied'"),
        default=0.9,
        validators=[MinValueValidator(0), MaxValueValidator(1)],
        help_text=_("满意率 = (satisfied + weight × basically satisfied) / valid follow-ups."),
    )
    # Early warning (insight.warnings)
    warn_baseline_days = models.PositiveSmallIntegerField(_("baseline (days)"), default=56)
    warn_min_count = models.PositiveSmallIntegerField(_("fewest cases for a warning"), default=4)
    warn_p_value = models.FloatField(
        _("tail probability that raises a warning"),
        default=0.001,
        validators=[MinValueValidator(1e-12), MaxValueValidator(0.5)],
    )
    repeat_count = models.PositiveSmallIntegerField(_("repeat place: cases"), default=3)
    repeat_days = models.PositiveSmallIntegerField(_("repeat place: window (days)"), default=30)
    # 周提醒
    weekly_weekday = models.PositiveSmallIntegerField(
        _("weekly reminder day"),
        default=0,
        validators=[MaxValueValidator(6)],
        help_text=_("0 = Monday … 6 = Sunday"),
    )
    weekly_hour = models.PositiveSmallIntegerField(
        _("weekly reminder hour"), default=8, validators=[MaxValueValidator(23)]
    )
    near_due_hours = models.PositiveSmallIntegerField(_("near due: within (hours)"), default=48)

    class Meta:
        verbose_name = _("command-centre settings")
        verbose_name_plural = _("command-centre settings")

    def __str__(self) -> str:
        return str(_("command-centre settings"))

    @classmethod
    def current(cls) -> InsightSettings:
        found = cls.objects.filter(pk=1).first()
        return found if found is not None else cls(pk=1)


class ScoreKind(models.TextChoices):
    GRID_INDEX = "grid_index", _("“网格+” quality-efficiency index")
    COMPOSITE = "composite", _("Composite score")
    HOTLINE = "hotline", _("12345 composite")


class ScoreSet(models.Model):
    """A weighted set of indicators: a unit's composite score (A–E) or the "网格+" index."""

    code = models.SlugField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=60)
    kind = models.CharField(_("kind"), max_length=16, choices=ScoreKind.choices)
    description = models.TextField(_("description"), blank=True)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("score set")
        verbose_name_plural = _("score sets")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class ScoreItem(models.Model):
    score_set = models.ForeignKey(ScoreSet, on_delete=models.CASCADE, related_name="items")
    indicator = models.CharField(_("indicator"), max_length=32)  # insight.indicators.INDICATORS
    weight = models.FloatField(_("weight"), validators=[MinValueValidator(0)])
    position = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("score item")
        verbose_name_plural = _("score items")
        ordering = ["score_set", "position", "id"]
        constraints = [models.UniqueConstraint(fields=["score_set", "indicator"], name="score_item_once")]

    def __str__(self) -> str:
        return f"{self.indicator} × {self.weight:g}"


# -- early warning ---------------------------------------------------------------------------------


class AlertKind(models.TextChoices):
    SPIKE = "spike", _("Unusual number of cases")
    HOTSPOT = "hotspot", _("Hotspot")
    REPEAT = "repeat", _("Repeat place")
    KEYWORD = "keyword", _("Watched keyword")


class Severity(models.IntegerChoices):
    LOW = 1, _("Yellow")
    MEDIUM = 2, _("Orange")
    HIGH = 3, _("Red")


class AlertStatus(models.TextChoices):
    OPEN = "open", pgettext_lazy("warning status", "Open")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    CLOSED = "closed", pgettext_lazy("warning status", "Closed")


class Alert(models.Model):
    """An early warning: what was seen, against what was expected, and where its cases are."""

    kind = models.CharField(_("kind"), max_length=16, choices=AlertKind.choices)
    # What makes it the same warning on the next run ("spike:2026-11-28:<grid>:<major>").
    key = models.CharField(max_length=120, unique=True)
    severity = models.PositiveSmallIntegerField(_("severity"), choices=Severity.choices)
    status = models.CharField(
        _("status"), max_length=16, choices=AlertStatus.choices, default=AlertStatus.OPEN
    )
    day = models.DateField(_("day"))
    street = models.ForeignKey(
        "regions.Region", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    grid = models.ForeignKey(
        "regions.Region", null=True, blank=True, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    major_class = models.ForeignKey(
        "cases.CaseClass", null=True, blank=True, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    case_class = models.ForeignKey(
        "cases.CaseClass", null=True, blank=True, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    term = models.CharField(_("keyword"), max_length=40, blank=True)
    observed = models.FloatField(_("observed"), default=0)
    expected = models.FloatField(_("expected"), default=0)
    score = models.FloatField(_("tail probability or z-score"), null=True, blank=True)
    explanation = models.CharField(_("explanation"), max_length=300)
    # The case list behind it: a query string for /cases/ (region, class, dates …).
    link = models.CharField(_("link"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("raised at"))
    updated_at = models.DateTimeField(_("updated at"))
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("warning")
        verbose_name_plural = _("warnings")
        ordering = ["-day", "-severity", "-id"]
        indexes = [
            models.Index(fields=["status", "-day"], name="alert_status_day"),
            models.Index(fields=["street", "-day"], name="alert_street_day"),
        ]

    def __str__(self) -> str:
        return self.explanation


# -- opinion monitoring ----------------------------------------------------------------------------


class WatchTerm(models.Model):
    """A keyword the command centre watches in what residents write (舆情 watch-list)."""

    term = models.CharField(_("keyword"), max_length=40, unique=True)
    severity = models.PositiveSmallIntegerField(
        _("severity"), choices=Severity.choices, default=Severity.MEDIUM
    )
    note = models.CharField(_("note"), max_length=200, blank=True)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("watched keyword")
        verbose_name_plural = _("watched keywords")
        ordering = ["term"]

    def __str__(self) -> str:
        return self.term


class OpinionWeek(models.Model):
    """One ISO week's words of residents, per street (0: the whole district): term counts, the
    number of texts and how many read negative. Recomputed by the periodic task."""

    week = models.DateField(_("week (Monday)"))
    street_id = models.IntegerField(default=0)
    texts = models.IntegerField(default=0)
    negative = models.IntegerField(default=0)
    terms = models.JSONField(default=dict)  # term -> count (the week's top terms)
    computed_at = models.DateTimeField()

    class Meta:
        verbose_name = _("opinion week")
        verbose_name_plural = _("opinion weeks")
        constraints = [models.UniqueConstraint(fields=["week", "street_id"], name="opinion_week_once")]

    def __str__(self) -> str:
        return f"{self.week} {self.street_id}"


# -- reviews ---------------------------------------------------------------------------------------


class ReviewKind(models.TextChoices):
    WEEKLY = "weekly", _("Weekly reminder (周提醒)")
    MONTHLY = "monthly", _("Monthly review (月点评)")
    QUARTERLY = "quarterly", _("Quarterly scheduling pack (季调度)")


class Review(models.Model):
    """A generated review, archived with the figures it was made from (they never change later)."""

    kind = models.CharField(_("kind"), max_length=16, choices=ReviewKind.choices)
    period_start = models.DateField(_("from"))
    period_end = models.DateField(_("to"))  # inclusive
    title = models.CharField(_("title"), max_length=120)
    payload = models.JSONField(default=dict)
    generated_at = models.DateTimeField(_("generated at"))
    generated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("review")
        verbose_name_plural = _("reviews")
        ordering = ["-period_start", "kind"]
        constraints = [models.UniqueConstraint(fields=["kind", "period_start"], name="review_once")]

    def __str__(self) -> str:
        return self.title

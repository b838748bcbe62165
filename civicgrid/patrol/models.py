"""Patrols (巡查): the grid worker's rounds with a GPS track, check-ins at key places (重点场所),
coverage of the grid, the patrol plans and the duty rules (八定一轮两响应) they are judged by.

Positions are WGS-84 (what a phone's Geolocation API gives). Only ``patrol.services`` writes
these rows; every write that a person makes is audited there.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class KeyPlaceKind(models.TextChoices):
    SCHOOL = "school", _("School")
    MARKET = "market", _("Market")
    CONSTRUCTION = "construction", _("Construction site")
    OLD_BUILDING = "old_building", _("Old building")
    HOSPITAL = "hospital", _("Hospital or clinic")
    ELDERLY = "elderly", _("Elderly-care home")
    VENUE = "venue", _("Crowded venue")
    OTHER = "other", _("Other key place")


class KeyPlace(models.Model):
    """A place a patrol must visit (重点场所); a check-in counts inside ``radius_m`` of it."""

    grid = models.ForeignKey(
        "regions.Region", on_delete=models.PROTECT, related_name="patrol_places", verbose_name=_("grid")
    )
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=16, choices=KeyPlaceKind.choices)
    lon = models.FloatField(_("longitude (WGS-84)"))
    lat = models.FloatField(_("latitude (WGS-84)"))
    radius_m = models.PositiveIntegerField(
        _("check-in radius (m)"), default=50, validators=[MinValueValidator(5), MaxValueValidator(1000)]
    )
    visits_per_period = models.PositiveSmallIntegerField(
        _("visits required per plan period"),
        null=True,
        blank=True,
        help_text=_("Empty: the plan's rule for this kind of place."),
    )
    active = models.BooleanField(_("active"), default=True)
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("key place")
        verbose_name_plural = _("key places")
        ordering = ("grid", "name")
        constraints = [models.UniqueConstraint(fields=("grid", "name"), name="patrol_place_grid_name")]

    def __str__(self) -> str:
        return self.name


class Period(models.TextChoices):
    DAY = "day", _("Day")
    WEEK = "week", _("Week")
    MONTH = "month", _("Month")


class PatrolPlan(models.Model):
    """How often and how long a grid is patrolled. The row without a grid is the district's
    default; a grid's own row overrides it."""

    grid = models.OneToOneField(
        "regions.Region",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="patrol_plan",
        verbose_name=_("grid"),
        help_text=_("Empty: the default plan for every grid without its own."),
    )
    period = models.CharField(_("period"), max_length=8, choices=Period.choices, default=Period.WEEK)
    rounds_per_period = models.PositiveSmallIntegerField(_("patrol rounds per period"), default=5)
    min_minutes = models.PositiveSmallIntegerField(_("minimum minutes for a round to count"), default=60)
    coverage_distance_m = models.PositiveSmallIntegerField(
        _("coverage distance (m)"),
        default=30,
        help_text=_("Ground within this distance of a track counts as covered."),
    )
    coverage_target = models.FloatField(
        _("coverage target (share of the grid per period)"),
        default=0.8,
        validators=[MinValueValidator(0), MaxValueValidator(1)],
    )
    max_speed_kmh = models.PositiveSmallIntegerField(
        _("fastest plausible speed (km/h)"),
        default=30,
        help_text=_("A point reached faster than this from the previous one is flagged as a jump."),
    )
    max_accuracy_m = models.PositiveSmallIntegerField(
        _("worst usable accuracy (m)"),
        default=50,
        help_text=_("Points less accurate than this are flagged and not used for coverage."),
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("patrol plan")
        verbose_name_plural = _("patrol plans")
        constraints = [
            models.UniqueConstraint(
                fields=("grid",), condition=Q(grid__isnull=True), name="patrol_plan_one_default"
            )
        ]

    def __str__(self) -> str:
        return str(self.grid) if self.grid_id else str(_("Default plan"))


class PlaceRule(models.Model):
    """How many visits a plan requires per period to each key place of a kind."""

    plan = models.ForeignKey(PatrolPlan, on_delete=models.CASCADE, related_name="place_rules")
    kind = models.CharField(_("kind of place"), max_length=16, choices=KeyPlaceKind.choices)
    visits_per_period = models.PositiveSmallIntegerField(_("visits per period"), default=1)

    class Meta:
        verbose_name = _("key-place rule")
        verbose_name_plural = _("key-place rules")
        constraints = [models.UniqueConstraint(fields=("plan", "kind"), name="patrol_place_rule_kind")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} × {self.visits_per_period}"


class DutyRule(models.Model):
    """One rule of 八定一轮两响应, as the district words it. No public source defines the
    mechanism, so the shipped rows are a documented default interpretation (docs/patrol.md):
    the eight 定 (people, post, duty, time, area, tasks, standard, assessment), one round per
    period, and the two responses (to dispatched tasks and to residents' calls). ``value`` and
    ``unit`` carry the figure a rule sets where the assessment measures against it."""

    code = models.SlugField(_("code"), max_length=32, unique=True)
    title = models.CharField(_("title"), max_length=60)
    text = models.TextField(_("rule"))
    value = models.FloatField(_("figure"), null=True, blank=True)
    unit = models.CharField(_("unit"), max_length=16, blank=True)
    position = models.PositiveSmallIntegerField(_("order"), default=0)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("duty rule (八定一轮两响应)")
        verbose_name_plural = _("duty rules (八定一轮两响应)")
        ordering = ("position", "code")

    def __str__(self) -> str:
        return self.title


class PatrolState(models.TextChoices):
    ACTIVE = "active", _("On patrol")
    ENDED = "ended", _("Ended")


class Patrol(models.Model):
    """One round. Summary figures are filled when it ends, so lists and the monthly assessment
    read this row and never the track."""

    worker = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="patrols",
        verbose_name=_("grid worker"),
    )
    grid = models.ForeignKey(
        "regions.Region", on_delete=models.PROTECT, related_name="patrols", verbose_name=_("grid")
    )
    state = models.CharField(
        _("state"), max_length=8, choices=PatrolState.choices, default=PatrolState.ACTIVE
    )
    started_at = models.DateTimeField(_("started at"))
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    # The phone's key for the start, so a start queued offline and sent twice makes one patrol.
    client_key = models.CharField(_("client key"), max_length=64, blank=True)
    points = models.PositiveIntegerField(_("track points"), default=0)
    flagged = models.PositiveIntegerField(_("flagged points"), default=0)
    distance_m = models.FloatField(_("distance (m)"), default=0)
    duration_s = models.PositiveIntegerField(_("duration (s)"), default=0)
    coverage = models.FloatField(pgettext_lazy("share of a grid", "coverage"), null=True, blank=True)
    # The covered part of the grid (WKB, WGS-84), kept for the week's union and the map.
    covered = models.BinaryField(_("covered area"), null=True, blank=True)

    class Meta:
        verbose_name = _("patrol")
        verbose_name_plural = _("patrols")
        indexes = [
            models.Index(fields=("worker", "started_at"), name="patrol_worker_started"),
            models.Index(fields=("grid", "started_at"), name="patrol_grid_started"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=("worker", "client_key"),
                condition=~Q(client_key=""),
                name="patrol_client_key",
            ),
            # One patrol on the go per worker: two starts racing (a queued one and a fresh tap)
            # cannot both win, whatever the service checked before inserting.
            models.UniqueConstraint(
                fields=("worker",), condition=Q(state="active"), name="patrol_one_active"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.worker} {self.started_at:%Y-%m-%d %H:%M}"


class PointFlag(models.IntegerChoices):
    OK = 0, _("Used")
    INACCURATE = 1, _("Poor accuracy")
    JUMP = 2, _("Impossible jump")


class TrackPoint(models.Model):
    """A position of a patrol. ``seq`` is the phone's counter: a batch sent twice adds nothing."""

    id = models.BigAutoField(primary_key=True)
    patrol = models.ForeignKey(Patrol, on_delete=models.CASCADE, related_name="track")
    seq = models.PositiveIntegerField()
    at = models.DateTimeField()
    lon = models.FloatField()
    lat = models.FloatField()
    accuracy_m = models.FloatField(null=True)
    flag = models.PositiveSmallIntegerField(choices=PointFlag.choices, default=PointFlag.OK)

    class Meta:
        constraints = [models.UniqueConstraint(fields=("patrol", "seq"), name="patrol_point_seq")]

    def __str__(self) -> str:
        return f"{self.patrol_id}#{self.seq}"


class CheckIn(models.Model):
    """A check-in at a key place; a refused one is kept too, with its reason and distance."""

    worker = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="checkins",
        verbose_name=_("grid worker"),
    )
    place = models.ForeignKey(
        KeyPlace, on_delete=models.PROTECT, related_name="checkins", verbose_name=_("place")
    )
    patrol = models.ForeignKey(
        Patrol, on_delete=models.SET_NULL, null=True, blank=True, related_name="checkins"
    )
    at = models.DateTimeField(_("time"))
    lon = models.FloatField()
    lat = models.FloatField()
    accuracy_m = models.FloatField(null=True, blank=True)
    distance_m = models.FloatField(_("distance from the place (m)"))
    accepted = models.BooleanField(_("accepted"))
    reason = models.CharField(_("refused because"), max_length=32, blank=True)
    client_key = models.CharField(max_length=64, blank=True)

    class Meta:
        verbose_name = _("check-in")
        verbose_name_plural = _("check-ins")
        indexes = [models.Index(fields=("worker", "at"), name="checkin_worker_at")]
        constraints = [
            models.UniqueConstraint(
                fields=("worker", "client_key"),
                condition=~Q(client_key=""),
                name="checkin_client_key",
            )
        ]

    def __str__(self) -> str:
        return f"{self.worker} @ {self.place} {self.at:%Y-%m-%d %H:%M}"


class CoverageWeek(models.Model):
    """A worker's coverage of one grid in one ISO week (Monday), kept current as patrols end."""

    worker = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    grid = models.ForeignKey("regions.Region", on_delete=models.CASCADE, related_name="+")
    week = models.DateField(_("week (Monday)"))
    coverage = models.FloatField(pgettext_lazy("share of a grid", "coverage"))
    patrols = models.PositiveSmallIntegerField(default=0)
    seconds = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=("worker", "grid", "week"), name="coverage_week_unique")
        ]

    def __str__(self) -> str:
        return f"{self.grid} {self.week}: {self.coverage:.0%}"

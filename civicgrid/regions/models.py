"""The region tree (district → street → community → grid) and its boundary generations.

Boundaries are versioned as generations, MapIt's idea: a generation is imported as a draft,
validated, then activated; lookups use the active one by default, and old generations stay
readable so a case keeps the grid it was located in after the grids are redrawn.
"""

from __future__ import annotations

import json

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Level(models.TextChoices):
    DISTRICT = "district", _("District")
    STREET = "street", _("Street")
    COMMUNITY = "community", _("Community")
    GRID = "grid", _("Grid")


class GridType(models.TextChoices):
    COMPREHENSIVE = "comprehensive", _("Comprehensive grid")
    DEDICATED = "dedicated", _("Dedicated grid")


class Region(models.Model):
    """A node of the region tree, identified by a stable code.

    Districts, streets and communities carry their 12-digit statistical codes (统计用区划代码);
    grids carry the standard grid code (CJ/T 213 by default, see ``regions.codes``).
    """

    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=100)
    level = models.CharField(_("level"), max_length=16, choices=Level.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    kind = models.CharField(
        _("kind"),
        max_length=32,
        blank=True,
        help_text=_("e.g. street or development-zone; community or virtual"),
    )
    grid_type = models.CharField(_("grid type"), max_length=16, choices=GridType.choices, blank=True)
    statistical_only = models.BooleanField(
        _("statistical only"), default=False, help_text=_("A statistics unit with no territory of its own.")
    )
    # 人、文、地、产、景 — filled in by later capabilities (basic data, registry).
    households = models.PositiveIntegerField(_("households"), null=True, blank=True)
    population = models.PositiveIntegerField(_("population"), null=True, blank=True)
    buildings = models.PositiveIntegerField(_("buildings"), null=True, blank=True)
    land_use = models.CharField(_("land use"), max_length=32, blank=True)
    key_places = models.JSONField(_("key places"), default=list, blank=True)
    landmarks = models.JSONField(_("landmarks"), default=list, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("region")
        verbose_name_plural = _("regions")
        ordering = ["code"]
        indexes = [models.Index(fields=["level", "code"]), models.Index(fields=["name"])]
        constraints = [
            models.CheckConstraint(condition=Q(level__in=Level.values), name="region_level_valid"),
            models.CheckConstraint(
                condition=Q(grid_type="") | (Q(level=Level.GRID) & Q(grid_type__in=GridType.values)),
                name="region_grid_type_only_on_grids",
            ),
            models.CheckConstraint(
                condition=Q(level=Level.DISTRICT) | Q(parent__isnull=False), name="region_parent_required"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class GenerationState(models.TextChoices):
    DRAFT = "draft", _("Draft")
    ACTIVE = "active", _("Active")
    RETIRED = "retired", _("Retired")


class BoundaryGeneration(models.Model):
    """One complete drawing of every boundary in the district."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    description = models.TextField(_("description"), blank=True)
    state = models.CharField(
        _("state"), max_length=16, choices=GenerationState.choices, default=GenerationState.DRAFT
    )
    source = models.CharField(_("source"), max_length=255, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
    )
    validated_at = models.DateTimeField(_("validated at"), null=True, blank=True)
    problem_count = models.PositiveIntegerField(_("problems found"), null=True, blank=True)
    activated_at = models.DateTimeField(_("activated at"), null=True, blank=True)

    class Meta:
        verbose_name = _("boundary generation")
        verbose_name_plural = _("boundary generations")
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(state__in=GenerationState.values), name="generation_state_valid"
            ),
            # Lookups default to "the" active generation, so there is at most one.
            models.UniqueConstraint(
                fields=["state"], condition=Q(state=GenerationState.ACTIVE), name="one_active_generation"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} [{self.get_state_display()}]"


class Boundary(models.Model):
    """A region's polygon in one generation, stored as GeoJSON (WGS-84 lon/lat)."""

    generation = models.ForeignKey(
        BoundaryGeneration, verbose_name=_("generation"), on_delete=models.CASCADE, related_name="boundaries"
    )
    region = models.ForeignKey(
        Region, verbose_name=_("region"), on_delete=models.PROTECT, related_name="boundaries"
    )
    geometry = models.TextField(_("geometry (GeoJSON)"))
    area_m2 = models.FloatField(_("area (m²)"))
    min_lon = models.FloatField()
    min_lat = models.FloatField()
    max_lon = models.FloatField()
    max_lat = models.FloatField()
    synthetic = models.BooleanField(
        _("synthetic"), default=False, help_text=_("Drawn by the demo generator, not from a survey.")
    )

    class Meta:
        verbose_name = _("boundary")
        verbose_name_plural = _("boundaries")
        constraints = [
            models.UniqueConstraint(fields=["generation", "region"], name="one_boundary_per_generation")
        ]

    def __str__(self) -> str:
        return f"{self.region.code} @ {self.generation_id}"

    def geojson(self) -> dict:
        return json.loads(self.geometry)

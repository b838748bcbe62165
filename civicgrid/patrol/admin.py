"""Back office for patrols: key places, plans (with their key-place rules), the duty rules of
八定一轮两响应 — all editable, every edit audited. Patrols and check-ins are read-only here: they
are written only by the services (the phone and the API), so that every change is checked."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from civicgrid.audit.admin_mixins import AuditedModelAdmin, ViewOnlyAdmin
from civicgrid.audit.services import audit_record
from civicgrid.patrol.models import CheckIn, DutyRule, KeyPlace, Patrol, PatrolPlan, PlaceRule, TrackPoint


@admin.register(KeyPlace)
class KeyPlaceAdmin(AuditedModelAdmin):
    list_display = ("name", "kind", "grid", "radius_m", "visits_per_period", "active")
    list_filter = ("kind", "active")
    search_fields = ("name", "grid__code", "grid__name")
    raw_id_fields = ("grid",)
    list_select_related = ("grid",)


class PlaceRuleInline(admin.TabularInline):
    model = PlaceRule
    extra = 0


@admin.register(PatrolPlan)
class PatrolPlanAdmin(AuditedModelAdmin):
    list_display = (
        "__str__",
        "period",
        "rounds_per_period",
        "min_minutes",
        "coverage_distance_m",
        "coverage_target",
        "max_speed_kmh",
        "max_accuracy_m",
        "updated_at",
    )
    raw_id_fields = ("grid",)
    search_fields = ("grid__code", "grid__name")
    inlines = [PlaceRuleInline]

    def save_formset(self, request, form, formset, change):
        super().save_formset(request, form, formset, change)
        # The rules edited with their plan go on the trail too (which kinds, not the values).
        changed = [f.instance.get_kind_display() for f in formset.forms if f.has_changed()]
        if changed or formset.deleted_objects:
            audit_record(
                action="admin.change",
                request=request,
                object_type="patrol.placerule",
                object_id=form.instance.pk,
                detail={"kinds": [str(k) for k in changed], "deleted": len(formset.deleted_objects)},
            )


@admin.register(DutyRule)
class DutyRuleAdmin(AuditedModelAdmin):
    list_display = ("position", "title", "code", "value", "unit", "updated_at")
    list_display_links = ("title",)
    ordering = ("position", "code")
    search_fields = ("title", "code", "text")


@admin.register(Patrol)
class PatrolAdmin(ViewOnlyAdmin):
    list_display = (
        "started_at",
        "worker",
        "grid",
        "state",
        "duration_s",
        "distance_m",
        "coverage",
        "flagged",
        "stored_points",
    )
    list_filter = ("state",)
    search_fields = ("worker__username", "grid__code", "grid__name")
    date_hierarchy = "started_at"
    list_select_related = ("worker", "grid")
    exclude = ("covered",)

    def get_queryset(self, request):
        # A correlated count, evaluated for the page's rows only (a join and GROUP BY would
        # aggregate every patrol's points before the page is cut).
        stored = (
            TrackPoint.objects.filter(patrol=OuterRef("pk"))
            .order_by()
            .values("patrol")
            .annotate(n=Count("*"))
            .values("n")
        )
        return super().get_queryset(request).defer("covered").annotate(n_stored=Coalesce(Subquery(stored), 0))

    @admin.display(description=_("stored track points"), ordering="n_stored")
    def stored_points(self, obj) -> int:
        return obj.n_stored


@admin.register(CheckIn)
class CheckInAdmin(ViewOnlyAdmin):
    list_display = ("at", "worker", "place", "accepted", "reason", "distance_m", "accuracy_m")
    list_filter = ("accepted", "reason")
    search_fields = ("worker__username", "place__name")
    date_hierarchy = "at"
    list_select_related = ("worker", "place")

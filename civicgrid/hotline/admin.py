"""Back office for the hotline's configuration: feedback limits, the class mapping, landmarks.
Batches and orders are read-only here; they change only through the import and the triage page."""

from __future__ import annotations

from django.contrib import admin

from civicgrid.audit.admin_mixins import AuditedModelAdmin, ViewOnlyAdmin
from civicgrid.cases import limits
from civicgrid.hotline.models import HotlineBatch, HotlineClassMap, HotlineLimit, Landmark


class ConfigAdmin(AuditedModelAdmin):
    """Configuration the import caches for a few seconds: drop this process's copy after a change."""

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        limits.forget()

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        limits.forget()


@admin.register(HotlineLimit)
class HotlineLimitAdmin(ConfigAdmin):
    list_display = ("kind", "limit")


@admin.register(HotlineClassMap)
class HotlineClassMapAdmin(ConfigAdmin):
    list_display = ("hotline_class", "case_class", "limit_kind")
    search_fields = ("hotline_class",)
    autocomplete_fields = ()
    list_select_related = ("case_class",)


@admin.register(Landmark)
class LandmarkAdmin(ConfigAdmin):
    list_display = ("name", "aliases", "lon", "lat", "active")
    list_filter = ("active",)
    search_fields = ("name", "aliases")


@admin.register(HotlineBatch)
class HotlineBatchAdmin(ViewOnlyAdmin):
    list_display = (
        "id",
        "file_name",
        "status",
        "total",
        "created",
        "updated",
        "unchanged",
        "triaged",
        "rejected",
        "created_at",
    )
    list_filter = ("status", "format")
    readonly_fields = [f.name for f in HotlineBatch._meta.fields]

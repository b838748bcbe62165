"""Back office: the report-in limit of each kind of whistle. Whistles themselves are changed only
through the services (pages and API), so that every change is checked, noted and audited."""

from __future__ import annotations

from django.contrib import admin

from civicgrid.audit.admin_mixins import AuditedModelAdmin
from civicgrid.cases import limits
from civicgrid.whistles.models import WhistleLimit


@admin.register(WhistleLimit)
class WhistleLimitAdmin(AuditedModelAdmin):
    list_display = ("kind", "limit")

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        limits.forget()  # the cached limits of this process (others re-read within seconds)

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        limits.forget()

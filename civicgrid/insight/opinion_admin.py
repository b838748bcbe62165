"""Back office for opinion monitoring: the watch-list (``WatchTerm``), edited by the district and
audited like every back-office edit. Imported by ``insight.admin`` (Django reads only that)."""

from __future__ import annotations

from django.contrib import admin

from civicgrid.audit.admin_mixins import AuditedModelAdmin
from civicgrid.insight.models import WatchTerm


@admin.register(WatchTerm)
class WatchTermAdmin(AuditedModelAdmin):
    list_display = ("term", "severity", "active", "note")
    list_filter = ("active", "severity")
    list_editable = ("active",)
    search_fields = ("term", "note")

"""Back-office edits go on the audit trail like every other write; records that only their own
services write (the audit trail, alarms, batches, patrols, inspections) are shown, never edited."""

from __future__ import annotations

from django.contrib import admin

from civicgrid.audit.services import audit_record


class AuditedModelAdmin(admin.ModelAdmin):
    """A ModelAdmin whose creates, changes and deletes are recorded (field names, never values)."""

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        audit_record(
            action="admin.change" if change else "admin.create",
            request=request,
            object_type=obj._meta.label_lower,
            object_id=obj.pk,
            detail={"fields": sorted(form.changed_data)},
        )

    def delete_model(self, request, obj):
        label, pk = obj._meta.label_lower, obj.pk
        super().delete_model(request, obj)
        audit_record(action="admin.delete", request=request, object_type=label, object_id=pk)

    def delete_queryset(self, request, queryset):
        label, pks = queryset.model._meta.label_lower, list(queryset.values_list("pk", flat=True))
        super().delete_queryset(request, queryset)
        for pk in pks:
            audit_record(action="admin.delete", request=request, object_type=label, object_id=pk)


class ViewOnlyAdmin(admin.ModelAdmin):
    """Shown in the back office, never added, changed or deleted there."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

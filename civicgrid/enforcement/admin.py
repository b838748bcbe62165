"""Back office for the enforcement list: items with their checkpoints (editable inline), tasks,
and inspections (read-only: they change only through the services, which check and audit them).
The Excel import and export live on /enforcement/import/ (linked from the item list)."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from civicgrid.audit.admin_mixins import AuditedModelAdmin, ViewOnlyAdmin
from civicgrid.audit.services import audit_record
from civicgrid.enforcement.models import (
    Checkpoint,
    EnforcementItem,
    Inspection,
    InspectionAnswer,
    InspectionPhoto,
    InspectionTask,
)
from civicgrid.enforcement.services import user_may_inspect


class CheckpointInline(admin.TabularInline):
    model = Checkpoint
    fields = ("seq", "text", "case_class", "active")
    extra = 1


@admin.register(EnforcementItem)
class EnforcementItemAdmin(AuditedModelAdmin):
    list_display = ("code", "name", "department", "case_class", "active", "updated_at")
    list_filter = ("active", "department")
    search_fields = ("code", "name", "legal_basis", "checkpoints__text")
    list_select_related = ("department", "case_class")
    inlines = [CheckpointInline]
    change_list_template = "admin/enforcement/item_changelist.html"

    def save_formset(self, request, form, formset, change):
        super().save_formset(request, form, formset, change)
        changed = [o.pk for o in formset.new_objects] + [o.pk for o, _f in formset.changed_objects]
        if changed or formset.deleted_objects:
            audit_record(
                action="admin.change",
                request=request,
                object_type="enforcement.checkpoint",
                object_id=form.instance.pk,
                detail={
                    "item": form.instance.code,
                    "changed": changed,
                    "deleted": len(formset.deleted_objects),
                },
            )

    def has_delete_permission(self, request, obj=None):
        # Tasks and inspections refer to their item for ever; retire one by unticking "active".
        return False


class TaskForm(forms.ModelForm):
    class Meta:
        model = InspectionTask
        fields = ("item", "grid", "assignees", "due", "state", "note")

    def clean(self):
        data = super().clean()
        grid = data.get("grid")
        refused = [u.username for u in data.get("assignees") or [] if grid and not user_may_inspect(u, grid)]
        if refused:
            raise forms.ValidationError(
                _("A task goes to enforcement officers or grid workers of the grid, not %(u)s.")
                % {"u": ", ".join(refused)}
            )
        return data


@admin.register(InspectionTask)
class InspectionTaskAdmin(AuditedModelAdmin):
    form = TaskForm
    list_display = ("id", "item", "grid", "due", "state", "created_by", "created_at")
    list_filter = ("state",)
    search_fields = ("item__code", "item__name", "grid__code", "grid__name")
    list_select_related = ("item", "grid", "created_by")
    raw_id_fields = ("grid", "assignees")

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class AnswerInline(ReadOnlyInline):
    model = InspectionAnswer
    fields = readonly_fields = ("checkpoint", "result", "note", "case")


class PhotoInline(ReadOnlyInline):
    model = InspectionPhoto
    fields = readonly_fields = ("file", "content_type", "size", "width", "height", "uploaded_at")


@admin.register(Inspection)
class InspectionAdmin(ViewOnlyAdmin):
    list_display = ("id", "item", "grid", "inspector", "at", "failed")
    list_filter = ("item",)
    search_fields = ("item__code", "grid__code", "grid__name", "inspector__username")
    list_select_related = ("item", "grid", "inspector")
    date_hierarchy = "at"
    inlines = [AnswerInline, PhotoInline]
    readonly_fields = [f.name for f in Inspection._meta.fields]

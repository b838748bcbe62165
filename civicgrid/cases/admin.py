"""Back office for the tables that steer cases: the taxonomy, stage limits, dispatch rules and
calendar overrides. Cases themselves are never edited here: every change to a case is a move.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.urls import path
from django.utils.translation import gettext_lazy as _

from civicgrid.audit.admin_mixins import AuditedModelAdmin
from civicgrid.cases import limits
from civicgrid.cases.models import CalendarOverride, CaseClass, DispatchRule, StageLimit
from civicgrid.cases.taxonomy import major_class_moved, taxonomy_export, taxonomy_import
from civicgrid.responses import excel_response


class TaxonomyUploadForm(forms.Form):
    file = forms.FileField(label=_("Excel or CSV file"))
    commit = forms.BooleanField(label=_("Write it (otherwise only check)"), required=False)


class ConfigAdmin(AuditedModelAdmin):
    """Configuration read by every process: drop this process's cache after a change."""

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        limits.forget()

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        limits.forget()


@admin.register(CaseClass)
class CaseClassAdmin(ConfigAdmin):
    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if change and "parent" in form.changed_data:
            major_class_moved(obj)

    list_display = (
        "code",
        "name",
        "parent",
        "limit_normal",
        "limit_urgent",
        "limit_emergency",
        "department",
        "self_resolvable",
        "active",
    )
    list_filter = ("family", "self_resolvable", "active", "parent")
    search_fields = ("code", "name", "name_en")
    list_select_related = ("parent", "department")
    change_list_template = "admin/cases/caseclass_changelist.html"
    fieldsets = (
        (None, {"fields": ("code", "name", "name_en", "family", "parent", "active")}),
        (_("Rules shown to staff"), {"fields": ("register_rule", "close_rule")}),
        (
            _("Handling"),
            {
                "fields": (
                    "limit_normal",
                    "limit_urgent",
                    "limit_emergency",
                    "department",
                    "self_resolvable",
                    "keywords",
                )
            },
        ),
        # The duplicate check on intake (docs/duplicates.md).
        (_("Duplicates"), {"fields": ("duplicate_radius_m", "duplicate_window_days")}),
    )

    def get_urls(self):
        own = [
            path("export/", self.admin_site.admin_view(self.export_view), name="cases_caseclass_export"),
            path("import/", self.admin_site.admin_view(self.import_view), name="cases_caseclass_import"),
        ]
        return own + super().get_urls()

    def export_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        return excel_response(taxonomy_export(), "taxonomy.xlsx")

    def import_view(self, request):
        if not self.has_change_permission(request):
            raise PermissionDenied
        report = None
        form = TaxonomyUploadForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            report = taxonomy_import(name=upload.name, data=upload.read(), commit=form.cleaned_data["commit"])
            if not report.errors and form.cleaned_data["commit"]:
                limits.forget()
                messages.success(request, _("Taxonomy imported."))
        context = {
            **self.admin_site.each_context(request),
            "form": form,
            "report": report,
            "title": _("Import the taxonomy"),
            "opts": self.model._meta,
        }
        return render(request, "admin/cases/taxonomy_import.html", context)

    def has_delete_permission(self, request, obj=None):
        # Cases refer to their class for ever; retire a class by unticking "active".
        return False


@admin.register(StageLimit)
class StageLimitAdmin(ConfigAdmin):
    list_display = ("stage", "urgency", "limit")
    list_filter = ("stage", "urgency")


@admin.register(DispatchRule)
class DispatchRuleAdmin(ConfigAdmin):
    list_display = ("case_class", "region", "department", "note")
    list_select_related = ("case_class", "region", "department")
    raw_id_fields = ("case_class", "region")
    search_fields = ("case_class__code", "case_class__name", "region__name", "department__name")


@admin.register(CalendarOverride)
class CalendarOverrideAdmin(ConfigAdmin):
    list_display = ("day", "is_workday", "note")
    date_hierarchy = "day"

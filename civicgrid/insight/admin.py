"""Back office for the command centre: its settings (one row) and the score sets — the composite
scores and the "网格+" index — with their weighted items. Every edit is audited."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from civicgrid.audit.admin_mixins import AuditedModelAdmin
from civicgrid.audit.services import audit_record
from civicgrid.insight.indicators import INDICATORS, UNITS
from civicgrid.insight.models import InsightSettings, ScoreItem, ScoreKind, ScoreSet


@admin.register(InsightSettings)
class InsightSettingsAdmin(AuditedModelAdmin):
    """The single row (id 1) the command centre reads; it is edited, never added twice or deleted."""

    list_display = ("__str__", "basic_weight", "warn_baseline_days", "warn_p_value", "weekly_weekday")

    def has_add_permission(self, request):
        return super().has_add_permission(request) and not InsightSettings.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        obj.pk = 1  # InsightSettings.current() reads row 1
        super().save_model(request, obj, form, change)


def _indicator_choices():
    return [("", "---------")] + [(code, f"{item.name} ({code})") for code, item in INDICATORS.items()]


class ScoreItemForm(forms.ModelForm):
    # A choice from the indicators the code computes, not free text: a misspelt code would be
    # silently left out of every score (score_items skips unknown codes).
    indicator = forms.ChoiceField(label=_("indicator"), choices=_indicator_choices)

    class Meta:
        model = ScoreItem
        fields = ("position", "indicator", "weight")


class ScoreItemFormSet(forms.BaseInlineFormSet):
    def clean(self):
        super().clean()
        kind = self.instance.kind
        kept = [
            f.cleaned_data
            for f in self.forms
            if f.cleaned_data and not f.cleaned_data.get("DELETE") and f.cleaned_data.get("indicator")
        ]
        for data in kept:
            item = INDICATORS[data["indicator"]]
            # A unit score is computed for every kind of unit; an indicator measured only for
            # grids (patrol coverage) belongs in the grid index alone.
            if kind != ScoreKind.GRID_INDEX and set(item.units) != set(UNITS):
                raise ValidationError(
                    _("%(name)s is measured for grids only: use it in the “网格+” index."),
                    params={"name": item.name},
                    code="grid_only",
                )
        if self.instance.active and not any(d.get("weight", 0) > 0 for d in kept):
            raise ValidationError(
                _("An active set needs at least one item with a weight above 0."), code="empty"
            )


class ScoreItemInline(admin.TabularInline):
    model = ScoreItem
    form = ScoreItemForm
    formset = ScoreItemFormSet
    extra = 1


class ScoreSetForm(forms.ModelForm):
    class Meta:
        model = ScoreSet
        fields = ("code", "name", "kind", "description", "active")

    def clean(self):
        data = super().clean()
        # The command centre reads one active set per kind (the first by code): two would make
        # which one counts depend on their codes.
        if data.get("active") and data.get("kind"):
            others = ScoreSet.objects.filter(kind=data["kind"], active=True).exclude(pk=self.instance.pk)
            if others.exists():
                raise ValidationError(
                    _("Another active set of this kind exists (%(code)s): deactivate it first."),
                    params={"code": others.first().code},
                    code="two_active",
                )
        return data


@admin.register(ScoreSet)
class ScoreSetAdmin(AuditedModelAdmin):
    form = ScoreSetForm
    list_display = ("name", "code", "kind", "active", "item_count")
    list_filter = ("kind", "active")
    search_fields = ("code", "name")
    inlines = [ScoreItemInline]

    @admin.display(description=_("items"))
    def item_count(self, obj):
        return obj.items.count()

    def save_formset(self, request, form, formset, change):
        super().save_formset(request, form, formset, change)
        # The items edited with their set go on the trail too: which indicators, with their weights
        # (configuration, not personal data), so a changed ranking can be traced to its edit.
        changed = [
            {"indicator": f.instance.indicator, "weight": f.instance.weight}
            for f in formset.forms
            if f.has_changed() and f.instance.pk and f.instance not in formset.deleted_objects
        ]
        deleted = [obj.indicator for obj in formset.deleted_objects]
        if changed or deleted:
            audit_record(
                action="admin.change",
                request=request,
                object_type="insight.scoreitem",
                object_id=form.instance.pk,
                detail={"items": changed, "deleted": deleted},
            )


# The watch-list's admin lives with opinion monitoring; importing it here registers it.
from civicgrid.insight import opinion_admin  # noqa: E402, F401

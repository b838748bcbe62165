"""Back office for the routing configuration (the tier ladder and the level map). Every process
re-reads it within seconds (``cases.limits.cached``); this one at once after a save."""

from __future__ import annotations

from django import forms
from django.contrib import admin

from civicgrid.accounts.models import Role
from civicgrid.cases.admin import ConfigAdmin
from civicgrid.routing.models import LevelRoute, TierSetting


class TierSettingForm(forms.ModelForm):
    owner_roles = forms.MultipleChoiceField(choices=Role.choices, widget=forms.CheckboxSelectMultiple)

    class Meta:
        model = TierSetting
        fields = ["tier", "position", "owner_roles", "limit", "meeting_form", "active"]


@admin.register(TierSetting)
class TierSettingAdmin(ConfigAdmin):
    form = TierSettingForm
    list_display = ("tier", "position", "owner_roles", "limit", "meeting_form", "active")
    ordering = ("position",)


@admin.register(LevelRoute)
class LevelRouteAdmin(ConfigAdmin):
    list_display = ("level", "first_tier")

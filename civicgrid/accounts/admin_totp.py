"""Admin for the second-factor policy; kept apart from ``admin.py`` and loaded by the app config."""

from django.contrib import admin

from civicgrid.accounts.models import SecondFactorPolicy


@admin.register(SecondFactorPolicy)
class SecondFactorPolicyAdmin(admin.ModelAdmin):
    list_display = ("role", "required")
    list_editable = ("required",)
    list_filter = ("required",)

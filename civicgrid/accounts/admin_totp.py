"""Admin for the second-factor policy; kept apart from ``admin.py`` and loaded by the app config."""

from django.contrib import admin

from civicgrid.accounts.models import SecondFactorPolicy
from civicgrid.audit.admin_mixins import AuditedModelAdmin


@admin.register(SecondFactorPolicy)
class SecondFactorPolicyAdmin(AuditedModelAdmin):
    list_display = ("role", "required")
    list_editable = ("required",)
    list_filter = ("required",)

from django.contrib import admin, messages
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from civicgrid.audit.admin_mixins import AuditedModelAdmin
from civicgrid.errors import DomainError
from civicgrid.regions import services
from civicgrid.regions.attributes import attributes_export
from civicgrid.regions.models import Boundary, BoundaryGeneration, Region
from civicgrid.responses import excel_response


@admin.register(Region)
class RegionAdmin(AuditedModelAdmin):
    list_display = ("code", "name", "level", "grid_type", "parent", "population", "households")
    list_filter = ("level", "grid_type", "statistical_only")
    search_fields = ("code", "name")
    list_select_related = ("parent",)
    raw_id_fields = ("parent",)
    readonly_fields = ("code", "level", "created_at", "updated_at")
    actions = ("export_excel",)
    fieldsets = (
        (None, {"fields": ("code", "name", "level", "parent", "kind", "grid_type", "statistical_only")}),
        (
            _("People, culture, land, economy, scenery"),
            {"fields": ("households", "population", "buildings", "land_use", "key_places", "landmarks")},
        ),
        (None, {"fields": ("created_at", "updated_at")}),
    )

    @admin.action(description=_("Export attributes to Excel"))
    def export_excel(self, request, queryset):
        level = queryset.values_list("level", flat=True).first() or "grid"
        return excel_response(attributes_export(level=level), f"{level}-attributes.xlsx")

    def has_delete_permission(self, request, obj=None):
        # Codes are stable identities that cases refer to; a region is never deleted.
        return False


@admin.register(BoundaryGeneration)
class BoundaryGenerationAdmin(AuditedModelAdmin):
    list_display = (
        "name",
        "state",
        "created_at",
        "validated_at",
        "problem_count",
        "activated_at",
        "problems_link",
    )
    list_filter = ("state",)
    readonly_fields = ("state", "created_at", "created_by", "validated_at", "problem_count", "activated_at")
    actions = ("validate", "activate")

    @admin.display(description=_("coverage"))
    def problems_link(self, obj):
        url = reverse("generation-problems", args=[obj.id])
        return format_html('<a href="{}">{}</a>', url, _("show on map"))

    @admin.action(description=_("Validate coverage"))
    def validate(self, request, queryset):
        for generation in queryset:
            problems = services.generation_validate(generation=generation)
            level = messages.SUCCESS if not problems else messages.WARNING
            self.message_user(
                request, _("%(g)s: %(n)d problems") % {"g": generation.name, "n": len(problems)}, level
            )

    @admin.action(description=_("Activate (lookups will use it)"))
    def activate(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, _("Choose exactly one generation to activate."), messages.ERROR)
            return
        try:
            generation = services.generation_activate(generation=queryset.get(), by=request.user)
        except DomainError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return
        self.message_user(request, _("%(g)s is now active.") % {"g": generation.name}, messages.SUCCESS)

    def has_delete_permission(self, request, obj=None):
        return obj is not None and obj.state == "draft"


@admin.register(Boundary)
class BoundaryAdmin(admin.ModelAdmin):
    list_display = ("region", "generation", "area_m2", "synthetic")
    list_filter = ("generation", "synthetic", "region__level")
    search_fields = ("region__code", "region__name")
    list_select_related = ("region", "generation")
    readonly_fields = (
        "generation",
        "region",
        "geometry",
        "area_m2",
        "min_lon",
        "min_lat",
        "max_lon",
        "max_lat",
        "synthetic",
    )

    def has_add_permission(self, request):
        return False  # boundaries arrive through an import, never one by one

    def has_change_permission(self, request, obj=None):
        return False

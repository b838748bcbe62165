from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _

from civicgrid.accounts.lockout import lockout_clear
from civicgrid.accounts.models import Department, GridStaffing, RoleAssignment, User


class RoleAssignmentInline(admin.TabularInline):
    model = RoleAssignment
    extra = 0
    raw_id_fields = ("region", "department")


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    fieldsets = (
        *DjangoUserAdmin.fieldsets[:1],
        (_("Personal info"), {"fields": ("display_name", "first_name", "last_name", "email")}),
        *DjangoUserAdmin.fieldsets[2:],
    )
    list_display = ("username", "display_name", "is_active", "is_staff", "last_login")
    search_fields = ("username", "display_name")
    inlines = (RoleAssignmentInline,)
    actions = ("unlock",)

    @admin.action(description=_("Unlock (clear failed logins)"))
    def unlock(self, request, queryset):
        cleared = sum(lockout_clear(username=user.username, by=request.user) for user in queryset)
        self.message_user(request, _("%(n)d failed logins cleared.") % {"n": cleared})


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "kind", "region", "contact_name", "active")
    list_filter = ("kind", "active")
    search_fields = ("code", "name")
    raw_id_fields = ("region",)


@admin.register(GridStaffing)
class GridStaffingAdmin(admin.ModelAdmin):
    list_display = ("grid", "post", "user", "start", "end")
    list_filter = ("post",)
    search_fields = ("grid__code", "grid__name", "user__username", "user__display_name")
    raw_id_fields = ("grid", "user")
    list_select_related = ("grid", "user")

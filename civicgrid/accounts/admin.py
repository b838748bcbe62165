from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _

from civicgrid.accounts.lockout import lockout_clear
from civicgrid.accounts.models import Department, GridStaffing, Role, RoleAssignment, User
from civicgrid.accounts.scopes import request_scope
from civicgrid.audit.admin_mixins import AuditedModelAdmin
from civicgrid.audit.services import audit_record


def is_security_admin(request) -> bool:
    return request_scope(request).has_role(Role.SECURITY_ADMIN)


class SecurityAdminOnly:
    """三权分立: accounts and roles are the security admin's alone — not even a superuser's
    (the system admin), who could otherwise make themselves auditor."""

    def has_module_permission(self, request):
        return is_security_admin(request)

    def has_view_permission(self, request, obj=None):
        return is_security_admin(request)

    def has_add_permission(self, request, obj=None):
        return is_security_admin(request)

    def has_change_permission(self, request, obj=None):
        return is_security_admin(request)

    def has_delete_permission(self, request, obj=None):
        return False  # people and roles end (is_active, valid_until); they are never erased


class RoleAssignmentInline(SecurityAdminOnly, admin.TabularInline):
    model = RoleAssignment
    extra = 0
    raw_id_fields = ("region", "department")


@admin.register(User)
class UserAdmin(SecurityAdminOnly, DjangoUserAdmin):
    fieldsets = (
        *DjangoUserAdmin.fieldsets[:1],
        (_("Personal info"), {"fields": ("display_name", "first_name", "last_name", "email")}),
        *DjangoUserAdmin.fieldsets[2:],
    )
    list_display = ("username", "display_name", "is_active", "is_staff", "last_login")
    search_fields = ("username", "display_name")
    inlines = (RoleAssignmentInline,)
    actions = ("unlock",)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        audit_record(
            action="user.change" if change else "user.create",
            request=request,
            object_type="user",
            object_id=obj.get_username(),
            detail={"fields": sorted(form.changed_data)},
        )

    def save_formset(self, request, form, formset, change):
        super().save_formset(request, form, formset, change)
        for assignment in formset.new_objects:
            audit_record(action="role.grant", request=request, object_type="user", object_id=form.instance.get_username(),
                         detail={"role": assignment.role, "assignment": assignment.pk})  # fmt: skip
        for assignment, fields in formset.changed_objects:
            audit_record(action="role.change", request=request, object_type="user", object_id=form.instance.get_username(),
                         detail={"role": assignment.role, "assignment": assignment.pk, "fields": fields})  # fmt: skip

    @admin.action(description=_("Unlock (clear failed logins)"))
    def unlock(self, request, queryset):
        cleared = sum(lockout_clear(username=user.username, by=request.user) for user in queryset)
        self.message_user(request, _("%(n)d failed logins cleared.") % {"n": cleared})


@admin.register(Department)
class DepartmentAdmin(AuditedModelAdmin):
    list_display = ("code", "name", "kind", "region", "contact_name", "active")
    list_filter = ("kind", "active")
    search_fields = ("code", "name")
    raw_id_fields = ("region",)


@admin.register(GridStaffing)
class GridStaffingAdmin(AuditedModelAdmin):
    list_display = ("grid", "post", "user", "start", "end")
    list_filter = ("post",)
    search_fields = ("grid__code", "grid__name", "user__username", "user__display_name")
    raw_id_fields = ("grid", "user")
    list_select_related = ("grid", "user")

"""Back office for the registry (system administrators, who hold no territory), the alarm types
(configuration) and the alarms received (read-only: they are the record of what came in)."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from civicgrid.audit.admin_mixins import AuditedModelAdmin, ViewOnlyAdmin
from civicgrid.devices import signing
from civicgrid.devices.exports import HEADERS, devices_import, devices_xlsx
from civicgrid.devices.models import Alarm, AlarmType, Device
from civicgrid.devices.services import DeviceInput, device_fields, device_rotate_secret
from civicgrid.devices.views import secret_page
from civicgrid.errors import DomainError
from civicgrid.responses import excel_response


class DeviceUploadForm(forms.Form):
    file = forms.FileField(label=_("Excel or CSV file"))
    commit = forms.BooleanField(label=_("Write it (otherwise only check)"), required=False)


class DeviceForm(forms.ModelForm):
    """The registry's form: the place is located (grid, district) when it is checked."""

    class Meta:
        model = Device
        fields = ["external_id", "kind", "name", "lon", "lat", "address", "active"]

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        try:
            fields, _place = device_fields(
                DeviceInput(
                    external_id=data.get("external_id") or self.instance.external_id,
                    kind=data.get("kind", ""),
                    name=data.get("name", ""),
                    lon=data.get("lon"),
                    lat=data.get("lat"),
                    address=data.get("address", ""),
                    active=data.get("active", True),
                )
            )
        except DomainError as exc:
            raise forms.ValidationError(exc.message, code=exc.code) from None
        self.instance.grid_id, self.instance.district_id = fields["grid_id"], fields["district_id"]
        data["lon"], data["lat"] = fields["lon"], fields["lat"]
        return data


@admin.register(Device)
class DeviceAdmin(AuditedModelAdmin):
    form = DeviceForm
    list_display = ("external_id", "name", "kind", "grid", "active", "last_seen")
    list_filter = ("kind", "active")
    search_fields = ("external_id", "name", "address")
    list_select_related = ("grid",)
    readonly_fields = ("grid", "district", "secret_set_at", "last_seen", "created_at", "updated_at")
    actions = ["rotate_secret", "export_xlsx"]
    change_list_template = "admin/devices/device_changelist.html"

    def get_urls(self):
        own = [path("import/", self.admin_site.admin_view(self.import_view), name="devices_device_import")]
        return own + super().get_urls()

    def import_view(self, request):
        if not (self.has_add_permission(request) and self.has_change_permission(request)):
            raise PermissionDenied
        report = None
        form = DeviceUploadForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            report = devices_import(
                name=upload.name, data=upload.read(), commit=form.cleaned_data["commit"], by=request.user
            )
        context = {
            **self.admin_site.each_context(request),
            "form": form,
            "report": report,
            "headers": HEADERS,
            "title": _("Import devices"),
            "opts": self.model._meta,
        }
        response = render(request, "admin/devices/device_import.html", context)
        response["Cache-Control"] = "no-store"  # new devices' secrets are on it, once
        return response

    def get_readonly_fields(self, request, obj=None):
        # The id is what the device sends; changing it here would orphan its alarms' meaning.
        return ("external_id", *self.readonly_fields) if obj else self.readonly_fields

    def save_model(self, request, obj, form, change):
        if not change:
            obj._new_secret = obj.secret = signing.new_secret()
            obj.secret_set_at = timezone.now()
        super().save_model(request, obj, form, change)

    def response_add(self, request, obj, post_url_continue=None):
        return secret_page(request, obj, obj._new_secret, rotated=False)

    @admin.action(description=_("Make a new secret (one device)"))
    def rotate_secret(self, request, queryset):
        if not self.has_change_permission(request):
            raise PermissionDenied
        if queryset.count() != 1:
            self.message_user(request, _("Choose exactly one device: each new secret is shown once."))
            return None
        device = queryset.get()
        secret = device_rotate_secret(scope=None, by=request.user, device=device)
        return secret_page(request, device, secret, rotated=True)

    @admin.action(description=_("Export as Excel"))
    def export_xlsx(self, request, queryset):
        return excel_response(devices_xlsx(queryset), "devices.xlsx")


@admin.register(AlarmType)
class AlarmTypeAdmin(AuditedModelAdmin):
    list_display = ("code", "name", "case_class", "urgency", "fold_minutes", "note_minutes", "active")
    list_filter = ("urgency", "active")
    search_fields = ("code", "name")
    list_select_related = ("case_class",)


@admin.register(Alarm)
class AlarmAdmin(ViewOnlyAdmin):
    """What came in, as it came in: nobody edits or deletes it here."""

    list_display = ("received_at", "claimed_device", "type_code", "outcome", "reason", "status", "case")
    list_filter = ("outcome", "reason")
    search_fields = ("claimed_device", "external_id")
    list_select_related = ("case",)
    date_hierarchy = "received_at"
    exclude = ("signature",)

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import StreamingHttpResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from civicgrid.audit import selectors
from civicgrid.audit.admin_mixins import ViewOnlyAdmin
from civicgrid.audit.exports import csv_lines
from civicgrid.audit.models import SEALED_FIELDS, AuditRecord
from civicgrid.audit.services import audit_record, audit_record_denial


def _auditor(request) -> bool:
    # The admin asks several times per page; one role query per request is enough.
    if not hasattr(request, "_audit_is_auditor"):
        request._audit_is_auditor = selectors.is_auditor(request.user)
    return request._audit_is_auditor


def _deny(request) -> None:
    audit_record_denial(request=request, object_type="audit.trail")
    raise PermissionDenied


@admin.register(AuditRecord)
class AuditRecordAdmin(ViewOnlyAdmin):
    """The trail for auditors only: nobody adds, changes or deletes here, superusers included."""

    list_display = ("id", "at", "actor_name", "ip", "action", "object_type", "object_id", "result")
    list_filter = ("result", "action", "at")
    search_fields = ("actor_name",)  # the search itself is audit_filter(), see get_search_results
    fields = ("actor", *SEALED_FIELDS, "hash")
    readonly_fields = fields
    actions = ("export_csv",)
    list_per_page = 100
    # COUNT(*) over millions of rows on every page is the slow part of a changelist.
    show_full_result_count = False

    def has_module_permission(self, request):
        return _auditor(request)

    def has_view_permission(self, request, obj=None):
        return _auditor(request)

    def get_queryset(self, request):
        # Through the selector, so a path that skipped the permission checks still gets 404.
        return selectors.audit_search(user=request.user)

    def get_search_results(self, request, queryset, search_term):
        if not search_term:
            return queryset, False
        return selectors.audit_filter(queryset, q=search_term), False

    def changelist_view(self, request, extra_context=None):
        if not _auditor(request):
            _deny(request)
        return super().changelist_view(request, extra_context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        if not _auditor(request):
            _deny(request)
        return super().change_view(request, object_id, form_url, extra_context)

    @admin.action(description=_("Export selected records as CSV"))
    def export_csv(self, request, queryset):
        count = queryset.count()
        audit_record(
            action="export.audit_csv",
            request=request,
            object_type="audit.trail",
            detail={"rows": count, "via": "admin"},
        )
        # Streamed: "select all" over a long trail must not build the file in memory.
        lines = csv_lines(queryset)
        response = StreamingHttpResponse(_with_bom(lines), content_type="text/csv; charset=utf-8")
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
        response["Content-Disposition"] = f'attachment; filename="audit-{stamp}.csv"'
        return response


def _with_bom(lines):
    # Excel reads a CSV with Chinese names as UTF-8 only when it starts with a BOM.
    yield "\ufeff"
    yield from lines

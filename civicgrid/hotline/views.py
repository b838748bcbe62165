"""Hotline pages for operators and shift leads: upload a batch (imported by a Huey task while the
page shows its progress), the batch report with its Excel download, the triage queue where an
order without a place gets one, and the export back to the hotline.

Thin: parse, call a service or selector, render. Anyone else gets 403 (recorded on the audit trail).
"""

from __future__ import annotations

from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from civicgrid.accounts.scopes import request_scope
from civicgrid.audit.services import audit_record_denial
from civicgrid.cases.views import see_other
from civicgrid.errors import DomainError, NotFound
from civicgrid.hotline import exports, formats, selectors, services, tasks
from civicgrid.hotline.models import BatchFormat, Outcome
from civicgrid.hotline.places import Gazetteer
from civicgrid.hotline.reports import batch_report_xlsx
from civicgrid.responses import excel_response

PAGE_SIZE = 50


def _denied(request, error: DomainError) -> HttpResponse:
    if error.status == 403:
        audit_record_denial(request=request, object_type="hotline", object_id=request.path[:128])
    return render(request, "error.html", {"error": error}, status=error.status)


def _guarded(view):
    """Render a refusal (403 for other roles, 404 for what does not exist) as a page."""

    def wrapper(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except DomainError as exc:
            return _denied(request, exc)

    wrapper.__name__, wrapper.__doc__ = view.__name__, view.__doc__
    return login_required(wrapper)


def _home_context(request, scope) -> dict:
    return {
        "batches": selectors.batch_list(scope=scope)[:20],
        "triaged": selectors.triage_list(scope=scope).count(),
        "formats": BatchFormat.choices,
        "max_mb": services.upload_max_bytes() // 2**20,
    }


@_guarded
def home(request):
    """The upload form, the recent batches and the export form."""
    scope = request_scope(request)
    if request.method != "POST":
        return render(request, "hotline/home.html", _home_context(request, scope))
    upload = request.FILES.get("file")
    try:
        if upload is None:
            raise DomainError("file_required", _("Choose a file of orders."))
        fits = upload.size <= services.upload_max_bytes()
        batch = services.batch_receive(
            user=request.user,
            name=upload.name,
            data=upload.read() if fits else b"",
            size=upload.size,
            again=bool(request.POST.get("again")),
        )
    except DomainError as exc:
        context = _home_context(request, scope) | {"error": exc}
        if exc.code == "hotline_forbidden":
            return _denied(request, exc)
        return render(request, "hotline/home.html", context, status=exc.status)
    transaction.on_commit(lambda: tasks.import_batch(batch.pk))
    return see_other(reverse("hotline-batch", args=[batch.pk]))


@_guarded
def batch_detail(request, batch_id: int):
    scope = request_scope(request)
    batch = selectors.batch_get(scope=scope, batch_id=batch_id)
    outcome = request.GET.get("outcome", "")
    if outcome not in Outcome.values:
        outcome = ""
    lines = selectors.batch_lines(scope=scope, batch=batch, outcome=outcome)
    page = Paginator(lines, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "hotline/batch.html",
        {
            "batch": batch,
            "page": page,
            "outcome": outcome,
            "outcomes": Outcome.choices,
            "formats": BatchFormat.choices,
        },
    )


@_guarded
def batch_progress(request, batch_id: int):
    """The progress fragment the batch page polls; once the batch is finished the page reloads."""
    batch = selectors.batch_get(scope=request_scope(request), batch_id=batch_id)
    response = render(request, "hotline/_progress.html", {"batch": batch})
    if batch.finished and request.headers.get("HX-Request"):
        response["HX-Refresh"] = "true"
    return response


@_guarded
def batch_report(request, batch_id: int):
    scope = request_scope(request)
    batch = selectors.batch_get(scope=scope, batch_id=batch_id)
    content = batch_report_xlsx(selectors.batch_lines(scope=scope, batch=batch), batch=batch)
    return excel_response(content, f"hotline-batch-{batch.pk}-report.xlsx")


@require_POST
@_guarded
def batch_resume(request, batch_id: int):
    batch = services.batch_resume(user=request.user, batch_id=batch_id)
    transaction.on_commit(lambda: tasks.import_batch(batch.pk))
    return see_other(reverse("hotline-batch", args=[batch.pk]))


def _date(value: str, name: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise DomainError("bad_date", _("Give %(field)s as YYYY-MM-DD.") % {"field": name}) from None


@_guarded
def export(request):
    """``?batch=ID`` or ``?from=YYYY-MM-DD&to=YYYY-MM-DD``; ``format`` json, csv or xlsx;
    ``headers=zh`` for the Chinese column names."""
    scope = request_scope(request)
    fmt = request.GET.get("format", BatchFormat.XLSX)
    if fmt not in BatchFormat.values:
        raise DomainError("bad_format", _("Export as json, csv or xlsx."))
    batch_id = request.GET.get("batch", "")
    if batch_id and not batch_id.isdigit():
        raise NotFound("batch_not_found", _("There is no batch #%(id)s.") % {"id": batch_id[:20]})
    batch = selectors.batch_get(scope=scope, batch_id=int(batch_id)) if batch_id else None
    query = selectors.export_query(
        scope=scope,
        batch=batch,
        received_from=_date(request.GET.get("from", ""), "from"),
        received_to=_date(request.GET.get("to", ""), "to"),
    )
    content, _count = exports.orders_export(query, fmt=fmt, chinese=request.GET.get("headers") == "zh")
    name = f"hotline-{'batch-' + batch_id if batch_id else 'orders'}.{fmt}"
    response = HttpResponse(content, content_type=formats.CONTENT_TYPES[fmt])
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@_guarded
def triage(request):
    """Orders waiting for a place, oldest first, each with a place picker and a reject form."""
    scope = request_scope(request)
    page = Paginator(selectors.triage_list(scope=scope), PAGE_SIZE).get_page(request.GET.get("page"))
    places = Gazetteer().choices() if page.object_list else []
    return render(request, "hotline/triage.html", {"page": page, "places": places})


def _back_to_triage(request, error: DomainError) -> HttpResponse:
    """A refusal of the operator's input: back to the queue, saying why (403/404 as pages)."""
    if error.status in (403, 404):
        return _denied(request, error)
    messages.error(request, error.message)
    return see_other(reverse("hotline-triage"))


@require_POST
@_guarded
def triage_place(request, order_id: int):
    try:
        order = services.order_place(
            actor=services.actor_of(request.user), order_id=order_id, place=request.POST.get("place", "")
        )
    except DomainError as exc:
        return _back_to_triage(request, exc)
    messages.success(
        request, _("Order %(n)s placed: case %(c)s.") % {"n": order.external_number, "c": order.case.number}
    )
    return see_other(reverse("hotline-triage"))


@require_POST
@_guarded
def triage_reject(request, order_id: int):
    try:
        order = services.order_reject(
            actor=services.actor_of(request.user), order_id=order_id, reason=request.POST.get("reason", "")
        )
    except DomainError as exc:
        return _back_to_triage(request, exc)
    messages.success(request, _("Order %(n)s rejected.") % {"n": order.external_number})
    return see_other(reverse("hotline-triage"))

"""Enforcement pages for staff: the item list with search, one item, the tasks in scope (and
giving one), inspections with their answers and the cases raised, the Excel import and export.

Thin like the API: parse the form, call a service or selector, render. Refusals are
``DomainError``s rendered by the error middleware (403 pages are audited there; an inspection
outside the reader's scope answers 404 like a missing one, and that is audited too).
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from civicgrid.accounts.scopes import Scope, request_scope
from civicgrid.cases import selectors as case_selectors
from civicgrid.cases.api import actor_for, submitter
from civicgrid.cases.files import serve_attachment as serve_file
from civicgrid.cases.views import see_other
from civicgrid.enforcement import items, selectors, services
from civicgrid.enforcement.models import EnforcementItem, TaskState
from civicgrid.errors import DomainError
from civicgrid.regions.models import Level, Region
from civicgrid.responses import excel_response

PAGE_SIZE = 50
SESSION_ERRORS = "enforcement_import_errors"
TASK_DUE_DAYS = 7  # the task form's default due date, days from today


def _staff(request) -> Scope:
    scope = request_scope(request)
    if not (selectors.may_read_items(scope) or request.user.is_superuser):
        raise DomainError("enforcement_forbidden", _("Enforcement is not part of your work."), status=403)
    return scope


def _importer(request) -> Scope:
    scope = request_scope(request)
    if not (selectors.may_import(scope) or request.user.is_superuser):
        raise DomainError(
            "import_forbidden",
            _("Only the command centre and the system administrator replace the enforcement list."),
            status=403,
        )
    return scope


def _page(request, query):
    return Paginator(query, PAGE_SIZE).get_page(request.GET.get("page"))


@login_required
def item_list(request):
    scope = _staff(request)
    q = request.GET.get("q", "").strip()
    return render(
        request,
        "enforcement/items.html",
        {
            "q": q,
            "page": _page(request, selectors.item_search(q=q)),
            "may_import": selectors.may_import(scope) or request.user.is_superuser,
        },
    )


@login_required
def item_detail(request, code: str):
    scope = _staff(request)
    item = selectors.item_get(code=code)
    return render(
        request,
        "enforcement/item.html",
        {"item": item, "inspections": selectors.inspections_of_item(scope=scope, item=item)},
    )


def _task_form_context(request, scope: Scope, values) -> dict:
    if not selectors.may_create_tasks(scope):
        return {}
    grids = Region.objects.filter(level=Level.GRID).order_by("code")
    if not scope.everything:
        grids = grids.filter(pk__in=scope.region_ids)
    return {
        "may_create": True,
        "values": values,
        "form_items": EnforcementItem.objects.filter(active=True).order_by("code"),
        "form_grids": grids.only("code", "name"),
    }


@login_required
def task_list(request):
    scope = request_scope(request)
    if request.method == "POST":
        return _task_create(request, scope)
    state = request.GET.get("state", TaskState.OPEN)
    grid = request.GET.get("grid", "").strip()
    values = {"due": (timezone.localdate() + timedelta(days=TASK_DUE_DAYS)).isoformat(), "grid": grid}
    context = {"state": state, "states": TaskState.choices, "grid": grid} | _task_form_context(
        request, scope, values
    )
    try:
        context["page"] = _page(request, selectors.task_list(scope=scope, state=state, grid=grid))
    except DomainError as error:
        return render(request, "enforcement/tasks.html", context | {"error": error}, status=error.status)
    return render(request, "enforcement/tasks.html", context)


def _task_create(request, scope: Scope):
    post = request.POST
    try:
        task = services.task_create(
            actor=actor_for(request),
            item=post.get("item", ""),
            grid=post.get("grid", ""),
            due=post.get("due", ""),
            assignees=[a for a in post.get("assignees", "").replace("，", ",").split(",") if a.strip()],
            note=post.get("note", ""),
        )
    except DomainError as error:
        if error.status == 403:
            raise
        context = {"state": TaskState.OPEN, "states": TaskState.choices, "error": error}
        context |= _task_form_context(request, scope, post)
        context["page"] = _page(request, selectors.task_list(scope=scope))
        return render(request, "enforcement/tasks.html", context, status=error.status)
    names = "、".join(str(u) for u in task.assignees.order_by("username"))
    messages.success(request, _("Task given to %(names)s.") % {"names": names})
    return see_other(reverse("enforcement:task-list"))


@login_required
@require_POST
def task_cancel(request, task_id: int):
    try:
        services.task_cancel(actor=actor_for(request), task_id=task_id, reason=request.POST.get("reason", ""))
    except DomainError as error:
        if error.status in (403, 404):
            raise
        messages.error(request, error.message)
    else:
        messages.success(request, _("Task cancelled."))
    return see_other(reverse("enforcement:task-list"))


@login_required
def inspection_list(request):
    scope = request_scope(request)
    params = {k: request.GET.get(k, "").strip() for k in ("grid", "item", "from", "to")}
    filters = selectors.InspectionFilter(
        grid=params["grid"], item=params["item"], date_from=params["from"], date_to=params["to"]
    )
    context = {"params": params, "filtered": any(params.values())}
    try:
        context["page"] = _page(request, selectors.inspection_list(scope=scope, filters=filters))
    except DomainError as error:
        return render(
            request, "enforcement/inspections.html", context | {"error": error}, status=error.status
        )
    return render(request, "enforcement/inspections.html", context)


def _inspection_context(request, inspection_id: int) -> dict:
    scope = request_scope(request)
    inspection = selectors.inspection_get(scope=scope, inspection_id=inspection_id)
    answers = selectors.inspection_answers(inspection)
    raised = [a.case_id for a in answers if a.case_id]
    visible = set(case_selectors.case_queryset(scope).filter(pk__in=raised).values_list("pk", flat=True))
    return {
        "inspection": inspection,
        "answers": answers,
        "visible_cases": visible,
        "photos": list(inspection.photos.order_by("id")),
        "may_raise": selectors.may_inspect(scope),
    }


@login_required
def inspection_detail(request, inspection_id: int):
    return render(request, "enforcement/inspection.html", _inspection_context(request, inspection_id))


@login_required
@require_POST
def inspection_case(request, inspection_id: int):
    """Raise the case of a failed checkpoint from the inspection's page."""
    try:
        checkpoint = int(request.POST.get("checkpoint", ""))
    except ValueError:
        raise DomainError("bad_checkpoint", _("Choose a checkpoint.")) from None
    try:
        case = services.inspection_case_raise(
            actor=actor_for(request),
            inspection_id=inspection_id,
            checkpoint_id=checkpoint,
            submitted_by=submitter(request),
        )
    except DomainError as error:
        if error.status in (403, 404):
            raise
        context = _inspection_context(request, inspection_id) | {"error": error}
        return render(request, "enforcement/inspection.html", context, status=error.status)
    messages.success(request, _("Case %(n)s raised.") % {"n": case.number})
    return see_other(reverse("enforcement:inspection-detail", args=[inspection_id]))


@login_required
@require_GET
def inspection_photo(request, inspection_id: int, photo_id: int):
    inspection = selectors.inspection_get(scope=request_scope(request), inspection_id=inspection_id)
    photo = inspection.photos.filter(pk=photo_id).first()
    if photo is None:
        raise Http404
    return serve_file(photo)


@login_required
def import_page(request):
    """Check a sheet (and write it when asked): every problem listed with its row and column."""
    _importer(request)
    report = None
    if request.method == "POST":
        upload = request.FILES.get("file")
        if upload is None:
            raise DomainError("file_required", _("Choose an Excel file."))
        if upload.size > settings.UPLOAD_MAX_BYTES:
            raise DomainError(
                "upload_too_large",
                _("The file is too large; the limit is %(limit)s MB.")
                % {"limit": f"{settings.UPLOAD_MAX_BYTES / 2**20:.3g}"},
                {"max_bytes": settings.UPLOAD_MAX_BYTES, "size": upload.size},
                status=413,
            )
        report = items.items_import(
            name=upload.name or "items.xlsx", data=upload.read(), commit=bool(request.POST.get("commit"))
        )
        # Kept for the downloadable report (one import's worth, newest wins).
        request.session[SESSION_ERRORS] = report.errors[: items.ERRORS_KEPT]
        if report.committed:
            messages.success(request, _("The enforcement list was imported."))
    return render(
        request,
        "enforcement/import.html",
        {
            "report": report,
            "errors": report.errors[: items.ERRORS_KEPT] if report else [],
            "headers": items.HEADERS,
        },
    )


@login_required
@require_GET
def import_errors(request):
    _importer(request)
    return excel_response(
        items.errors_export(request.session.get(SESSION_ERRORS, [])), "enforcement-import-errors.xlsx"
    )


@login_required
@require_GET
def item_export(request):
    _staff(request)
    return excel_response(items.items_export(), "enforcement-items.xlsx")

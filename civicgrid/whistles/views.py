"""Whistle pages for staff: the list with filters, blowing a whistle (standalone or on a case), the
whistle with its report-ins, meeting records and closing, and the figures.

Thin like the API: parse the form, call a service or selector, render. A whistle outside the
reader's scope answers 404 exactly like a missing one; people whose work has no whistles get 403.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from civicgrid.accounts.models import Department, Role
from civicgrid.accounts.scopes import request_scope
from civicgrid.audit.services import audit_record_denial
from civicgrid.cases import selectors as case_selectors
from civicgrid.cases.api import actor_for, submitter
from civicgrid.cases.views import see_other
from civicgrid.errors import DomainError, NotFound, OutOfScope
from civicgrid.regions.models import Level, Region
from civicgrid.whistles import presenters, selectors, services
from civicgrid.whistles.models import Whistle, WhistleKind, WhistleState

PAGE_SIZE = 50
TASK_ROWS = 3  # task lines offered on the meeting form


def _forbidden(request):
    return render(
        request, "whistles/forbidden.html", {"message": _("Whistles are not part of your work.")}, status=403
    )


def _whistle_or_404(request, number: str) -> Whistle:
    try:
        return selectors.whistle_get(scope=request_scope(request), number=number)
    except OutOfScope as exc:
        audit_record_denial(request=request, object_type=exc.object_type, object_id=exc.object_id)
        raise Http404 from None
    except NotFound:
        raise Http404 from None


def _limits() -> list[tuple[str, str, str]]:
    return [(k.value, str(k.label), services.report_in_limit(k).label()) for k in WhistleKind]


@login_required
def whistle_list(request):
    scope = request_scope(request)
    if not selectors.may_use(scope):
        return _forbidden(request)
    params = {
        k: request.GET.get(k, "").strip()
        for k in ("kind", "state", "street", "late", "date_from", "date_to", "q")
    }
    context = {
        "params": params,
        "kinds": WhistleKind.choices,
        "states": WhistleState.choices,
        "streets": Region.objects.filter(level=Level.STREET, statistical_only=False).order_by("code"),
        "filtered": any(params.values()),
        "may_blow": bool(services.blowing_regions(request.user.pk)),
    }
    try:
        found = selectors.whistle_list(scope=scope, filters=selectors.WhistleFilter.from_params(params))
        try:
            page = max(1, int(request.GET.get("page", "1")))
        except ValueError:
            page = 1
        rows = list(found.prefetch_related("summonses")[(page - 1) * PAGE_SIZE : page * PAGE_SIZE + 1])
    except DomainError as error:
        return render(request, "whistles/list.html", context | {"error": error}, status=error.status)
    now = timezone.now()
    query = request.GET.copy()
    query.pop("page", None)
    prefix = "?" + (query.urlencode() + "&" if query else "")
    return render(
        request,
        "whistles/list.html",
        context
        | {
            "rows": [(w, _tally(w, now)) for w in rows[:PAGE_SIZE]],
            "previous_url": f"{prefix}page={page - 1}" if page > 1 else "",
            "next_url": f"{prefix}page={page + 1}" if len(rows) > PAGE_SIZE else "",
        },
    )


def _tally(w: Whistle, now: datetime) -> dict:
    """How many summoned departments have reported in, and how many are late or missing."""
    statuses = [presenters.summons_status(s, now) for s in w.summonses.all()]
    return {
        "summoned": len(statuses),
        "reported": sum(s in ("on_time", "late") for s in statuses),
        "late": sum(s in ("late", "missing") for s in statuses),
    }


def _new_context(request, case, values) -> dict:
    regions = services.blowing_regions(request.user.pk)
    if case is not None:  # a case's whistle is blown by its own street or community
        regions = [r for r in (case.street, case.community) if services.blowing_role(request.user.pk, r)]
    return {
        "case": case,
        "values": values,
        "kinds": _limits(),
        "regions": regions,
        "departments": Department.objects.filter(active=True).order_by("kind", "code"),
        "chosen": values.getlist("departments") if hasattr(values, "getlist") else [],
    }


@login_required
def whistle_new(request):
    actor = actor_for(request)
    number = (request.POST.get("case") if request.method == "POST" else request.GET.get("case", "")) or ""
    case = None
    if number.strip():
        try:
            case = case_selectors.case_get(scope=actor.scope, number=number.strip())
        except OutOfScope as exc:
            audit_record_denial(request=request, object_type=exc.object_type, object_id=exc.object_id)
            raise Http404 from None
        except NotFound:
            raise Http404 from None
    values = request.POST if request.method == "POST" else {"idempotency_key": uuid.uuid4().hex}
    context = _new_context(request, case, values)
    if not context["regions"]:
        return _forbidden(request)
    if request.method == "POST":
        post = request.POST
        data = services.WhistleInput(
            kind=post.get("kind", ""),
            departments=[c for c in post.getlist("departments") if c],
            lead=post.get("lead", ""),
            region=post.get("region", ""),
            case=case.number if case else "",
            title=post.get("title", ""),
            description=post.get("description", ""),
            place=post.get("place", ""),
        )
        try:
            blown = services.whistle_blow(
                actor=actor,
                data=data,
                idempotency_key=post.get("idempotency_key", ""),
                submitted_by=submitter(request),
            )
        except DomainError as error:
            return render(request, "whistles/new.html", context | {"error": error}, status=error.status)
        text = (
            _("Whistle %(n)s was already blown from this form.")
            if blown.replayed
            else _("Whistle %(n)s blown.")
        )
        messages.success(request, text % {"n": blown.whistle.number})
        return see_other(reverse("whistle-detail", args=[blown.whistle.number]))
    return render(request, "whistles/new.html", context)


def _detail_context(request, whistle: Whistle) -> dict:
    scope = request_scope(request)
    detail = presenters.whistle_detail(whistle)
    own = _own_codes(scope)
    own_waiting = [s for s in detail["summonses"] if s["reported_at"] is None and s["department"] in own]
    blower = services.blowing_role(request.user.pk, whistle.region) is not None
    return {
        "whistle": whistle,
        "detail": detail,
        "may_report": whistle.is_open and scope.has_role(Role.DEPARTMENT_HANDLER) and bool(own_waiting),
        "own_waiting": own_waiting,
        "may_record": whistle.is_open and blower,
        "may_close": whistle.is_open and blower and whistle.case_id is None,
        "case_visible": whistle.case_id is not None
        and case_selectors.case_queryset(scope).filter(pk=whistle.case_id).exists(),
        "task_rows": range(TASK_ROWS),
        "now": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
    }


def _own_codes(scope) -> set[str]:
    return set(Department.objects.filter(pk__in=scope.department_ids).values_list("code", flat=True))


def _render_detail(request, whistle: Whistle, *, error: DomainError | None = None, posted=None, status=200):
    context = _detail_context(request, whistle) | {"error": error, "posted": posted or {}}
    return render(request, "whistles/detail.html", context, status=status)


@login_required
def whistle_detail(request, number: str):
    return _render_detail(request, _whistle_or_404(request, number))


def _acted(request, number: str, do, done: str):
    """Run one write from the detail page: on refusal show the page as it is with the reason."""
    _whistle_or_404(request, number)  # outside the scope: the 404 page, before anything is parsed
    try:
        do(actor_for(request))
    except NotFound:
        raise Http404 from None
    except DomainError as error:
        whistle = _whistle_or_404(request, number)
        return _render_detail(request, whistle, error=error, posted=request.POST, status=error.status)
    messages.success(request, done)
    return see_other(reverse("whistle-detail", args=[number]))


@login_required
@require_POST
def whistle_report_in(request, number: str):
    post = request.POST
    return _acted(
        request,
        number,
        lambda actor: services.summons_report_in(
            actor=actor,
            number=number,
            department=post.get("department", ""),
            attendees=post.get("attendees", ""),
            where=post.get("where", ""),
            lon=post.get("lon") or None,
            lat=post.get("lat") or None,
            crs=post.get("crs") or "wgs84",
            note=post.get("note", ""),
        ),
        _("Reported in."),
    )


def _held_at(value: str) -> datetime | None:
    if not value.strip():
        return None
    try:
        return datetime.fromisoformat(value.strip())
    except ValueError:
        raise DomainError("bad_time", _("Give the time as YYYY-MM-DD HH:MM.")) from None


@login_required
@require_POST
def whistle_meeting(request, number: str):
    post = request.POST
    tasks = [
        services.TaskInput(department=d, task=t, due=due)
        for d, t, due in zip(
            post.getlist("task_department"), post.getlist("task"), post.getlist("task_due"), strict=False
        )
        if d or t.strip() or due
    ]
    return _acted(
        request,
        number,
        lambda actor: services.meeting_record_add(
            actor=actor,
            number=number,
            held_at=_held_at(post.get("held_at", "")),
            place=post.get("place", ""),
            attendees=post.get("attendees", ""),
            agreed=post.get("agreed", ""),
            tasks=tasks,
        ),
        _("Meeting recorded."),
    )


@login_required
@require_POST
def whistle_close(request, number: str):
    return _acted(
        request,
        number,
        lambda actor: services.whistle_close(
            actor=actor, number=number, result=request.POST.get("result", "")
        ),
        _("Whistle closed."),
    )


@login_required
def whistle_figures(request):
    scope = request_scope(request)
    if not selectors.may_use(scope):
        return _forbidden(request)
    params = {k: request.GET.get(k, "").strip() for k in ("date_from", "date_to")}
    try:
        figures = selectors.whistle_figures(scope=scope, **{k: v or None for k, v in params.items()})
    except DomainError as error:
        return render(
            request, "whistles/figures.html", {"params": params, "error": error}, status=error.status
        )
    return render(
        request,
        "whistles/figures.html",
        {"params": params, "figures": figures, "kinds": WhistleKind.choices},
    )

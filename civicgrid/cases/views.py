"""Case pages for staff: the to-do lists, the list with filters and its Excel export, the case with
one form per move the reader may make, a new case, and the message centre.

Thin like the API: parse the form, call a service or selector, render. Every read goes through the
reader's scope in ``cases.selectors``; a case outside it answers 404 exactly like a missing one.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from civicgrid.accounts.models import Department, Role
from civicgrid.accounts.reveal import pii_reveal
from civicgrid.accounts.scopes import Scope, request_scope
from civicgrid.audit.services import audit_record_denial
from civicgrid.cases import presenters, selectors, services, workflow
from civicgrid.cases.api import COUNT_CAP, actor_for, submitter, uploads
from civicgrid.cases.clock import Limit
from civicgrid.cases.exports import cases_xlsx
from civicgrid.cases.models import (
    AttachmentPurpose,
    Case,
    CaseClass,
    CaseState,
    Channel,
    Level,
    Satisfaction,
    Urgency,
)
from civicgrid.cases.selectors import CaseFilter
from civicgrid.cases.workflow import Action
from civicgrid.errors import DomainError, NotFound, OutOfScope
from civicgrid.geo.crs import convert
from civicgrid.notifications.selectors import notification_list, notification_unread_count
from civicgrid.notifications.services import notification_mark_read
from civicgrid.responses import excel_response

PAGE_SIZE = 50
REVEALABLE = ("reporter_name", "reporter_phone")
# The API channel is for machines; a page offers only the channels a person takes reports by.
PAGE_CHANNELS = services.PAGE_CHANNELS
SUGGESTED_BY = {
    "rule": gettext_lazy("suggested by a dispatch rule"),
    "class": gettext_lazy("suggested as the class's department"),
    "locality": gettext_lazy("suggested by locality (the street office)"),
}


def see_other(url: str) -> HttpResponseRedirect:
    """303: after a POST the browser fetches the page again with GET (no resubmit on reload)."""
    return HttpResponseRedirect(url, status=303)


def is_case_staff(scope: Scope) -> bool:
    return bool(scope.roles - {Role.RESIDENT})


def clock_flag(case: Case, now: datetime) -> str:
    """ "overdue" past the stage deadline, "near" once the stage's warning time has come, else ""."""
    if presenters.is_overdue(case, now):
        return "overdue"
    warn = case.stage_warn_at
    if warn is not None and warn <= now and case.paused_at is None and case.is_open:
        return "near"
    return ""


def map_config(*, point: tuple[float, float] | None, grid: str = "", generation: int | None = None) -> dict:
    """What case-map.js needs. Points are stored in WGS-84; they are drawn in the tiles' CRS."""
    crs = settings.TILE_CRS if settings.TILE_URL else "wgs84"
    if point is not None:
        point = tuple(round(v, 7) for v in convert(point[0], point[1], source="wgs84", target=crs))
    data_url = reverse("map-data") + (f"?generation={generation}" if generation else "")
    return {
        "dataUrl": data_url,
        "locateUrl": "/api/v1/geo/locate",
        "tileUrl": settings.TILE_URL,
        "tileAttribution": settings.TILE_ATTRIBUTION,
        "crs": crs,
        "point": point,
        "grid": grid,
    }


def case_or_404(request, number: str) -> Case:
    """The case if the reader may see it; otherwise the site's 404 page (an out-of-scope try is audited)."""
    try:
        return selectors.case_get(scope=request_scope(request), number=number)
    except OutOfScope as exc:
        audit_record_denial(request=request, object_type=exc.object_type, object_id=exc.object_id)
        raise Http404 from None
    except NotFound:
        raise Http404 from None


def class_groups() -> list[tuple[CaseClass, list[CaseClass]]]:
    """Active 小类 under their 大类, for selects with option groups."""
    groups: dict[int, tuple[CaseClass, list[CaseClass]]] = {}
    for c in CaseClass.objects.filter(active=True).select_related("parent").order_by("code"):
        if c.parent_id is None:
            groups.setdefault(c.pk, (c, []))
        elif c.parent.active:
            groups.setdefault(c.parent_id, (c.parent, []))[1].append(c)
    return [g for g in groups.values() if g[1]]


def with_purpose_labels(attachments: list[dict]) -> list[dict]:
    labels = dict(AttachmentPurpose.choices)
    return [a | {"purpose_label": labels.get(a["purpose"], a["purpose"])} for a in attachments]


def parse_point(post) -> tuple[float | None, float | None, str]:
    """lon/lat/crs from a form's hidden inputs (filled by the map or the phone's position)."""
    crs = post.get("crs") or "wgs84"
    try:
        lon = float(post["lon"]) if post.get("lon") else None
        lat = float(post["lat"]) if post.get("lat") else None
    except ValueError:
        raise DomainError("bad_coordinates", _("Not a longitude/latitude pair.")) from None
    return lon, lat, crs


# --- to-do lists, the list, the export ------------------------------------------------------------


@login_required
def inbox(request):
    scope = request_scope(request)
    return render(
        request,
        "cases/inbox.html",
        {
            "buckets": selectors.inbox_counts(scope=scope),
            "unread": notification_unread_count(user=request.user),
            "is_staff": is_case_staff(scope),
        },
    )


def _filter_params(get) -> dict:
    states = [s for value in get.getlist("state") for s in value.split(",") if s]
    params = {k: get.get(k, "").strip() for k in ("case_class", "region", "channel", "department", "q")}
    params |= {k: get.get(k, "") for k in ("overdue", "date_from", "date_to")}
    return params | {"state": states}


def _list_query(request):
    scope = request_scope(request)
    bucket = request.GET.get("bucket", "")
    if bucket:
        return selectors.inbox_query(scope=scope, bucket=bucket)
    return selectors.case_list(scope=scope, filters=CaseFilter.from_params(_filter_params(request.GET)))


def _list_count(request, found) -> int:
    """``found`` (from ``_list_query``) counted up to ``COUNT_CAP + 1``."""
    if request.GET.get("bucket", ""):
        return found.order_by()[: COUNT_CAP + 1].count()
    filters = CaseFilter.from_params(_filter_params(request.GET))
    return selectors.case_count(scope=request_scope(request), filters=filters)


def _page_number(get) -> int:
    try:
        return max(1, int(get.get("page", "1")))
    except ValueError:
        return 1


@login_required
def case_list(request):
    scope = request_scope(request)
    params = _filter_params(request.GET)
    bucket = request.GET.get("bucket", "")
    context = {
        "params": params,
        "bucket": next((b for b in selectors.inbox_buckets(scope=scope) if b.key == bucket), None),
        "states": CaseState.choices,
        "channels": Channel.choices,
        "classes": class_groups(),
        "departments": Department.objects.filter(active=True).order_by("code"),
        "filtered": any(params.values()),
    }
    try:
        found = _list_query(request)
    except DomainError as error:
        return render(request, "cases/list.html", context | {"error": error}, status=error.status)
    page = _page_number(request.GET)
    offset = (page - 1) * PAGE_SIZE
    count = _list_count(request, found)
    rows = list(found[offset : offset + PAGE_SIZE + 1])
    now = timezone.now()
    query = request.GET.copy()
    query.pop("page", None)

    def page_url(n: int) -> str:
        return "?" + (query.urlencode() + "&" if query else "") + urlencode({"page": n})

    return render(
        request,
        "cases/list.html",
        context
        | {
            "rows": [(c, clock_flag(c, now)) for c in rows[:PAGE_SIZE]],
            "count": min(count, COUNT_CAP),
            "count_label": f"{COUNT_CAP:,}+" if count > COUNT_CAP else f"{count:,}",
            "page": page,
            "previous_url": page_url(page - 1) if page > 1 else "",
            "next_url": page_url(page + 1) if len(rows) > PAGE_SIZE else "",
            "export_url": reverse("case-export") + ("?" + query.urlencode() if query else ""),
        },
    )


@login_required
def case_export(request):
    return excel_response(cases_xlsx(_list_query(request)), "cases.xlsx")


# --- one case -----------------------------------------------------------------------------------


def _timeline(events: list[dict]) -> list[dict]:
    roles = dict(Role.choices)
    for e in events:
        clock = e["data"].get("clock") or {}
        deadline = clock.get("deadline")
        e["late"] = bool(e["data"].get("late"))
        e["deadline"] = datetime.fromisoformat(deadline) if deadline else None
        e["role_label"] = roles.get(e["actor_role"], e["actor_role"])
    return events


def _move_forms(case: Case, actor: workflow.Actor, posted: dict | None) -> list[dict]:
    """One form per move this person may make now (residents rate on the follow page, not here)."""
    moves = [m for m in workflow.available_moves(case, actor) if m.action != Action.RATE]
    forms = []
    for m in moves:
        form = {"move": m, "posted": posted if posted and posted.get("action") == m.action else {}}
        if m.action == Action.REGISTER:
            report = case.events.filter(seq=1).values_list("data", flat=True).first() or {}
            suggested = (report.get("suggested") or [""])[0]
            form["classes"] = class_groups()
            form["selected_class"] = case.case_class.code if case.case_class else suggested
        elif m.action == Action.DISPATCH:
            suggested, reason = selectors.dispatch_suggest(case)
            form["departments"] = Department.objects.filter(active=True).order_by("kind", "code")
            form["suggested"] = suggested
            form["suggested_by"] = SUGGESTED_BY.get(reason, "")
        forms.append(form)
    return forms


def detail_context(request, case: Case, *, posted: dict | None = None, revealed: dict | None = None) -> dict:
    actor = actor_for(request)
    detail = presenters.case_detail(case, actor)
    now = timezone.now()
    extension = case.pending_extension
    detail["attachments"] = with_purpose_labels(detail["attachments"])
    return {
        "case": case,
        "detail": detail,
        "events": _timeline(detail["events"]),
        "flag": clock_flag(case, now),
        "extension": Limit.from_dict(extension["limit"]).label(get_language() or "zh") if extension else "",
        "forms": _move_forms(case, actor, posted),
        "urgencies": Urgency.choices,
        "satisfactions": Satisfaction.choices,
        "is_staff": is_case_staff(actor.scope),
        "may_reveal": actor.scope.has_role(*settings.PII_REVEAL_ROLES),
        "revealed": revealed or {},
        "map": map_config(point=(case.lon, case.lat), grid=case.grid.code, generation=case.generation_id),
        "track_url": request.build_absolute_uri(reverse("track-case", args=[case.tracking_code])),
    }


def render_detail(request, case: Case, *, error: DomainError | None = None, status: int = 200, **extra):
    context = detail_context(request, case, **extra) | {"error": error}
    response = render(request, "cases/detail.html", context, status=status)
    response["Cache-Control"] = "no-store"  # may carry revealed personal data
    return response


@login_required
def case_detail(request, number: str):
    case = case_or_404(request, number)
    if not is_case_staff(request_scope(request)):
        # A resident who reported while signed in follows the case on the public page.
        return HttpResponseRedirect(reverse("track-case", args=[case.tracking_code]))
    return render_detail(request, case)


def move_data(post) -> dict:
    """What a move's form carries, under the names ``services.case_move`` reads."""
    data = {
        k: post.get(k, "").strip() for k in ("case_class", "urgency", "department", "limit", "satisfaction")
    }
    data["co_departments"] = [c for c in post.getlist("co_departments") if c]
    data["review_on"] = post.get("review_on", "")
    data["contacted"] = post.get("contacted") == "on"
    data["resolved"] = post.get("resolved") == "on"
    data["comment"] = post.get("comment", "")
    return data


@login_required
@require_POST
def case_move(request, number: str, action: str):
    if action == Action.MERGE:  # two cases at once: cases/merging.py
        from civicgrid.cases.duplicate_views import case_merge

        return case_merge(request, number)
    case_or_404(request, number)  # outside the scope: the 404 page, before anything is parsed
    move = workflow.MOVES.get(action)
    if move is None or action == Action.RATE:
        raise Http404
    posted = {"action": action, "note": request.POST.get("note", ""), **move_data(request.POST)}
    try:
        try:
            version = int(request.POST.get("version", ""))
        except ValueError:
            raise DomainError(
                "version_required", _("The form lacks the case version; reload the page.")
            ) from None
        purpose = AttachmentPurpose.AFTER if action == Action.FEEDBACK else AttachmentPurpose.PROGRESS
        services.case_move(
            actor=actor_for(request),
            number=number,
            action=action,
            version=version,
            note=posted["note"],
            data=move_data(request.POST),
            files=uploads(request.FILES.getlist("photos"), purpose),
        )
    except NotFound:
        raise Http404 from None
    except DomainError as error:
        # Nothing was written (one transaction); show the case as it is now, with the reason.
        return render_detail(
            request, case_or_404(request, number), error=error, status=error.status, posted=posted
        )
    messages.success(request, _("Done: %(move)s.") % {"move": move.label})
    if not selectors.case_queryset(request_scope(request)).filter(number=number).exists():
        return see_other(reverse("case-inbox"))  # e.g. returned by a department: no longer theirs
    return see_other(reverse("case-detail", args=[number]))


@login_required
@require_POST
def case_reveal(request, number: str):
    case = case_or_404(request, number)
    field = request.POST.get("field", "")
    try:
        if field not in REVEALABLE:
            raise DomainError("not_personal_data", _("Only the reporter's name and phone can be revealed."))
        value = pii_reveal(
            scope=request_scope(request),
            user=request.user,
            obj=case,
            field=field,
            reason=request.POST.get("reason", ""),
        )
    except DomainError as error:
        return render_detail(request, case, error=error, status=error.status)
    return render_detail(request, case, revealed={field: value})


# --- a new case --------------------------------------------------------------------------------


def case_input(request, *, channel: str) -> services.CaseInput:
    """A ``CaseInput`` from the new-case or the resident's form (fields and photos)."""
    post = request.POST
    lon, lat, crs = parse_point(post)
    files = [
        *uploads(request.FILES.getlist("photos"), AttachmentPurpose.REPORT),
        *uploads(request.FILES.getlist("before"), AttachmentPurpose.BEFORE),
        *uploads(request.FILES.getlist("after"), AttachmentPurpose.AFTER),
    ]
    return services.CaseInput(
        channel=channel,
        title=post.get("title", ""),
        description=post.get("description", ""),
        lon=lon,
        lat=lat,
        crs=crs,
        address=post.get("address", ""),
        case_class=post.get("case_class", "").strip(),
        urgency=post.get("urgency") or Urgency.NORMAL,
        level=post.get("level") or Level.STREET,
        reporter_name=post.get("reporter_name", ""),
        reporter_phone=post.get("reporter_phone", ""),
        self_resolve=post.get("self_resolve") == "on",
        note=post.get("note", ""),
        files=files,
    )


def _channels(scope: Scope) -> list[tuple[str, str]]:
    return [(c, Channel(c).label) for c in PAGE_CHANNELS if scope.has_role(*services.CHANNEL_ROLES[c])]


def _focus_codes(scope: Scope) -> list[str]:
    from civicgrid.regions.models import Region

    return list(
        Region.objects.filter(id__in=scope.anchors).order_by("code").values_list("code", flat=True)[:20]
    )


@login_required
def case_new(request):
    actor = actor_for(request)
    channels = _channels(actor.scope)
    values = request.POST if request.method == "POST" else {"idempotency_key": uuid.uuid4().hex}
    context = {
        "channels": channels,
        "classes": class_groups(),
        "urgencies": Urgency.choices,
        "levels": Level.choices,
        "values": values,
        "map": map_config(point=None) | {"focus": _focus_codes(actor.scope), "editable": True},
    }
    if not channels:
        return render(request, "cases/new.html", context, status=403)
    if request.method == "POST":
        channel = request.POST.get("channel", "")
        try:
            if channel not in dict(channels):
                raise DomainError(
                    "channel_forbidden", _("You may not take reports in by this channel."), status=403
                )
            created = services.case_create(
                actor=actor,
                data=case_input(request, channel=channel),
                idempotency_key=request.POST.get("idempotency_key", ""),
                submitted_by=submitter(request),
            )
        except DomainError as error:
            context |= {"error": error, "files_lost": bool(request.FILES)}
            return render(request, "cases/new.html", context, status=error.status)
        number = created.case.number
        if created.replayed:
            messages.info(request, _("Case %(n)s was already made from this form.") % {"n": number})
        else:
            messages.success(request, _("Case %(n)s has been reported.") % {"n": number})
        if not selectors.case_queryset(actor.scope).filter(number=number).exists():
            return see_other(reverse("case-inbox"))  # reported outside the reporter's own area
        return see_other(reverse("case-detail", args=[number]))
    return render(request, "cases/new.html", context)


# --- messages ----------------------------------------------------------------------------------


@login_required
def message_list(request):
    if request.method == "POST":
        marked = notification_mark_read(user=request.user)
        messages.success(request, _("%(n)d messages marked as read.") % {"n": marked})
        return see_other(reverse("messages"))
    page = _page_number(request.GET)
    rows = list(notification_list(user=request.user)[(page - 1) * PAGE_SIZE : page * PAGE_SIZE + 1])
    for n in rows:
        # Links are written by our services, but only a path on this site becomes a link.
        n.safe_link = n.link if n.link.startswith("/") and not n.link.startswith("//") else ""
    return render(
        request,
        "cases/messages.html",
        {
            "rows": rows[:PAGE_SIZE],
            "unread": notification_unread_count(user=request.user),
            "page": page,
            "previous_url": f"?page={page - 1}" if page > 1 else "",
            "next_url": f"?page={page + 1}" if len(rows) > PAGE_SIZE else "",
        },
    )

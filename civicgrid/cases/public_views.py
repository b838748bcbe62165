"""The resident's pages: report a problem, follow it by its tracking code, rate the result.

No login is needed. A resident holding the follow link is the case's reporter for the one move
that belongs to them (rating); the page shows what ``presenters.case_public`` allows and no more.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import replace

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from civicgrid.accounts.scopes import request_scope
from civicgrid.audit.services import client_ip
from civicgrid.cases import duplicate_views, merging, presenters, selectors, services
from civicgrid.cases.api import submitter
from civicgrid.cases.models import Case, Channel, Satisfaction
from civicgrid.cases.views import case_input, map_config, see_other, with_purpose_labels
from civicgrid.cases.workflow import Action, Actor
from civicgrid.errors import DomainError, NotFound
from civicgrid.regions import locator
from civicgrid.throttle import throttle_allows

# The session remembers the report just made, so its follow page can say "save this link" once.
JUST_REPORTED = "cases.just_reported"
_CODE = re.compile(r"^[A-Za-z0-9-]{4,24}$")


def report(request):
    values = request.POST if request.method == "POST" else {"idempotency_key": uuid.uuid4().hex}
    context = {
        "values": values,
        "map": map_config(point=None) | {"editable": True, "focus": []},
        "communities": _communities(),
    }
    if request.method != "POST":
        return render(request, "cases/report.html", context)
    if not _report_allowed(request):
        error = DomainError(
            "too_many_reports",
            _("Too many reports from this address; please try again later or call 12345."),
            status=429,
        )
        context |= {"error": error, "files_lost": bool(request.FILES)}
        return render(request, "cases/report.html", context, status=429)
    if not request.session.session_key:
        request.session.save()  # a replay is recognised by its session: it must have one
    try:
        if request.POST.get("follow"):
            return duplicate_views.report_follow(request, request.POST)
    except DomainError as error:
        context |= {"error": error, "files_lost": bool(request.FILES)}
        return render(request, "cases/report.html", context, status=error.status)
    if offered := duplicate_views.report_offer(request, request.POST):
        # "This may already be reported": follow one of these, or send the report anyway.
        context |= {"duplicates": offered, "files_lost": bool(request.FILES)}
        return render(request, "cases/report.html", context)
    user = request.user
    actor = (
        Actor(user_id=user.pk, scope=request_scope(request), name=str(user))
        if user.is_authenticated
        else Actor(user_id=None)
    )
    try:
        created = services.case_create(
            actor=actor,
            data=_placed_without_map(request, case_input(request, channel=Channel.RESIDENT)),
            idempotency_key=request.POST.get("idempotency_key", ""),
            submitted_by=submitter(request),
        )
    except DomainError as error:
        context |= {"error": error, "files_lost": bool(request.FILES)}
        return render(request, "cases/report.html", context, status=error.status)
    request.session[JUST_REPORTED] = created.case.tracking_code
    return see_other(reverse("track-case", args=[created.case.tracking_code]))


def _communities() -> list[dict]:
    try:
        return locator.communities()
    except DomainError:  # no active boundary generation yet: the map alone must do
        return []


def _placed_without_map(request, data: services.CaseInput) -> services.CaseInput:
    """Without JavaScript there is no map: the form then offers the community, and the case is
    placed inside it (the grid worker verifies every public report on site). The address is then
    required, so that the place can be found."""
    code = request.POST.get("community", "").strip()
    if data.lon is not None or not code:
        return data
    point = locator.community_point(code)
    if point is None:
        raise DomainError("unknown_community", _("Choose your community from the list."))
    if not data.address.strip():
        raise DomainError("address_required", _("Without the map, give the address or a landmark."))
    return replace(data, lon=point[0], lat=point[1], crs="wgs84")


def _report_allowed(request) -> bool:
    """Public reports per client address and window (settings.REPORT_RATE_LIMIT; 0: no limit)."""
    return throttle_allows(
        f"report:{client_ip(request) or 'unknown'}",
        limit=settings.REPORT_RATE_LIMIT,
        seconds=settings.REPORT_RATE_WINDOW_MINUTES * 60,
    )


def track(request):
    code = request.GET.get("code", "").strip()
    if not code:
        return render(request, "cases/track_form.html", {})
    error = None
    if merging.follower_by_code(code):
        return HttpResponseRedirect(reverse("track-case", args=[code.upper().replace("-", "")]))
    if _CODE.match(code):
        try:
            case = selectors.case_by_tracking_code(code)
        except NotFound as exc:
            error = exc
        else:
            return HttpResponseRedirect(reverse("track-case", args=[case.tracking_code]))
    else:
        error = DomainError("bad_tracking_code", _("A tracking code has ten letters and digits."))
    return render(request, "cases/track_form.html", {"error": error, "code": code}, status=error.status)


def _tracked(code: str) -> Case:
    try:
        return selectors.case_by_tracking_code(code)
    except NotFound:
        raise Http404 from None


def _render_track(request, case: Case, *, error: DomainError | None = None, status: int = 200, posted=None):
    public = presenters.case_public(case)
    public["attachments"] = with_purpose_labels(public["attachments"])
    just_reported = request.session.get(JUST_REPORTED) == case.tracking_code
    if just_reported:
        del request.session[JUST_REPORTED]
    response = render(
        request,
        "cases/track.html",
        {
            "case": public,
            "code": case.tracking_code,
            "version": case.version,
            "just_reported": just_reported,
            "track_url": request.build_absolute_uri(reverse("track-case", args=[case.tracking_code])),
            "satisfactions": Satisfaction.choices,
            "satisfaction_label": case.get_satisfaction_display(),
            "map": map_config(point=(case.lon, case.lat), grid=case.grid.code, generation=case.generation_id),
            "error": error,
            "posted": posted or {},
            "merged_into": merging.merged_into(case),
        },
        status=status,
    )
    # The address is the secret: keep it out of shared caches (SECURE_REFERRER_POLICY, same-origin,
    # keeps it out of other sites' Referer headers).
    response["Cache-Control"] = "private, no-store"
    return response


def track_case(request, code: str):
    if follower := merging.follower_by_code(code):  # a follow link, not the reporter's
        return duplicate_views.follow_page(request, follower)
    return _render_track(request, _tracked(code))


@require_POST
def track_rate(request, code: str):
    case = _tracked(code)
    user = request.user
    actor = Actor(user_id=user.pk if user.is_authenticated else None, tracking_case_id=case.pk)
    posted = {
        "satisfaction": request.POST.get("satisfaction", ""),
        "comment": request.POST.get("comment", ""),
    }
    try:
        try:
            version = int(request.POST.get("version", ""))
        except ValueError:
            raise DomainError(
                "version_required", _("The form lacks the case version; reload the page.")
            ) from None
        # The follow link is the resident's only key: the case is passed in, not looked up by scope.
        # A concurrent change is still refused (the write is conditional on the version).
        services.case_move(
            actor=actor, number=case.number, action=Action.RATE, version=version, data=posted, case=case
        )
    except DomainError as error:
        return _render_track(request, _tracked(code), error=error, status=error.status, posted=posted)
    messages.success(request, _("Thank you for rating how your report was dealt with."))
    return see_other(reverse("track-case", args=[case.tracking_code]))

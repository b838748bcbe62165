"""Pages for duplicates: the report page's "this may already be reported" step, the follower's
progress page, and the operator's merge. Thin: parse, call duplicates/merging, render.

The report and track views (public_views.py) and the move view (views.py) hand over to these
with one line each, so the duplicate rules live in one place.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from civicgrid.cases import duplicates, merging, presenters
from civicgrid.cases.api import actor_for
from civicgrid.cases.models import CaseFollower
from civicgrid.cases.views import case_or_404, parse_point, render_detail, see_other
from civicgrid.errors import DomainError, NotFound


def report_offer(request, values) -> list[dict]:
    """The candidates to offer before filing, or [] to go on. Asked once per report: not when the
    resident already saw them (the page's script showed them, or this step did), and not when the
    place came from the community list (its centre says nothing about what is near)."""
    if values.get("new_anyway") or values.get("duplicates_seen"):
        return []
    try:
        lon, lat, crs = parse_point(values)
        if lon is None:
            return []
        found = duplicates.intake_candidates(
            lon=lon,
            lat=lat,
            crs=crs,
            case_class=values.get("case_class", ""),
            text=values.get("description", "")[:2000],
        )
    except DomainError:
        return []  # the report itself will say what is wrong with the input
    return [d.public() for d in found]


def report_follow(request, values):
    """The resident chose to follow an existing case instead of filing: their follow page."""
    lon, lat, crs = parse_point(values)
    user = request.user
    follower = merging.case_follow(
        number=values.get("follow", ""),
        user_id=user.pk if user.is_authenticated else None,
        lon=lon,
        lat=lat,
        crs=crs,
        case_class=values.get("case_class", ""),
        text=values.get("description", "")[:2000],
    )
    request.session[FOLLOWED] = follower.code
    messages.success(
        request, _("You now follow %(number)s. Save this page's link.") % {"number": follower.case.number}
    )
    return see_other(reverse("track-case", args=[follower.code]))


FOLLOWED = "cases.just_followed"


def follow_page(request, follower: CaseFollower):
    """What a follower sees: the public progress, without photos (their links carry the
    reporter's tracking code) and without the reporter's moves."""
    public = presenters.case_public(follower.case)
    public.pop("attachments")
    public["can_rate"] = False
    just = request.session.get(FOLLOWED) == follower.code
    if just:
        del request.session[FOLLOWED]
    response = render(
        request,
        "cases/follow.html",
        {
            "case": public,
            "just_followed": just,
            "follow_url": request.build_absolute_uri(merging.follow_url(follower.code)),
            "merged_report": follower.linked_case_id is not None,
        },
    )
    response["Cache-Control"] = "private, no-store"  # the address is the secret
    return response


@require_POST
def case_merge(request, number: str):
    """Merge ``number`` into the posted master (the staff case page's duplicates panel)."""
    case_or_404(request, number)  # outside the scope: the 404 page, before anything is parsed
    post = request.POST
    try:
        try:
            version = int(post.get("version", ""))
        except ValueError:
            raise DomainError(
                "version_required", _("The form lacks the case version; reload the page.")
            ) from None
        master = merging.case_merge(
            actor=actor_for(request),
            number=number,
            master=post.get("master", ""),
            version=version,
            note=post.get("note", ""),
            cross_class=post.get("cross_class") == "on",
        )
    except NotFound:
        raise Http404 from None
    except DomainError as error:
        back = post.get("back", number)
        return render_detail(request, case_or_404(request, back), error=error, status=error.status)
    messages.success(
        request, _("%(number)s was merged into %(master)s.") % {"number": number, "master": master.number}
    )
    return see_other(reverse("case-detail", args=[master.number]))

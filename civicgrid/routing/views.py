"""Routing pages: "my tiers' cases" (/routing/, phone-first) and the tier moves' form posts from
a case page. Thin: parse, call a service, render; every read goes through the reader's scope."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from civicgrid.accounts.scopes import request_scope
from civicgrid.cases.api import actor_for
from civicgrid.cases.selectors import case_queryset
from civicgrid.cases.views import case_or_404, render_detail, see_other
from civicgrid.errors import DomainError, NotFound
from civicgrid.routing import presenters, rules, selectors, services
from civicgrid.routing.config import routing

PAGE_SIZE = 100


@login_required
def tier_list(request):
    actor = actor_for(request)
    tier = request.GET.get("tier", "")
    context = {"tiers": [t for t in routing().ladder if t.grassroots], "tier": tier, "now": timezone.now()}
    try:
        found = selectors.tier_case_list(scope=actor.scope, tier=tier)
    except DomainError as error:
        return render(request, "routing/list.html", context | {"error": error}, status=error.status)
    rows = [(case, presenters.routed(case, actor)) for case in found[:PAGE_SIZE]]
    return render(request, "routing/list.html", context | {"rows": rows, "count": found.count()})


@login_required
@require_POST
def tier_move(request, number: str, action: str):
    case_or_404(request, number)  # outside the scope: the 404 page, before anything is parsed
    if action not in rules.ACTIONS:
        raise Http404
    posted = {
        "action": action,
        "note": request.POST.get("reason", ""),
        "to_tier": request.POST.get("to_tier", ""),
    }
    try:
        try:
            version = int(request.POST.get("version", ""))
        except ValueError:
            raise DomainError(
                "version_required", _("The form lacks the case version; reload the page.")
            ) from None
        services.tier_move(
            actor=actor_for(request),
            number=number,
            action=action,
            version=version,
            reason=posted["note"],
            to_tier=posted["to_tier"],
        )
    except NotFound:
        raise Http404 from None
    except DomainError as error:
        # Nothing was written; show the case as it is now, with the reason.
        return render_detail(
            request, case_or_404(request, number), error=error, status=error.status, posted=posted
        )
    messages.success(request, _("Done: %(move)s.") % {"move": rules.label(action)})
    if not case_queryset(request_scope(request)).filter(number=number).exists():
        return see_other(reverse("routing-list"))  # e.g. escalated above the reader's tier
    return see_other(reverse("case-detail", args=[number]))

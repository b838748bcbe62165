"""``{% case_whistles case %}`` on the staff case page: the case's whistles the reader may see, and
the button to blow one where the reader may blow for the case's street or community."""

from __future__ import annotations

from django import template

from civicgrid.accounts.scopes import request_scope
from civicgrid.whistles import selectors, services

register = template.Library()


@register.inclusion_tag("whistles/_case_whistles.html", takes_context=True)
def case_whistles(context, case):
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"case": case, "whistles": [], "may_blow": False}
    scope = request_scope(request)
    whistles = list(selectors.whistle_queryset(scope).filter(case=case).order_by("-opened_at")[:10])
    may_blow = case.is_open and any(services.blowing_role(user.pk, r) for r in (case.street, case.community))
    return {"case": case, "whistles": whistles, "may_blow": may_blow}

"""``{% case_duplicates case %}``: the staff case page's duplicates panel, computed live so it
works for a case from any channel (hotline, Open311, sensors) — one line in detail.html."""

from __future__ import annotations

from django import template

from civicgrid.accounts.scopes import request_scope
from civicgrid.cases.duplicates import duplicates_of_case
from civicgrid.cases.models import Case, CaseFollower
from civicgrid.cases.workflow import MERGE_MOVES, Action

register = template.Library()


@register.inclusion_tag("cases/_duplicates_panel.html", takes_context=True)
def case_duplicates(context, case: Case) -> dict:
    request = context["request"]
    scope = request_scope(request)
    mergers = MERGE_MOVES[Action.MERGE].roles
    return {
        "request": request,
        "csrf_token": context.get("csrf_token"),
        "case": case,
        "candidates": duplicates_of_case(case, scope=scope),
        # The buttons only for those who may merge; the service checks again, case by case.
        "can_merge": case.is_open and case.master_id is None and any(scope.has_role(r) for r in mergers),
        "master": Case.objects.filter(pk=case.master_id).only("number", "title").first()
        if case.master_id
        else None,
        "linked": list(case.linked.only("number", "title").order_by("created_at")),
        "followers": CaseFollower.objects.filter(case=case).count(),
    }

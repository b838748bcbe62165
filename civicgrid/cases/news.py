"""Who hears of a move on a case: the people it now waits for, the reporter at closure, and the
followers of a master case (``merging.followers_notify``)."""

from __future__ import annotations

from django.utils.translation import gettext as _

from civicgrid.cases import selectors
from civicgrid.cases.models import Case, CaseEvent, CaseState
from civicgrid.cases.workflow import Action
from civicgrid.notifications.services import notify

# Who hears of a move, and with which message kind.
_NEWS = {
    Action.REPORT: "case.new",
    Action.VERIFY: "case.verified",
    Action.REGISTER: "case.registered",
    Action.DISPATCH: "case.dispatched",
    Action.RETURN: "case.returned",
    Action.FEEDBACK: "case.feedback",
    Action.CHECK_FAIL: "case.rework",
    Action.CHECK_PASS: "case.checked",
    Action.EXTEND_REQUEST: "case.extension",
    Action.SELF_RESOLVE: "case.checked",
}


def after_change(case: Case, event: CaseEvent) -> None:
    """Tell the people the case now waits for; tell the reporter when it is closed."""
    kind = _NEWS.get(event.action)
    link = f"/cases/{case.number}/"
    if kind:
        notify(
            user_ids=selectors.stage_owner_ids(case),
            kind=kind,
            case=case,
            link=link,
            title=_("%(number)s %(title)s: %(state)s")
            % {"number": case.number, "title": case.title, "state": CaseState(case.state).label},
            body=event.note,
        )
    if event.action == Action.CLOSE and case.reporter_id:
        notify(
            user_ids=[case.reporter_id],
            kind="case.closed",
            case=case,
            link=f"/track/{case.tracking_code}/",
            title=_("Your report %(number)s has been dealt with — please rate it.") % {"number": case.number},
        )
    from civicgrid.cases.merging import followers_notify  # merging builds on this module

    followers_notify(case, event)

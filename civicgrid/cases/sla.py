"""The case clock's notices: yellow warnings, overdue notices and suspension reviews.

Run by the Huey consumer (``cases.tasks``) and ``civicgrid cases sla-sweep``. Everything is read
from the database each time, so a restart loses nothing and a late run catches up.
"""

from __future__ import annotations

from datetime import date, datetime

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from civicgrid.accounts.models import Role, RoleAssignment
from civicgrid.cases import selectors
from civicgrid.cases.models import Case, CaseState
from civicgrid.notifications.services import notify


def sla_sweep(*, now: datetime | None = None) -> dict[str, int]:
    """Send each due warning and overdue notice once per stage. Runs every minute (Huey); reads the
    database only, so a restart loses nothing and a second worker sends nothing twice."""
    now = now or timezone.now()
    sent = {"warning": 0, "overdue": 0}
    open_states = list(selectors.STAGE_STATES)
    for kind, time_field, seq_field in (
        ("warning", "stage_warn_at", "warned_seq"),
        ("overdue", "stage_deadline", "overdue_seq"),
    ):
        due = Case.objects.filter(
            **{f"{time_field}__lte": now, f"{seq_field}__lt": F("stage_seq")},
            paused_at__isnull=True,
            state__in=open_states,
        ).select_related("department")
        for case in due.iterator(chunk_size=500):
            with transaction.atomic():
                # Claim the notice first: only one sweeper wins the conditional update.
                claimed = Case.objects.filter(
                    pk=case.pk, stage_seq=case.stage_seq, **{seq_field: getattr(case, seq_field)}
                )
                if not claimed.update(**{seq_field: case.stage_seq}):
                    continue
                message = (
                    _("%(number)s is overdue (%(stage)s).")
                    if kind == "overdue"
                    else _("%(number)s is close to its deadline (%(stage)s).")
                ) % {"number": case.number, "stage": case.get_stage_display()}
                notify(
                    user_ids=selectors.stage_owner_ids(case),
                    kind=f"case.{kind}",
                    case=case,
                    link=f"/cases/{case.number}/",
                    title=message,
                    body=case.title,
                )
                sent[kind] += 1
    return sent


def suspension_reviews(*, today: date | None = None) -> int:
    """Remind the shift leads of suspended cases (挂账) whose review date has come; once a day."""
    today = today or timezone.localdate()
    due = Case.objects.filter(state=CaseState.SUSPENDED, review_on__lte=today).select_related("department")
    count = 0
    for case in due.iterator(chunk_size=500):
        notify(
            user_ids=_shift_leads(case),
            kind="case.review",
            case=case,
            link=f"/cases/{case.number}/",
            title=_("%(number)s is suspended and due for review.") % {"number": case.number},
            body=case.title,
        )
        count += 1
    return count


def _shift_leads(case: Case) -> list[int]:
    return list(
        RoleAssignment.objects.filter(role=Role.SHIFT_LEAD, region_id=case.district_id).values_list(
            "user_id", flat=True
        )
    )

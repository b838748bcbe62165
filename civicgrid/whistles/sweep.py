"""The whistle's periodic work: flag departments that missed their report-in deadline (once), and
close the whistles whose case has been closed or voided.

Run every minute by Huey (``whistles.tasks``) and by ``civicgrid whistles sweep``. Everything is
read from the database each time, so a restart loses nothing, a late run catches up, and two
sweepers never send the same notice twice (each notice is claimed by a conditional update).
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from civicgrid.audit.services import audit_record
from civicgrid.cases.models import CaseState
from civicgrid.notifications.services import notify
from civicgrid.whistles.models import Summons, Whistle, WhistleState
from civicgrid.whistles.services import handler_ids


def late_sweep(*, now: datetime | None = None) -> int:
    """Mark every summons of an open whistle whose deadline passed without a report-in as late,
    and tell the blower and the department's handlers — once per summons."""
    now = now or timezone.now()
    due = Summons.objects.filter(
        reported_at__isnull=True,
        late_notified_at__isnull=True,
        deadline__lte=now,
        whistle__state=WhistleState.OPEN,
    ).select_related("whistle", "department")
    sent = 0
    for summons in due.iterator(chunk_size=500):
        with transaction.atomic():
            claimed = Summons.objects.filter(
                pk=summons.pk, reported_at__isnull=True, late_notified_at__isnull=True
            ).update(late=True, late_notified_at=now)
            if not claimed:
                continue  # reported in meanwhile, or another sweeper told them
            whistle = summons.whistle
            audit_record(
                action="whistle.late",
                object_type="whistles.whistle",
                object_id=whistle.number,
                detail={"department": summons.department.code, "deadline": summons.deadline},
            )
            notify(
                user_ids=[whistle.blown_by_id, *handler_ids([summons.department_id])],
                kind="whistle.late",
                case=whistle.case,
                link=f"/whistles/{whistle.number}/",
                title=_("%(d)s has not reported in to %(number)s by its deadline")
                % {"d": summons.department.name, "number": whistle.number},
                body=whistle.title,
            )
            sent += 1
    return sent


def close_sweep(*, now: datetime | None = None) -> int:
    """Close the open whistles whose case is closed or voided: the whistle closes with its case."""
    now = now or timezone.now()
    done = Whistle.objects.filter(
        state=WhistleState.OPEN, case__state__in=[CaseState.CLOSED, CaseState.VOIDED]
    ).select_related("case")
    closed = 0
    for whistle in done.iterator(chunk_size=500):
        case = whistle.case
        result = (
            _("Closed with case %(n)s.") if case.state == CaseState.CLOSED else _("Case %(n)s was voided.")
        ) % {"n": case.number}
        with transaction.atomic():
            # The case's own closing time (never before the whistle), not the sweep's.
            at = max(case.closed_at or case.updated_at or now, whistle.opened_at)
            if not Whistle.objects.filter(pk=whistle.pk, state=WhistleState.OPEN).update(
                state=WhistleState.CLOSED, closed_at=at, result=result
            ):
                continue
            audit_record(
                action="whistle.close",
                object_type="whistles.whistle",
                object_id=whistle.number,
                detail={"with_case": case.number, "case_state": case.state},
            )
            closed += 1
    return closed


def whistle_sweep(*, now: datetime | None = None) -> dict[str, int]:
    return {"closed": close_sweep(now=now), "late": late_sweep(now=now)}

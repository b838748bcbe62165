"""Reads for the hotline, each through the reader's scope.

Batches and the triage queue belong to the command centre: only the hotline roles (operators and
shift leads) see them at all. An order with a case is seen only by someone who may see its case
(``cases.selectors.case_queryset``); an order still waiting for a place has no territory yet and
is seen by every hotline role.
"""

from __future__ import annotations

from datetime import date, datetime, time

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from civicgrid.accounts.scopes import Scope
from civicgrid.cases.selectors import case_queryset
from civicgrid.errors import DomainError, NotFound
from civicgrid.hotline.importer import hotline_role
from civicgrid.hotline.models import HotlineBatch, HotlineBatchLine, HotlineOrder, OrderState

LIST_MAX = 200


def may_use_hotline(scope: Scope) -> bool:
    return hotline_role(scope) is not None


def _check(scope: Scope) -> None:
    if not may_use_hotline(scope):
        raise DomainError(
            "hotline_forbidden", _("Only operators and shift leads handle hotline orders."), status=403
        )


def batch_list(*, scope: Scope) -> QuerySet[HotlineBatch]:
    _check(scope)
    return HotlineBatch.objects.select_related("created_by").order_by("-created_at", "-id")


def batch_get(*, scope: Scope, batch_id: int) -> HotlineBatch:
    _check(scope)
    found = HotlineBatch.objects.select_related("created_by", "duplicate_of").filter(pk=batch_id).first()
    if found is None:
        raise NotFound("batch_not_found", _("There is no batch #%(id)s.") % {"id": batch_id})
    return found


def batch_lines(*, scope: Scope, batch: HotlineBatch, outcome: str = "") -> QuerySet[HotlineBatchLine]:
    _check(scope)
    lines = HotlineBatchLine.objects.filter(batch=batch).order_by("row")
    return lines.filter(outcome=outcome) if outcome else lines


def _order_scope_q(scope: Scope) -> Q:
    if scope.everything:
        return Q()
    return Q(case__isnull=True) | Q(case_id__in=case_queryset(scope).values("pk"))


def order_queryset(*, scope: Scope) -> QuerySet[HotlineOrder]:
    _check(scope)
    return HotlineOrder.objects.filter(_order_scope_q(scope))


def order_get(*, scope: Scope, order_id: int, for_update: bool = False) -> HotlineOrder:
    query = order_queryset(scope=scope).filter(pk=order_id)
    found = (query.select_for_update(of=("self",)) if for_update else query.select_related("case")).first()
    if found is None:
        raise NotFound("order_not_found", _("There is no such hotline order."))
    return found


def triage_list(*, scope: Scope) -> QuerySet[HotlineOrder]:
    """Orders waiting for a place, oldest first (the hotline's clock runs from receipt)."""
    return order_queryset(scope=scope).filter(state=OrderState.TRIAGED).order_by("received_at", "id")


def _day_start(value: date | None, *, after: bool = False) -> datetime | None:
    if value is None:
        return None
    moment = timezone.make_aware(datetime.combine(value, time.min), timezone.get_default_timezone())
    return moment + timezone.timedelta(days=1) if after else moment


def export_query(
    *,
    scope: Scope,
    batch: HotlineBatch | None = None,
    received_from: date | None = None,
    received_to: date | None = None,
) -> QuerySet[HotlineOrder]:
    """The orders of a batch (every row of it that became an order), or received within the days
    ``received_from`` … ``received_to`` (inclusive, Beijing time)."""
    query = order_queryset(scope=scope)
    if batch is not None:
        numbers = (
            HotlineBatchLine.objects.filter(batch=batch).exclude(outcome="rejected").values("external_number")
        )
        query = query.filter(external_number__in=numbers)
    if received_from is not None:
        query = query.filter(received_at__gte=_day_start(received_from))
    if received_to is not None:
        query = query.filter(received_at__lt=_day_start(received_to, after=True))
    if batch is None and received_from is None and received_to is None:
        raise DomainError("export_needs_filter", _("Choose a batch or a date range to export."))
    return query.select_related("case", "case__department").order_by("received_at", "id")

"""Reads of the registry, always through the reader's scope: a device belongs to the grid it
stands in, so a street operator sees their street's devices and a grid worker their grids'."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext as _

from civicgrid.accounts.scopes import Scope, region_q
from civicgrid.devices.models import Alarm, AlarmType, Device
from civicgrid.errors import NotFound, OutOfScope


def device_list(*, scope: Scope, kind: str = "", active: str = "", q: str = "") -> QuerySet[Device]:
    if not scope.everything and not scope.region_ids:
        return Device.objects.none()
    rows = Device.objects.filter(region_q(scope, "grid")).select_related("grid")
    if kind:
        rows = rows.filter(kind=kind)
    if active in ("1", "0"):
        rows = rows.filter(active=active == "1")
    if q:
        q = q.strip()[:64]
        rows = rows.filter(Q(external_id__icontains=q) | Q(name__icontains=q) | Q(address__icontains=q))
    return rows.order_by("external_id")


def device_get(*, scope: Scope, external_id: str) -> Device:
    """The device if ``scope`` reaches its grid; outside it, the same 404 as a missing one."""
    device = Device.objects.select_related("grid", "district").filter(external_id=external_id).first()
    if device is None:
        raise NotFound("device_not_found", _("There is no such device."))
    if not (scope.everything or scope.covers_region(device.grid_id)):
        raise OutOfScope(
            "device_not_found",
            _("There is no such device."),
            object_type="devices.device",
            object_id=external_id,
        )
    return device


def alarm_list(*, scope: Scope, device: Device, limit: int = 100) -> list[Alarm]:
    """The device's latest alarms (the device was fetched through ``scope`` already)."""
    device_get(scope=scope, external_id=device.external_id)
    return list(
        Alarm.objects.filter(device=device)
        .select_related("alarm_type", "case")
        .order_by("-received_at", "-id")[:limit]
    )


def alarm_counts(*, device: Device) -> dict[str, int]:
    """How many alarms the device sent, by outcome."""
    rows = Alarm.objects.filter(device=device).values("outcome").annotate(n=Count("id")).order_by()
    return {row["outcome"]: row["n"] for row in rows}


def alarm_type_list() -> QuerySet[AlarmType]:
    """Alarm types are configuration, the same for every reader (no personal or area data)."""
    return AlarmType.objects.select_related("case_class").order_by("code")

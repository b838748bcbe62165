"""/api/v1/devices: the registry and each device's recent alarms, read-only and scope-filtered.

Devices post their alarms to /devices/alarms (a plain view, signed by the device), not here.
Reading takes a session or a token with ``cases:read``: what devices report becomes cases.
"""

from __future__ import annotations

from datetime import datetime

from ninja import Query, Router, Schema
from ninja.security import django_auth

from civicgrid.accounts.scopes import request_scope
from civicgrid.accounts.tokens import TokenAuth
from civicgrid.devices import selectors

router = Router(tags=["devices"])
READ = [TokenAuth("cases:read"), django_auth]  # token first: see cases/api.py
LIST_MAX = 200


class DeviceOut(Schema):
    external_id: str
    kind: str
    name: str
    lon: float
    lat: float
    address: str
    grid: str
    active: bool
    last_seen: datetime | None


class AlarmOut(Schema):
    id: int
    received_at: datetime
    external_id: str
    type: str
    occurred_at: datetime | None
    outcome: str
    reason: str
    status: int
    case: str | None


class DeviceDetailOut(DeviceOut):
    alarms: list[AlarmOut]


class DeviceFilter(Schema):
    kind: str = ""
    active: str = ""
    q: str = ""


class AlarmTypeOut(Schema):
    code: str
    name: str
    case_class: str
    urgency: str
    fold_minutes: int
    note_minutes: int
    active: bool


def _device(d) -> dict:
    return {
        "external_id": d.external_id,
        "kind": d.kind,
        "name": d.name,
        "lon": d.lon,
        "lat": d.lat,
        "address": d.address,
        "grid": d.grid.code,
        "active": d.active,
        "last_seen": d.last_seen,
    }


@router.get("/", response=list[DeviceOut], auth=READ, summary="Devices in the reader's scope")
def device_list(request, filters: Query[DeviceFilter]):
    rows = selectors.device_list(scope=request_scope(request), **filters.dict())
    return [_device(d) for d in rows[:LIST_MAX]]


@router.get("/types", response=list[AlarmTypeOut], auth=READ, summary="Alarm types and their 小类")
def alarm_types(request):
    return [
        {
            "code": t.code,
            "name": t.name,
            "case_class": t.case_class.code,
            "urgency": t.urgency,
            "fold_minutes": t.fold_minutes,
            "note_minutes": t.note_minutes,
            "active": t.active,
        }
        for t in selectors.alarm_type_list()
    ]


@router.get("/{external_id}", response=DeviceDetailOut, auth=READ, summary="A device and its recent alarms")
def device_detail(request, external_id: str):
    scope = request_scope(request)
    device = selectors.device_get(scope=scope, external_id=external_id)
    alarms = [
        {
            "id": a.pk,
            "received_at": a.received_at,
            "external_id": a.external_id,
            "type": a.type_code,
            "occurred_at": a.occurred_at,
            "outcome": a.outcome,
            "reason": a.reason,
            "status": a.status,
            "case": a.case.number if a.case else None,
        }
        for a in selectors.alarm_list(scope=scope, device=device)
    ]
    return {**_device(device), "alarms": alarms}

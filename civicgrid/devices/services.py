"""Writes to the device registry: register, change, rotate the secret; the alarm types; and the
service account under which alarms become cases. Every change is audited; secrets never are."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from civicgrid.accounts.models import Role, RoleAssignment, User
from civicgrid.accounts.scopes import Scope, scope_for
from civicgrid.audit.services import audit_record
from civicgrid.cases.models import CaseClass, Urgency
from civicgrid.cases.workflow import Actor
from civicgrid.devices import signing
from civicgrid.devices.models import DEVICE_ID_PATTERN, AlarmType, Device, DeviceKind
from civicgrid.errors import DomainError
from civicgrid.regions.models import Region
from civicgrid.regions.selectors import grid_locate

# Who keeps the registry, over the part of the district their role covers. System administrators
# work in the back office (Django admin) instead, where the territory does not apply.
MANAGER_ROLES = (Role.OPERATOR, Role.SHIFT_LEAD, Role.STREET_OPERATOR)
NAME_MAX, ADDRESS_MAX = 100, 200

# The account alarms are taken in under. It holds the command-centre operator role (the sensor
# channel needs it, cases.services.CHANNEL_ROLES) over each district a device stands in, and has
# no usable password, so nobody can log in as it.
SERVICE_USERNAME = "system-devices"


def may_manage(scope: Scope) -> bool:
    return scope.has_role(*MANAGER_ROLES)


@dataclass
class DeviceInput:
    external_id: str
    kind: str
    name: str
    lon: float | None
    lat: float | None
    address: str = ""
    crs: str = "wgs84"
    active: bool = True


def device_fields(data: DeviceInput) -> tuple[dict, dict]:
    """The device's fields from checked input, and its place as located."""
    external_id = (data.external_id or "").strip()
    if not re.match(DEVICE_ID_PATTERN, external_id):
        raise DomainError(
            "bad_device_id",
            _("A device id is 1–64 letters, digits or . _ : - and starts with a letter or digit."),
            {"field": "external_id"},
        )
    if data.kind not in DeviceKind.values:
        raise DomainError("unknown_device_kind", _("Unknown device kind %(k)s.") % {"k": data.kind})
    name = (data.name or "").strip()
    if not name or len(name) > NAME_MAX:
        raise DomainError(
            "bad_name", _("Give the device a name of at most %(n)d characters.") % {"n": NAME_MAX}
        )
    address = (data.address or "").strip()
    if len(address) > ADDRESS_MAX:
        raise DomainError("text_too_long", _("The address is too long."), {"field": "address"})
    if data.lon is None or data.lat is None:
        raise DomainError("location_required", _("Give the place (longitude and latitude)."))
    place = grid_locate(lon=data.lon, lat=data.lat, crs=data.crs)
    codes = {place[level]["code"]: level for level in ("grid", "district")}
    ids = {codes[code]: pk for code, pk in Region.objects.filter(code__in=codes).values_list("code", "id")}
    fields = {
        "external_id": external_id,
        "kind": data.kind,
        "name": name,
        "address": address,
        "lon": place["wgs84"]["lon"],
        "lat": place["wgs84"]["lat"],
        "grid_id": ids["grid"],
        "district_id": ids["district"],
        "active": bool(data.active),
    }
    return fields, place


def _check_scope(scope: Scope, grid_id: int) -> None:
    if not may_manage(scope):
        raise DomainError("forbidden", _("You may not manage devices."), status=403)
    if not (scope.everything or scope.covers_region(grid_id)):
        raise DomainError("outside_scope", _("This place lies outside the area you look after."), status=403)


def device_register(*, scope: Scope, by: User | None, data: DeviceInput) -> tuple[Device, str]:
    """Register a device; returns it and its new secret (the only time the plaintext is shown)."""
    fields, place = device_fields(data)
    _check_scope(scope, fields["grid_id"])
    secret = signing.new_secret()
    with transaction.atomic():
        if Device.objects.filter(external_id=fields["external_id"]).exists():
            raise DomainError(
                "device_exists",
                _("A device with id %(id)s is registered already.") % {"id": fields["external_id"]},
                status=409,
            )
        device = Device.objects.create(secret=secret, secret_set_at=timezone.now(), **fields)
        audit_record(
            action="devices.register",
            actor=by,
            object_type="devices.device",
            object_id=device.external_id,
            detail={"kind": device.kind, "grid": place["grid"]["code"]},
        )
    return device, secret


def device_update(*, scope: Scope, by: User | None, device: Device, data: DeviceInput) -> Device:
    """Change a device's name, kind, place or whether it is active (its id stays)."""
    data.external_id = device.external_id
    fields, place = device_fields(data)
    _check_scope(scope, device.grid_id)  # who looks after it now …
    _check_scope(scope, fields["grid_id"])  # … may move it only inside their own area
    with transaction.atomic():
        locked = Device.objects.select_for_update().get(pk=device.pk)
        changed = sorted(k for k, v in fields.items() if getattr(locked, k) != v)
        for key in changed:
            setattr(locked, key, fields[key])
        if changed:
            locked.save()
            audit_record(
                action="devices.change",
                actor=by,
                object_type="devices.device",
                object_id=locked.external_id,
                detail={"fields": changed, "grid": place["grid"]["code"]},
            )
    return locked


def device_rotate_secret(*, scope: Scope | None, by: User | None, device: Device) -> str:
    """A new secret for the device; the old one stops working at once. Returns the plaintext.
    ``scope`` None: the back office, whose own permission check (Django admin) already ran."""
    if scope is not None:
        _check_scope(scope, device.grid_id)
    secret = signing.new_secret()
    with transaction.atomic():
        Device.objects.select_for_update().filter(pk=device.pk).get()
        device.secret = secret
        device.secret_set_at = timezone.now()
        device.save(update_fields=["secret", "secret_set_at", "updated_at"])
        audit_record(
            action="devices.rotate_secret",
            actor=by,
            object_type="devices.device",
            object_id=device.external_id,
        )
    return secret


def intake_actor(district_id: int) -> Actor:
    """The service account as an actor over ``district_id`` (made on first use)."""
    user, created = User.objects.get_or_create(
        username=SERVICE_USERNAME, defaults={"display_name": _("Cameras and sensors")}
    )
    if created or user.has_usable_password() or user.is_staff or user.is_superuser:
        # Someone gave it a password or back-office rights: take them away again.
        user.set_unusable_password()
        user.is_staff = user.is_superuser = False
        user.save(update_fields=["password", "is_staff", "is_superuser"])
    RoleAssignment.objects.get_or_create(
        user=user,
        role=Role.OPERATOR,
        region_id=district_id,
        valid_until=None,
        defaults={"valid_from": date(2000, 1, 1)},
    )
    return Actor(user_id=user.pk, scope=scope_for(user), name=str(user))


# Alarm types a fresh installation starts with: (code, name, 小类 of the default taxonomy, urgency).
DEFAULT_TYPES = [
    ("smoke", "烟雾报警", "E0404", Urgency.URGENT),
    ("fire", "明火识别", "E0404", Urgency.URGENT),
    ("gas_leak", "燃气泄漏", "E0405", Urgency.URGENT),
    ("water_level", "积水超警戒水位", "E0403", Urgency.URGENT),
    ("manhole_open", "井盖移位或缺失", "P0106", Urgency.URGENT),
    ("illegal_parking", "机动车违停", "E0506", Urgency.NORMAL),
    ("street_vending", "占道经营", "E0502", Urgency.NORMAL),
    ("garbage_overflow", "垃圾满溢", "E0107", Urgency.NORMAL),
    ("fire_lane_blocked", "消防通道堵塞", "G0601", Urgency.URGENT),
    ("ebike_indoor", "电动车进楼入户", "G0602", Urgency.URGENT),
    ("open_burning", "露天焚烧", "G0703", Urgency.NORMAL),
]


def alarm_types_load_default(*, by: User | None = None) -> list[AlarmType]:
    """Add the default alarm types whose 小类 exists; types already there are left as they are."""
    classes = {c.code: c for c in CaseClass.objects.filter(code__in=[t[2] for t in DEFAULT_TYPES])}
    made = []
    with transaction.atomic():
        for code, name, class_code, urgency in DEFAULT_TYPES:
            if class_code not in classes or AlarmType.objects.filter(code=code).exists():
                continue
            made.append(
                AlarmType.objects.create(
                    code=code, name=name, case_class=classes[class_code], urgency=urgency
                )
            )
        if made:
            audit_record(
                action="devices.types_load",
                actor=by,
                object_type="devices.alarmtype",
                object_id="default",
                detail={"codes": [t.code for t in made]},
            )
    return made

"""The demo's cameras and sensors: 36 devices spread over the Xuanwu grids, all sharing the
documented demo secret (docs/devices.md), and one short burst of signed alarms so the registry,
a sensor case and its folded alarms can be seen at once. Idempotent: a second run changes nothing.

Called by the demo loader after the year of cases (nothing in the product imports this module).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable

from django.db import transaction
from django.utils import timezone
from shapely.geometry import shape

from civicgrid.devices import intake, signing
from civicgrid.devices.models import Device, DeviceKind
from civicgrid.devices.services import DeviceInput, alarm_types_load_default, device_fields
from civicgrid.regions.models import Boundary, GenerationState, Level

# Demo databases only: every demo device signs with this secret.
DEMO_SECRET = "xuanwu-demo-device-secret"
DEVICE_COUNT = 36
PREFIXES = {
    DeviceKind.CAMERA: ("CAM", "摄像头"),
    DeviceKind.SMOKE: ("SMK", "烟感"),
    DeviceKind.WATER_LEVEL: ("WTR", "水位计"),
    DeviceKind.MANHOLE: ("MHC", "井盖传感器"),
    DeviceKind.GAS: ("GAS", "燃气探测器"),
}
# Half of the demo devices are cameras, as in a 雪亮工程 rollout; the rest a mix of sensors.
KIND_CYCLE = [DeviceKind.CAMERA, DeviceKind.SMOKE, DeviceKind.CAMERA, DeviceKind.WATER_LEVEL,
              DeviceKind.CAMERA, DeviceKind.MANHOLE, DeviceKind.CAMERA, DeviceKind.GAS]  # fmt: skip
BURST = ("XW-CAM-001", "illegal_parking", 5)  # device, type, alarms


def seed(progress: Callable[[str], None] = print) -> None:
    alarm_types_load_default()
    if Device.objects.filter(external_id__startswith="XW-").exists():
        return
    progress(f"registering {DEVICE_COUNT} demo cameras and sensors …")
    grids = list(
        Boundary.objects.filter(generation__state=GenerationState.ACTIVE, region__level=Level.GRID)
        .select_related("region")
        .order_by("region__code")
    )
    if not grids:
        return
    step = max(len(grids) // DEVICE_COUNT, 1)
    counters: dict[str, int] = {}
    with transaction.atomic():
        for i, boundary in enumerate(grids[::step][:DEVICE_COUNT]):
            kind = KIND_CYCLE[i % len(KIND_CYCLE)]
            prefix, label = PREFIXES[kind]
            counters[prefix] = counters.get(prefix, 0) + 1
            point = shape(boundary.geojson()).representative_point()
            fields, _place = device_fields(
                DeviceInput(
                    external_id=f"XW-{prefix}-{counters[prefix]:03d}",
                    kind=kind,
                    name=f"{boundary.region.name}{label}",
                    lon=point.x,
                    lat=point.y,
                    address=f"{boundary.region.name}",
                )
            )
            Device.objects.create(secret=DEMO_SECRET, secret_set_at=timezone.now(), **fields)
    _burst(progress)


def _burst(progress: Callable[[str], None]) -> None:
    """A parked car seen again and again: one case, the rest folded into it (through the webhook's
    own code path, signed with the demo secret)."""
    device_id, code, count = BURST
    progress(f"firing {count} signed demo alarms from {device_id} …")
    for n in range(count):
        body = json.dumps({"alarm_id": f"demo-{n + 1:04d}", "type": code, "time": int(time.time())}).encode()
        stamp = str(int(time.time()))
        try:
            intake.alarm_receive(
                intake.Request(
                    device_id=device_id,
                    timestamp=stamp,
                    signature=signing.sign(DEMO_SECRET, stamp, body),
                    body=body,
                )
            )
        except intake.Refused as exc:  # e.g. the taxonomy has no 小类 for the type
            progress(f"demo alarm refused: {exc.code}")
            return

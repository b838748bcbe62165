"""Benchmark — the signed alarm webhook ``POST /devices/alarms`` (``civicgrid.devices.intake``).

What it costs to take an alarm in, in one process on SQLite (a temporary file), through Django's
test client (the full middleware stack, no network):

- **created**: the first alarm of a matter, from each of BENCH_ALARM_DEVICES (default 200) devices:
  signature check, body check, device lock, ``case_create``;
- **folded**: a burst, BENCH_ALARM_BURST (default 1,000) alarms spread over 10 devices, each
  joining its device's open case (no timeline note: they all fall inside ``note_minutes``);
- **refused**: as many alarms with a bad signature (an Alarm row and an audit record each).

Baseline in the same run: ``cases.services.case_create`` called directly with the same input as
a created alarm's case (what any intake channel pays). The ratio says what the webhook adds on
top for a new matter, and how much cheaper a folded alarm is than a case.

Run alone: ``.venv/bin/python bench/bench_devices_alarms.py``.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as c

NAME = "devices_alarms"
DEVICES = int(os.environ.get("BENCH_ALARM_DEVICES", "200"))
BURST = int(os.environ.get("BENCH_ALARM_BURST", "1000"))
SECRET = "bench-device-secret"


def _setup() -> list:
    from django.core.management import call_command
    from django.utils import timezone
    from shapely.geometry import shape

    from civicgrid.demo import loader
    from civicgrid.devices.models import Device
    from civicgrid.devices.services import DeviceInput, alarm_types_load_default, device_fields
    from civicgrid.regions.models import Boundary, GenerationState, Level

    call_command("migrate", verbosity=0)
    loader.demo_load(people=True, cases=0, progress=lambda line: None)
    alarm_types_load_default()
    grids = list(
        Boundary.objects.filter(generation__state=GenerationState.ACTIVE, region__level=Level.GRID)
        .select_related("region")
        .order_by("region__code")
    )
    devices = []
    for i in range(DEVICES + 10):
        point = shape(grids[i % len(grids)].geojson()).representative_point()
        fields, _place = device_fields(
            DeviceInput(external_id=f"B-{i:05d}", kind="camera", name=f"bench {i}", lon=point.x, lat=point.y)
        )
        devices.append(Device.objects.create(secret=SECRET, secret_set_at=timezone.now(), **fields))
    return devices


def _post(client, device_id: str, alarm_id: str, *, good: bool = True) -> int:
    from civicgrid.devices import signing

    stamp = str(int(time.time()))
    body = json.dumps({"alarm_id": alarm_id, "type": "illegal_parking", "time": int(stamp)}).encode()
    signature = signing.sign(SECRET, stamp, body) if good else "0" * 64
    response = client.post(
        "/devices/alarms",
        data=body,
        content_type="application/json",
        headers={"X-Device-Id": device_id, "X-Timestamp": stamp, "X-Signature": signature},
    )
    return response.status_code


def _timed(calls) -> tuple[list[int], list[int]]:
    times, statuses = [], []
    for call in calls:
        start = time.perf_counter_ns()
        statuses.append(call())
        times.append(time.perf_counter_ns() - start)
    return times, statuses


def run() -> dict:
    c.django_setup()
    from django.conf import settings
    from django.test import Client

    from civicgrid.cases.models import Case, Channel
    from civicgrid.cases.services import CaseInput, case_create
    from civicgrid.devices.models import Alarm
    from civicgrid.devices.services import intake_actor

    settings.DEVICES_REFUSALS_PER_MINUTE = 0  # the refused run would otherwise be throttled (429)
    devices = _setup()
    client = Client()
    actor = intake_actor(devices[0].district_id)
    base_times, _ = _timed(
        (
            lambda d=d, i=i: (
                case_create(
                    actor=actor,
                    data=CaseInput(
                        channel=Channel.SENSOR,
                        title="机动车违停 · bench",
                        description="bench",
                        lon=d.lon,
                        lat=d.lat,
                        case_class="E0506",
                    ),
                    idempotency_key=f"bench-baseline-{i:06d}",
                    submitted_by="bench",
                )
                and 201
            )
        )
        for i, d in enumerate(devices[:DEVICES])
    )
    created, created_status = _timed(
        (lambda d=d: _post(client, d.external_id, "first")) for d in devices[:DEVICES]
    )
    burst_devices = devices[DEVICES:]
    for d in burst_devices:  # each burst device's case exists before the burst is timed
        _post(client, d.external_id, "start")
    folded, folded_status = _timed(
        (lambda n=n: _post(client, burst_devices[n % 10].external_id, f"burst-{n}")) for n in range(BURST)
    )
    refused, refused_status = _timed(
        (lambda n=n: _post(client, burst_devices[n % 10].external_id, f"bad-{n}", good=False))
        for n in range(BURST)
    )
    checks = {
        "created_all_201": created_status.count(201) == DEVICES,
        "folded_all_200": folded_status.count(200) == BURST,
        "refused_all_401": refused_status.count(401) == BURST,
        "sensor_cases": Case.objects.filter(channel=Channel.SENSOR).count() - DEVICES,
        "expected_sensor_cases": DEVICES + 10,
        "refusal_rows": Alarm.objects.filter(outcome="refused").count(),
    }
    result = {
        "baseline_case_create": c.percentiles_s(base_times),
        "created": c.percentiles_s(created),
        "folded": c.percentiles_s(folded),
        "refused": c.percentiles_s(refused),
        "checks": checks,
    }
    _print(result)
    return result


def _print(result: dict) -> None:
    c.heading(
        f"Signed alarm webhook, SQLite, in-process ({DEVICES} new matters, {BURST} folded, {BURST} refused)"
    )
    base = result["baseline_case_create"]
    rows = []
    for key, label in [
        ("baseline_case_create", "baseline: case_create directly"),
        ("created", "alarm → new case"),
        ("folded", "alarm folded into open case"),
        ("refused", "alarm refused (bad signature)"),
    ]:
        r = result[key]
        rows.append(
            [
                label,
                c.fmt_int(1 / r["mean"]) + "/s",
                c.fmt_dur(r["p50"]),
                c.fmt_dur(r["p95"]),
                c.fmt_ratio(c.ratio(base["mean"], r["mean"])),
            ]
        )
    print(c.table(["", "rate", "p50", "p95", "vs baseline"], rows))
    c.note(f"checks: {result['checks']}")


if __name__ == "__main__":
    c.standalone(NAME, run)

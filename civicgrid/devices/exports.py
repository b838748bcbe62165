"""The registry in and out of Excel for offices. The export is audited (a bulk read) and never
carries a secret; the import checks every row and writes only when all are good."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from civicgrid.audit.services import audit_record
from civicgrid.devices import signing
from civicgrid.devices.models import Device, DeviceKind
from civicgrid.devices.services import DeviceInput, device_fields
from civicgrid.errors import DomainError
from civicgrid.tables import TableError, read_rows, xlsx_bytes

HEADERS = ["设备编号", "名称", "类型", "经度", "纬度", "地址", "网格编码", "网格", "启用", "最近报警"]
# Columns the import reads, by header (the export's other columns are ignored, so it round-trips).
REQUIRED = ["设备编号", "名称", "类型", "经度", "纬度"]
# Kinds as offices write them; the import also takes the codes.
KIND_NAMES = {
    DeviceKind.CAMERA: "摄像头",
    DeviceKind.SMOKE: "烟感",
    DeviceKind.WATER_LEVEL: "水位计",
    DeviceKind.MANHOLE: "井盖传感器",
    DeviceKind.GAS: "燃气探测器",
    DeviceKind.OTHER: "其他",
}
YES, NO = {"是", "1", "true", "yes", "启用", ""}, {"否", "0", "false", "no", "停用"}


def devices_xlsx(rows: QuerySet[Device]) -> bytes:
    def lines():
        for d in rows.select_related("grid").order_by("external_id").iterator(chunk_size=1000):
            seen = timezone.localtime(d.last_seen).strftime("%Y-%m-%d %H:%M") if d.last_seen else ""
            yield [
                d.external_id,
                d.name,
                KIND_NAMES.get(d.kind, d.kind),
                d.lon,
                d.lat,
                d.address,
                d.grid.code,
                d.grid.name,
                "是" if d.active else "否",
                seen,
            ]

    content, count = xlsx_bytes("设备", HEADERS, lines())
    audit_record(action="export.xlsx", object_type="devices.device", object_id="list", detail={"rows": count})
    return content


@dataclass
class ImportReport:
    rows: int = 0
    created: int = 0
    updated: int = 0
    errors: list[dict] = field(default_factory=list)
    # (device id, secret) of each device the import registered: shown once, like any new secret.
    secrets: list[tuple[str, str]] = field(default_factory=list)


def _row_input(cells: dict[str, str]) -> tuple[DeviceInput | None, list[str]]:
    problems = []
    kind = cells.get("类型", "")
    by_name = {name: code for code, name in KIND_NAMES.items()}
    kind = by_name.get(kind, kind)
    active = cells.get("启用", "").lower()
    if active not in YES | NO:
        problems.append(_("启用 must be 是 or 否."))
    try:
        lon, lat = float(cells.get("经度", "")), float(cells.get("纬度", ""))
    except ValueError:
        return None, [*problems, _("经度 and 纬度 must be numbers.")]
    data = DeviceInput(
        external_id=cells.get("设备编号", ""),
        kind=kind,
        name=cells.get("名称", ""),
        lon=lon,
        lat=lat,
        address=cells.get("地址", ""),
        active=active in YES,
    )
    return data, problems


def devices_import(*, name: str, data: bytes, commit: bool = False, by=None) -> ImportReport:
    """Check every row (id, kind, name, a place inside the district); with ``commit`` and no
    problem at all, register the new devices (each with a new secret) and update the others."""
    report = ImportReport()
    try:
        rows = read_rows(name, data)
    except TableError as exc:
        report.errors.append({"row": 0, "message": str(exc)})
        return report
    header = [h.strip() for h in rows[0]] if rows else []
    if not set(REQUIRED) <= set(header):
        report.errors.append(
            {"row": 1, "message": _("The header row needs: %(h)s") % {"h": ", ".join(REQUIRED)}}
        )
        return report
    good, seen = [], set()
    for number, values in enumerate(rows[1:], start=2):
        if not any(values):
            continue
        cells = dict(zip(header, values, strict=False))
        data_in, problems = _row_input(cells)
        if data_in is not None:
            try:
                fields, _place = device_fields(data_in)
            except DomainError as exc:
                problems.append(exc.message)
            else:
                if fields["external_id"] in seen:
                    problems.append(_("设备编号 %(id)s appears twice.") % {"id": fields["external_id"]})
                seen.add(fields["external_id"])
                good.append(fields)
        report.errors.extend({"row": number, "message": p} for p in problems)
    report.rows = len(good)
    if report.errors or not commit:
        return report
    with transaction.atomic():
        existing = {d.external_id: d for d in Device.objects.select_for_update().filter(external_id__in=seen)}
        for fields in good:
            device = existing.get(fields["external_id"])
            if device is None:
                secret = signing.new_secret()
                Device.objects.create(secret=secret, secret_set_at=timezone.now(), **fields)
                report.secrets.append((fields["external_id"], secret))
                report.created += 1
            elif any(getattr(device, k) != v for k, v in fields.items()):
                for key, value in fields.items():
                    setattr(device, key, value)
                device.save()
                report.updated += 1
        audit_record(
            action="import.devices",
            actor=by,
            object_type="devices.device",
            object_id=name[:100],
            detail={"created": report.created, "updated": report.updated},
        )
    return report

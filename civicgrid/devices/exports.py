"""The registry as an Excel sheet for offices (audited: a bulk read). Secrets never leave."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils import timezone

from civicgrid.audit.services import audit_record
from civicgrid.devices.models import Device
from civicgrid.tables import xlsx_bytes

HEADERS = ["设备编号", "名称", "类型", "经度", "纬度", "地址", "网格编码", "网格", "启用", "最近报警"]


def devices_xlsx(rows: QuerySet[Device]) -> bytes:
    def lines():
        for d in rows.select_related("grid").order_by("external_id").iterator(chunk_size=1000):
            seen = timezone.localtime(d.last_seen).strftime("%Y-%m-%d %H:%M") if d.last_seen else ""
            yield [
                d.external_id,
                d.name,
                d.get_kind_display(),
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

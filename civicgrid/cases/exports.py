"""The case list as an Excel file for offices (audited: it is a bulk read)."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils import timezone

from civicgrid.audit.services import audit_record
from civicgrid.cases.models import Case, CaseState, Channel, Urgency
from civicgrid.cases.presenters import is_overdue
from civicgrid.tables import xlsx_bytes

EXPORT_MAX = 50_000
HEADERS = [
    "案件编号",
    "标题",
    "状态",
    "渠道",
    "小类代码",
    "小类",
    "紧急程度",
    "街道",
    "社区",
    "网格编码",
    "地址",
    "经度",
    "纬度",
    "责任单位",
    "上报时间",
    "立案时间",
    "派遣时间",
    "结案时间",
    "当前环节时限",
    "是否超期",
    "返工次数",
    "延期次数",
    "评价",
]


def _local(value):
    return timezone.localtime(value).replace(tzinfo=None) if value else None


def cases_xlsx(query: QuerySet[Case]) -> bytes:
    now = timezone.now()
    rows = query.select_related("case_class", "grid", "community", "street", "department")[:EXPORT_MAX]

    def lines():
        for c in rows.iterator(chunk_size=2000):
            yield [
                c.number,
                c.title,
                str(CaseState(c.state).label),
                str(Channel(c.channel).label),
                c.case_class.code if c.case_class else "",
                c.case_class.name if c.case_class else "",
                str(Urgency(c.urgency).label),
                c.street.name,
                c.community.name,
                c.grid.code,
                c.address,
                c.lon,
                c.lat,
                c.department.name if c.department else "",
                _local(c.created_at),
                _local(c.registered_at),
                _local(c.dispatched_at),
                _local(c.closed_at),
                _local(c.stage_deadline),
                "是" if is_overdue(c, now) else "否",
                c.rework_count,
                c.extension_count,
                c.get_satisfaction_display(),
            ]

    content, count = xlsx_bytes("cases", [str(h) for h in HEADERS], lines())
    audit_record(action="export.xlsx", object_type="cases.case", object_id="list", detail={"rows": count})
    return content

"""The hotline's file format (docs/hotline.md): JSON, CSV or Excel with the same columns, in and out.

Columns are the English keys below; a file may instead use the Chinese headers a 12345 system
exports (工单编号, 受理时间 …). Reading gives one dict per row, keyed by the English names, with
only the columns the file has (an absent column is not the same as an empty one: an absent caller
column keeps the caller already stored).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable

from django.utils.translation import gettext as _

from civicgrid.errors import DomainError
from civicgrid.hotline.models import BatchFormat
from civicgrid.tables import TableError, read_rows, xlsx_bytes

# English key → the Chinese header accepted (and written with ?headers=zh) for it.
COLUMNS = {
    "external_number": "工单编号",
    "received_at": "受理时间",
    "content": "诉求内容",
    "caller_name": "来电人",
    "caller_phone": "联系电话",
    "address": "诉求地址",
    "lon": "经度",
    "lat": "纬度",
    "crs": "坐标系",
    "hotline_class": "诉求分类",
    "urgency": "紧急程度",
    "feedback_by": "要求反馈时间",
    "limit_kind": "时限类别",
}
# What the export adds: where the order stands and how it was handled.
STATUS_COLUMNS = {
    "order_state": "工单状态",
    "reason": "待分拨原因",
    "feedback_deadline": "反馈时限",
    "case_number": "案件编号",
    "case_state": "办理状态",
    "department": "承办单位",
    "result": "办理结果",
    "closed_at": "办结时间",
}
_ALIASES = {
    **{zh: key for key, zh in (COLUMNS | STATUS_COLUMNS).items()},
    "经纬度坐标系": "crs",
    "地址": "address",
    "来电号码": "caller_phone",
    "工单号": "external_number",
}
MAX_ROWS = 200_000


def format_of(name: str) -> str:
    """The format by the file's extension; anything else is refused before it is read."""
    lower = name.lower()
    for ext, fmt in ((".json", BatchFormat.JSON), (".csv", BatchFormat.CSV), (".xlsx", BatchFormat.XLSX)):
        if lower.endswith(ext):
            return fmt
    raise DomainError(
        "bad_file_type",
        _("Send the orders as a .json, .csv or .xlsx file."),
        {"file_name": name[:200]},
        status=415,
    )


def _key(header: str) -> str:
    text = str(header).strip().lstrip("\ufeff")
    return text if text in COLUMNS or text in STATUS_COLUMNS else _ALIASES.get(text, text)


def _unreadable(reason: str) -> DomainError:
    return DomainError("unreadable_file", _("Cannot read the file: %(e)s") % {"e": reason})


def read_orders(name: str, data: bytes) -> list[dict]:
    """The file's rows as dicts of text (numbers from Excel or JSON as text too)."""
    fmt = format_of(name)
    if fmt == BatchFormat.JSON:
        rows = _json_rows(data)
    else:
        try:
            table = read_rows(name, data)
        except TableError as exc:
            raise _unreadable(str(exc)) from None
        table = [r for r in table if any(c for c in r)]
        if not table:
            raise DomainError("empty_file", _("The file holds no orders."))
        keys = [_key(h) for h in table[0]]
        rows = [dict(zip(keys, cells, strict=False)) for cells in table[1:]]
    if not rows:
        raise DomainError("empty_file", _("The file holds no orders."))
    if len(rows) > MAX_ROWS:
        raise DomainError(
            "too_many_rows",
            _("At most %(n)d orders per file; split it.") % {"n": MAX_ROWS},
            {"max": MAX_ROWS, "rows": len(rows)},
        )
    if not any("external_number" in r for r in rows[:1]):
        raise DomainError(
            "missing_column",
            _("The file has no order number column (external_number or 工单编号)."),
            {"columns": sorted(rows[0])[:30]},
        )
    return rows


def _json_rows(data: bytes) -> list[dict]:
    """``[{...}, …]`` or ``{"orders": [{...}, …]}``."""
    try:
        parsed = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise _unreadable(str(exc)) from None
    if isinstance(parsed, dict):
        parsed = parsed.get("orders")
    if not isinstance(parsed, list):
        raise _unreadable(_('expected a list of orders or {"orders": [...]}'))
    rows = []
    for item in parsed:
        if not isinstance(item, dict):
            rows.append({"_bad": True})  # rejected as a row, so the row numbers stay right
            continue
        rows.append(
            {
                _key(k): "" if v is None else (v if isinstance(v, str) else json.dumps(v))
                for k, v in item.items()
            }
        )
    return rows


def _header(key: str, chinese: bool) -> str:
    return (COLUMNS | STATUS_COLUMNS)[key] if chinese else key


def write_orders(fmt: str, keys: list[str], rows: Iterable[dict], *, chinese: bool = False) -> bytes:
    """Rows (dicts with ``keys``) as a file of ``fmt``; times as ISO text with their offset."""
    if fmt == BatchFormat.JSON:
        return json.dumps({"orders": list(rows)}, ensure_ascii=False, indent=1).encode()
    headers = [_header(k, chinese) for k in keys]
    if fmt == BatchFormat.CSV:
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(headers)
        for row in rows:
            writer.writerow(["" if row.get(k) is None else row[k] for k in keys])
        return ("\ufeff" + out.getvalue()).encode()  # the BOM lets Excel read UTF-8
    content, _count = xlsx_bytes(
        "orders", headers, (["" if r.get(k) is None else r[k] for k in keys] for r in rows)
    )
    return content


CONTENT_TYPES = {
    BatchFormat.JSON: "application/json",
    BatchFormat.CSV: "text/csv; charset=utf-8",
    BatchFormat.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}

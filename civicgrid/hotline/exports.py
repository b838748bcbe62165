"""Orders back to the hotline in the format they came in, with where each stands and how it was
handled (接诉即办 feedback): the case's state, lead department, handling result and closing time.

The caller's name and phone are left out: the hotline has them, and writing them into a file
would be a bulk reveal of personal data. Read back in, an export changes nothing (round trip).
"""

from __future__ import annotations

from collections.abc import Iterator

from django.db.models import QuerySet
from django.utils import timezone

from civicgrid.audit.services import audit_record
from civicgrid.cases.models import CaseEvent, CaseState
from civicgrid.cases.workflow import Action
from civicgrid.hotline.formats import COLUMNS, STATUS_COLUMNS, write_orders
from civicgrid.hotline.models import HotlineOrder, OrderState

EXPORT_MAX = 200_000
KEYS = [k for k in COLUMNS if k not in ("caller_name", "caller_phone")] + list(STATUS_COLUMNS)
CHUNK = 2000


def _iso(value) -> str:
    return timezone.localtime(value).isoformat() if value else ""


def _results(case_ids: list[int]) -> dict[int, dict[str, str]]:
    """The handler's last feedback and the closing note of each case."""
    out: dict[int, dict[str, str]] = {}
    events = CaseEvent.objects.filter(
        case_id__in=case_ids, action__in=[Action.FEEDBACK, Action.CLOSE]
    ).order_by("case_id", "seq")
    for case_id, action, note in events.values_list("case_id", "action", "note"):
        found = out.setdefault(case_id, {})
        if note:
            found["result" if action == Action.FEEDBACK else "closing"] = note
    return out


def export_rows(query: QuerySet[HotlineOrder]) -> Iterator[dict]:
    orders = list(query[:EXPORT_MAX])
    for start in range(0, len(orders), CHUNK):
        part = orders[start : start + CHUNK]
        results = _results([o.case_id for o in part if o.case_id])
        for o in part:
            case = o.case
            handled = results.get(o.case_id, {})
            yield {
                "external_number": o.external_number,
                "received_at": _iso(o.received_at),
                "content": o.content,
                "address": o.address,
                "lon": o.lon,
                "lat": o.lat,
                "crs": o.crs,
                "hotline_class": o.hotline_class,
                "urgency": o.urgency,
                "feedback_by": _iso(o.feedback_requested_at),
                "limit_kind": o.limit_kind,
                "order_state": o.state,
                "reason": o.reason if o.state != OrderState.PLACED else "",
                "feedback_deadline": _iso(o.feedback_deadline),
                "case_number": case.number if case else "",
                "case_state": str(CaseState(case.state).label) if case else "",
                "department": case.department.name if case and case.department_id else "",
                "result": handled.get("result") or handled.get("closing", ""),
                "closed_at": _iso(case.closed_at) if case else "",
            }


def orders_export(query: QuerySet[HotlineOrder], *, fmt: str, chinese: bool = False) -> tuple[bytes, int]:
    """The file and its row count; a bulk read, so it is audited."""
    rows = list(export_rows(query))
    content = write_orders(fmt, KEYS, rows, chinese=chinese)
    audit_record(
        action="export.hotline",
        object_type="hotline.hotlineorder",
        object_id="list",
        detail={"rows": len(rows), "format": fmt},
    )
    return content, len(rows)

"""Enforcement rows as the API (and the phone screens) read them."""

from __future__ import annotations

from django.urls import reverse

from civicgrid.enforcement.models import EnforcementItem, Inspection, InspectionTask
from civicgrid.enforcement.selectors import inspection_answers


def _place(region) -> dict:
    return {"code": region.code, "name": region.name}


def _person(user) -> dict:
    return {"username": user.username, "name": str(user)}


def checkpoints(item: EnforcementItem) -> list[dict]:
    """The item's active checkpoints (prefetched by the selectors), in order."""
    return [{"id": c.pk, "seq": c.seq, "text": c.text} for c in item.checkpoints.all()]


def item_out(item: EnforcementItem) -> dict:
    return {
        "code": item.code,
        "name": item.name,
        "department": item.department.code if item.department else None,
        "department_name": item.department.name if item.department else "",
        "legal_basis": item.legal_basis,
        "case_class": item.case_class.code if item.case_class else None,
        "checkpoints": checkpoints(item),
    }


def task_out(task: InspectionTask) -> dict:
    return {
        "id": task.pk,
        "item": {"code": task.item.code, "name": task.item.name, "checkpoints": checkpoints(task.item)},
        "grid": _place(task.grid),
        "due": task.due,
        "state": task.state,
        "note": task.note,
        "assignees": [_person(u) for u in task.assignees.all()],
    }


def inspection_summary(inspection: Inspection, cases: list[str]) -> dict:
    return {
        "id": inspection.pk,
        "task": inspection.task_id,
        "item": {"code": inspection.item.code, "name": inspection.item.name},
        "grid": _place(inspection.grid),
        "inspector": _person(inspection.inspector),
        "at": inspection.at,
        "failed": inspection.failed,
        "cases": cases,
    }


def photo_url(inspection: Inspection, photo_id: int) -> str:
    return reverse("enforcement:inspection-photo", args=[inspection.pk, photo_id])


def inspection_detail(inspection: Inspection) -> dict:
    answers = inspection_answers(inspection)
    cases = [a.case.number for a in answers if a.case_id]
    return inspection_summary(inspection, cases) | {
        "lon": inspection.lon,
        "lat": inspection.lat,
        "accuracy": inspection.accuracy_m,
        "note": inspection.note,
        "created_at": inspection.created_at,
        "answers": [
            {
                "checkpoint": {"id": a.checkpoint_id, "seq": a.checkpoint.seq, "text": a.checkpoint.text},
                "result": a.result,
                "note": a.note,
                "case": a.case.number if a.case_id else None,
            }
            for a in answers
        ],
        "photos": [
            {"id": p.pk, "url": photo_url(inspection, p.pk)} for p in inspection.photos.order_by("id")
        ],
    }

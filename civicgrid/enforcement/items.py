"""The enforcement item list (执法事项清单) in and out of Excel, in the one sheet offices exchange:
事项编码, 事项名称, 实施依据, 实施部门 (code or name), 默认小类 (code), 检查要点 (one per line or
separated by ；). The export is re-importable as is (docs/enforcement.md).

Import upserts by item code and is all-or-nothing: every bad cell is reported with its row and
column, and nothing is written unless every row is good and ``commit`` is set. Checkpoints are
matched by their text, so an answered checkpoint keeps its row (and its class) when the list is
re-imported; one no longer listed is retired, not deleted, because past answers refer to it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Prefetch
from django.utils.translation import gettext as _

from civicgrid.accounts.models import Department
from civicgrid.audit.services import audit_record
from civicgrid.cases.models import CaseClass
from civicgrid.enforcement.models import Checkpoint, EnforcementItem
from civicgrid.tables import TableError, read_rows, xlsx_bytes

CODE, NAME, BASIS, DEPARTMENT, CLASS, CHECKPOINTS = HEADERS = (
    "事项编码",
    "事项名称",
    "实施依据",
    "实施部门",
    "默认小类",
    "检查要点",
)
CODE_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$")
NAME_MAX, BASIS_MAX, CHECKPOINT_MAX, CHECKPOINTS_MAX = 200, 4000, 300, 30
ERRORS_KEPT = 2000  # more than any office fixes in one go; the report says how many there were
_SPLIT = re.compile(r"[\r\n；;]+")
# "1." "2、" "（3）" "四、" in front of a checkpoint are the sheet's numbering, not its text; a
# decimal ("1.5米") is text.
_NUMBERING = re.compile(
    r"^\s*(?:[(（]\s*\d{1,2}\s*[)）]|\d{1,2}\s*(?:[.．](?!\d)|[、)）])|[一二三四五六七八九十]{1,3}\s*[、.．])\s*"
)


@dataclass
class ItemsReport:
    rows: int = 0
    created: int = 0
    updated: int = 0
    checkpoints_added: int = 0
    checkpoints_retired: int = 0
    committed: bool = False
    errors: list[dict] = field(default_factory=list)


@dataclass
class _Row:
    number: int
    code: str
    name: str
    legal_basis: str
    department: Department | None
    case_class: CaseClass | None
    checkpoints: list[str]


def checkpoint_texts(cell: str) -> list[str]:
    """The checkpoints of one cell: split on new lines and semicolons, numbering dropped."""
    texts = (_NUMBERING.sub("", part).strip() for part in _SPLIT.split(cell or ""))
    return [t for t in texts if t]


class _Lookups:
    """Departments (by code, else by a unique name) and active 小类, read once per import."""

    def __init__(self):
        self.departments = {d.code: d for d in Department.objects.filter(active=True)}
        self.by_name: dict[str, list[Department]] = {}
        for d in self.departments.values():
            self.by_name.setdefault(d.name, []).append(d)
        self.classes = {c.code: c for c in CaseClass.objects.filter(active=True, parent__isnull=False)}

    def department(self, text: str) -> tuple[Department | None, str]:
        if not text:
            return None, ""
        if text in self.departments:
            return self.departments[text], ""
        named = self.by_name.get(text, [])
        if len(named) == 1:
            return named[0], ""
        if named:
            return None, _("%(d)s names several departments; give the department's code.") % {"d": text}
        return None, _("There is no active department %(d)s (give its code or full name).") % {"d": text}


def _cell(cells: list[str], columns: dict[str, int], header: str) -> str:
    i = columns[header]
    return cells[i] if i < len(cells) else ""


def _parse(number: int, cells: list[str], columns: dict[str, int], lookups: _Lookups, errors: list[dict]):
    def problem(column: str, message: str) -> None:
        errors.append({"row": number, "column": column, "message": message})

    code, name, basis = (_cell(cells, columns, h) for h in (CODE, NAME, BASIS))
    if not CODE_PATTERN.match(code):
        problem(CODE, _("The code is required: up to 32 letters, digits, dots, dashes or underscores."))
    if not name:
        problem(NAME, _("The name is required."))
    elif len(name) > NAME_MAX:
        problem(NAME, _("The name is longer than %(n)d characters.") % {"n": NAME_MAX})
    if len(basis) > BASIS_MAX:
        problem(BASIS, _("The legal basis is longer than %(n)d characters.") % {"n": BASIS_MAX})
    department, message = lookups.department(_cell(cells, columns, DEPARTMENT))
    if message:
        problem(DEPARTMENT, message)
    class_code = _cell(cells, columns, CLASS)
    case_class = lookups.classes.get(class_code) if class_code else None
    if class_code and case_class is None:
        problem(CLASS, _("There is no active minor class (小类) %(c)s.") % {"c": class_code})
    texts = checkpoint_texts(_cell(cells, columns, CHECKPOINTS))
    if not texts:
        problem(CHECKPOINTS, _("List at least one checkpoint."))
    if len(texts) > CHECKPOINTS_MAX:
        problem(CHECKPOINTS, _("At most %(n)d checkpoints per item.") % {"n": CHECKPOINTS_MAX})
    for text in texts:
        if len(text) > CHECKPOINT_MAX:
            problem(
                CHECKPOINTS,
                _("A checkpoint is longer than %(n)d characters: %(t)s…")
                % {"n": CHECKPOINT_MAX, "t": text[:20]},
            )
    doubled = sorted({t for t in texts if texts.count(t) > 1})
    if doubled:
        problem(CHECKPOINTS, _("A checkpoint is listed twice: %(t)s") % {"t": "；".join(doubled)})
    return _Row(number, code, name, basis, department, case_class, texts)


def items_import(*, name: str, data: bytes, commit: bool = False) -> ItemsReport:
    """Check every row of the sheet; write them (upsert by code) only when all are good and
    ``commit`` is set."""
    report = ItemsReport()
    try:
        rows = read_rows(name, data)
    except TableError as exc:
        report.errors.append({"row": 0, "column": "", "message": str(exc)})
        return report
    if not rows:
        report.errors.append({"row": 0, "column": "", "message": _("The file is empty.")})
        return report
    header = [h.strip() for h in rows[0]]
    columns = {h: header.index(h) for h in HEADERS if h in header}
    for missing in (h for h in HEADERS if h not in columns):
        report.errors.append({"row": 1, "column": missing, "message": _("This column is missing.")})
    if report.errors:
        return report
    lookups = _Lookups()
    parsed: list[_Row] = []
    first_row: dict[str, int] = {}
    for number, cells in enumerate(rows[1:], start=2):
        if not any(cells):
            continue
        row = _parse(number, cells, columns, lookups, report.errors)
        if row.code in first_row:
            report.errors.append(
                {
                    "row": number,
                    "column": CODE,
                    "message": _("Code %(c)s is already on row %(r)d.")
                    % {"c": row.code, "r": first_row[row.code]},
                }
            )
        first_row.setdefault(row.code, number)
        parsed.append(row)
    report.rows = len(parsed)
    if not parsed and not report.errors:
        report.errors.append({"row": 2, "column": "", "message": _("The sheet has no items.")})
    if report.errors or not commit:
        return report
    with transaction.atomic():
        _write(parsed, report)
        audit_record(
            action="enforcement.items_import",
            object_type="enforcement.enforcementitem",
            object_id=name[:100],
            detail={
                "rows": report.rows,
                "created": report.created,
                "updated": report.updated,
                "checkpoints_added": report.checkpoints_added,
                "checkpoints_retired": report.checkpoints_retired,
            },
        )
    report.committed = True
    return report


def _write(rows: list[_Row], report: ItemsReport) -> None:
    existing = {i.code: i for i in EnforcementItem.objects.filter(code__in=[r.code for r in rows])}
    for row in rows:
        item = existing.get(row.code)
        report.created += item is None
        report.updated += item is not None
        item = item or EnforcementItem(code=row.code)
        item.name, item.legal_basis = row.name, row.legal_basis
        item.department, item.case_class, item.active = row.department, row.case_class, True
        item.save()
        added, retired = checkpoints_set(item, row.checkpoints)
        report.checkpoints_added += added
        report.checkpoints_retired += retired


def checkpoints_set(item: EnforcementItem, texts: list[str]) -> tuple[int, int]:
    """Make ``texts`` the item's active checkpoints in this order; returns (added, retired)."""
    rows = list(item.checkpoints.order_by("-active", "-id")) if item.pk else []
    by_text: dict[str, Checkpoint] = {}
    for cp in rows:  # an active row wins over a retired one with the same text
        by_text.setdefault(cp.text, cp)
    was_active = {cp.pk for cp in rows if cp.active}
    # Retire all first: the order is unique among active checkpoints, and renumbering in place
    # would collide with a neighbour's old number on the way.
    Checkpoint.objects.filter(item=item, active=True).update(active=False)
    added, kept = 0, set()
    for seq, text in enumerate(texts, start=1):
        cp = by_text.get(text)
        if cp is None:
            Checkpoint.objects.create(item=item, seq=seq, text=text)
            added += 1
            continue
        cp.seq, cp.active = seq, True
        cp.save(update_fields=["seq", "active"])
        kept.add(cp.pk)
    return added, len(was_active - kept)


def items_export() -> bytes:
    """Every active item as one row in the import's columns (its active checkpoints, one a line)."""
    items = (
        EnforcementItem.objects.filter(active=True)
        .select_related("department", "case_class")
        .prefetch_related(Prefetch("checkpoints", queryset=Checkpoint.objects.filter(active=True)))
        .order_by("code")
    )
    content, count = xlsx_bytes(
        "执法事项清单",
        HEADERS,
        (
            [
                i.code,
                i.name,
                i.legal_basis,
                i.department.code if i.department else "",
                i.case_class.code if i.case_class else "",
                "\n".join(cp.text for cp in i.checkpoints.all()),
            ]
            for i in items
        ),
    )
    audit_record(
        action="export.xlsx",
        object_type="enforcement.enforcementitem",
        object_id="items",
        detail={"rows": count},
    )
    return content


def errors_export(errors: list[dict]) -> bytes:
    """An import's problems as a sheet: row, column, problem."""
    content, _count = xlsx_bytes(
        "errors",
        [_("Row"), _("Column"), _("Problem")],
        ([e["row"], e.get("column", ""), e["message"]] for e in errors),
    )
    return content

"""The case taxonomy as data: the documented default set (data/taxonomy.json, docs/taxonomy.md),
Excel out and in (all-or-nothing, every bad row reported), and class suggestions from text.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction
from django.utils.translation import gettext as _

from civicgrid.accounts.models import Department
from civicgrid.audit.services import audit_record
from civicgrid.cases.classify import KeywordClassifier, Suggestion
from civicgrid.cases.clock import parse_limit
from civicgrid.cases.limits import cached
from civicgrid.cases.models import Case, CaseClass, Family
from civicgrid.tables import TableError, read_rows, xlsx_bytes

DEFAULT_FILE = Path(__file__).parent / "data" / "taxonomy.json"
HEADERS = [
    "大类代码",
    "大类名称",
    "小类代码",
    "小类名称",
    "立案条件",
    "结案条件",
    "时限(一般)",
    "时限(紧急)",
    "时限(特急)",
    "主管部门代码",
    "可自行处置",
    "关键词",
]
MINOR_CODE = re.compile(r"^[EPG]\d{4}$")
_YES = {"是", "y", "yes", "true", "1", "√"}
_NO = {"否", "n", "no", "false", "0", ""}


def suggest_classes(text: str, *, limit: int = 3) -> list[Suggestion]:
    """The likeliest classes for a resident's words (keyword rules; cached for a few seconds)."""

    def build():
        rows = CaseClass.objects.filter(active=True, parent__isnull=False).values_list(
            "code", "name", "keywords"
        )
        return KeywordClassifier(list(rows))

    return cached("classifier", build).suggest(text, limit=limit)


@dataclass
class TaxonomyReport:
    rows: int = 0
    created: int = 0
    updated: int = 0
    errors: list[dict] = field(default_factory=list)


def _default_rows() -> list[dict]:
    data = json.loads(DEFAULT_FILE.read_text(encoding="utf-8"))
    rows = []
    for family in data["families"]:
        for major in family["majors"]:
            for minor in major["minors"]:
                rows.append(
                    {
                        "major_code": major["code"],
                        "major_name": major["name"],
                        "major_name_en": major.get("name_en", ""),
                        "code": minor["code"],
                        "name": minor["name"],
                        "name_en": minor.get("name_en", ""),
                        "register_rule": minor.get("register_rule", ""),
                        "close_rule": minor.get("close_rule", ""),
                        "limit_normal": minor["limits"]["normal"],
                        "limit_urgent": minor["limits"]["urgent"],
                        "limit_emergency": minor["limits"]["emergency"],
                        "department": minor.get("department") or "",
                        "self_resolvable": bool(minor.get("self_resolvable")),
                        "keywords": list(minor.get("keywords", [])),
                    }
                )
    return rows


def taxonomy_load_default() -> TaxonomyReport:
    """Create or update the default classes (idempotent; never deletes an office's own classes)."""
    rows = _default_rows()
    report = TaxonomyReport(rows=len(rows))
    with transaction.atomic():
        _write(rows, report)
    return report


def _write(rows: list[dict], report: TaxonomyReport) -> None:
    departments = dict(Department.objects.values_list("code", "id"))
    existing = {c.code: c for c in CaseClass.objects.all()}
    for row in rows:
        major = existing.get(row["major_code"])
        if major is None or major.name != row["major_name"]:
            major = major or CaseClass(code=row["major_code"], family=row["major_code"][0])
            major.name = row["major_name"]
            major.name_en = row.get("major_name_en") or major.name_en
            major.save()
            existing[major.code] = major
        minor = existing.get(row["code"])
        report.created += minor is None
        report.updated += minor is not None
        moved = minor is not None and minor.parent_id != major.pk
        minor = minor or CaseClass(code=row["code"])
        minor.family, minor.parent, minor.name = row["code"][0], major, row["name"]
        minor.name_en = row.get("name_en") or minor.name_en
        for name in (
            "register_rule",
            "close_rule",
            "limit_normal",
            "limit_urgent",
            "limit_emergency",
            "self_resolvable",
            "keywords",
        ):
            setattr(minor, name, row[name])
        minor.department_id = departments.get(row["department"]) if row["department"] else None
        minor.save()
        if moved:
            major_class_moved(minor)
        existing[minor.code] = minor


def major_class_moved(minor: CaseClass) -> None:
    """A 小类 now sits under another 大类: its cases keep their (denormalised) major class in step."""
    Case.objects.filter(case_class=minor).update(major_class_id=minor.parent_id)


def taxonomy_export() -> bytes:
    """Every 小类 as one row, in the columns an office edits and re-imports."""
    minors = (
        CaseClass.objects.filter(parent__isnull=False).select_related("parent", "department").order_by("code")
    )
    content, count = xlsx_bytes(
        "taxonomy",
        HEADERS,
        (
            [
                c.parent.code,
                c.parent.name,
                c.code,
                c.name,
                c.register_rule,
                c.close_rule,
                c.limit_normal,
                c.limit_urgent,
                c.limit_emergency,
                c.department.code if c.department else "",
                "是" if c.self_resolvable else "否",
                "、".join(c.keywords),
            ]
            for c in minors
        ),
    )
    audit_record(
        action="export.xlsx", object_type="cases.caseclass", object_id="taxonomy", detail={"rows": count}
    )
    return content


def _parse_row(cells: list[str], departments: set[str]) -> tuple[dict, list[str]]:
    cells = (cells + [""] * len(HEADERS))[: len(HEADERS)]
    major_code, major_name, code, name, register, close, normal, urgent, emergency, dept, self_ok, words = (
        cells
    )
    problems = []
    if not MINOR_CODE.match(code):
        problems.append(_("小类代码 %(c)s is not a family letter (E, P, G) and four digits.") % {"c": code})
    elif major_code != code[:3]:
        problems.append(_("大类代码 %(m)s does not match 小类代码 %(c)s.") % {"m": major_code, "c": code})
    if not name or not major_name:
        problems.append(_("Both names are required."))
    for label, text in (("一般", normal), ("紧急", urgent), ("特急", emergency)):
        try:
            parse_limit(text)
        except ValueError as exc:
            problems.append(f"时限({label}): {exc}")
    if dept and dept not in departments:
        problems.append(_("There is no department %(d)s.") % {"d": dept})
    if self_ok.lower() not in _YES | _NO:
        problems.append(_("可自行处置 must be 是 or 否."))
    row = {
        "major_code": major_code,
        "major_name": major_name,
        "code": code,
        "name": name,
        "register_rule": register,
        "close_rule": close,
        "limit_normal": normal,
        "limit_urgent": urgent,
        "limit_emergency": emergency,
        "department": dept,
        "self_resolvable": self_ok.lower() in _YES,
        "keywords": [w for w in re.split(r"[、,，;；\s]+", words) if w],
    }
    return row, problems


def taxonomy_import(*, name: str, data: bytes, commit: bool = False) -> TaxonomyReport:
    """Check every row; write only when all are good and ``commit`` is set."""
    report = TaxonomyReport()
    try:
        rows = read_rows(name, data)
    except TableError as exc:
        report.errors.append({"row": 0, "message": str(exc)})
        return report
    if not rows or [h.strip() for h in rows[0][: len(HEADERS)]] != HEADERS:
        report.errors.append(
            {"row": 1, "message": _("The header row must be: %(h)s") % {"h": ", ".join(HEADERS)}}
        )
        return report
    departments = set(Department.objects.values_list("code", flat=True))
    good, seen = [], set()
    for number, cells in enumerate(rows[1:], start=2):
        if not any(cells):
            continue
        row, problems = _parse_row(cells, departments)
        if row["code"] in seen:
            problems.append(_("小类代码 %(c)s appears twice.") % {"c": row["code"]})
        seen.add(row["code"])
        report.errors.extend({"row": number, "message": p} for p in problems)
        good.append(row)
    report.rows = len(good)
    if report.errors or not commit:
        return report
    with transaction.atomic():
        _write(good, report)
        audit_record(
            action="import.taxonomy",
            object_type="cases.caseclass",
            object_id=name[:100],
            detail={"created": report.created, "updated": report.updated},
        )
    return report


def family_label(code: str) -> str:
    return Family(code[0]).label

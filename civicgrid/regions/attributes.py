"""Grid attributes (人、文、地、产、景) in and out of CSV and Excel, row by row.

Import is all-or-nothing: every bad row is reported with its number and nothing is written
unless every row is good and ``commit`` is set.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import transaction
from django.utils.translation import gettext as _

from civicgrid.audit.services import audit_record
from civicgrid.regions.models import Level, Region
from civicgrid.tables import TableError, read_rows, xlsx_bytes

# Column → accepted headers (English and the Chinese an office sheet would use).
COLUMNS = {
    "code": ("code", "编码", "网格编码", "代码"),
    "households": ("households", "户数"),
    "population": ("population", "人口", "人口数"),
    "buildings": ("buildings", "楼栋数", "建筑数"),
    "land_use": ("land_use", "用地类型", "用地"),
    "key_places": ("key_places", "重点场所"),
    "landmarks": ("landmarks", "地标"),
}
EXPORT_HEADERS = [
    "code",
    "name",
    "community",
    "households",
    "population",
    "buildings",
    "land_use",
    "key_places",
    "landmarks",
]
_INTEGER = ("households", "population", "buildings")
_LISTS = ("key_places", "landmarks")


@dataclass
class AttributesReport:
    rows: int = 0
    updated: int = 0
    errors: list[dict] = field(default_factory=list)


def attributes_import(*, name: str, data: bytes, commit: bool = False) -> AttributesReport:
    report = AttributesReport()
    try:
        rows = read_rows(name, data)
    except TableError as exc:
        report.errors.append({"row": 0, "message": str(exc)})
        return report
    if not rows:
        report.errors.append({"row": 0, "message": _("The file is empty.")})
        return report
    header = [h.lower() for h in rows[0]]
    columns = {}
    for key, names in COLUMNS.items():
        for i, h in enumerate(header):
            if h in names:
                columns[key] = i
    if "code" not in columns:
        report.errors.append({"row": 1, "message": _("No code column (code / 编码).")})
        return report

    body = [r for r in rows[1:] if any(r)]
    report.rows = len(body)
    regions = {
        r.code: r
        for r in Region.objects.filter(
            code__in=[r[columns["code"]] for r in body if len(r) > columns["code"]]
        )
    }
    changes: list[tuple[Region, dict]] = []
    for number, row in enumerate(rows[1:], start=2):
        if not any(row):
            continue
        values = {key: (row[i] if i < len(row) else "") for key, i in columns.items()}
        region = regions.get(values["code"])
        if region is None:
            report.errors.append(
                {"row": number, "message": _("Unknown region code %(c)s.") % {"c": values["code"]}}
            )
            continue
        update = {}
        for key in _INTEGER:
            if values.get(key, "") != "":
                try:
                    number_value = int(float(values[key]))
                    if number_value < 0 or number_value != float(values[key]):
                        raise ValueError
                except ValueError:
                    report.errors.append(
                        {
                            "row": number,
                            "message": _("%(col)s must be a whole number ≥ 0, not %(v)r.")
                            % {"col": key, "v": values[key]},
                        }
                    )
                    break
                update[key] = number_value
        else:
            if values.get("land_use"):
                update["land_use"] = values["land_use"][:32]
            for key in _LISTS:
                if values.get(key):
                    update[key] = [
                        part.strip() for part in values[key].replace("；", ";").split(";") if part.strip()
                    ]
            changes.append((region, update))
    if report.errors or not commit:
        return report
    with transaction.atomic():
        for region, update in changes:
            for key, value in update.items():
                setattr(region, key, value)
            region.save(update_fields=[*update, "updated_at"] if update else ["updated_at"])
        audit_record(
            action="regions.attributes_import",
            object_type="file",
            object_id=name,
            detail={"rows": len(changes)},
        )
    report.updated = len(changes)
    return report


def attributes_export(*, level: str = Level.GRID) -> bytes:
    """An Excel sheet of every region at ``level`` with its attributes; re-importable as is."""
    content, count = xlsx_bytes(
        level,
        EXPORT_HEADERS,
        (
            [
                r.code,
                r.name,
                r.parent.name if r.parent else "",
                r.households,
                r.population,
                r.buildings,
                r.land_use,
                ";".join(r.key_places),
                ";".join(r.landmarks),
            ]
            for r in Region.objects.filter(level=level).select_related("parent").order_by("code")
        ),
    )
    audit_record(action="export.xlsx", object_type="regions", object_id=level, detail={"rows": count})
    return content

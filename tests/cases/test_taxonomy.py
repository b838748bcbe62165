"""The taxonomy as data: the default set loads, Excel goes out and comes back, bad rows are named."""

from __future__ import annotations

import io

import pytest
from openpyxl import Workbook, load_workbook

from civicgrid.audit.models import AuditRecord
from civicgrid.cases import limits
from civicgrid.cases.models import CaseClass
from civicgrid.cases.taxonomy import (
    HEADERS,
    suggest_classes,
    taxonomy_export,
    taxonomy_import,
    taxonomy_load_default,
)

pytestmark = pytest.mark.django_db


def _sheet(rows) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(HEADERS)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


GOOD = [
    "E01",
    "市容环境",
    "E0199",
    "墙面污损",
    "墙面有明显污迹",
    "污迹已清除",
    "3工作日",
    "1工作日",
    "4工作时",
    "D01",
    "是",
    "墙面、污渍",
]


def test_it_loads_the_default_set_idempotently(cases_demo):
    minors = CaseClass.objects.filter(parent__isnull=False)
    assert minors.count() >= 100
    assert CaseClass.objects.get(code="E0101").department.code == "D01"
    assert CaseClass.objects.get(code="G0101").department is None  # 属地兜底
    again = taxonomy_load_default()
    assert again.created == 0 and again.updated == minors.count()


def test_it_round_trips_through_excel(cases_demo):
    before = {
        c.code: (c.name, c.limit_normal, c.department_id, c.self_resolvable, c.keywords)
        for c in CaseClass.objects.filter(parent__isnull=False)
    }
    content = taxonomy_export()
    sheet = load_workbook(io.BytesIO(content)).active
    assert [c.value for c in sheet[1]] == HEADERS
    assert sheet.max_row - 1 == len(before)
    report = taxonomy_import(name="t.xlsx", data=content, commit=True)
    assert report.errors == [] and report.created == 0 and report.updated == len(before)
    after = {
        c.code: (c.name, c.limit_normal, c.department_id, c.self_resolvable, c.keywords)
        for c in CaseClass.objects.filter(parent__isnull=False)
    }
    assert after == before
    assert AuditRecord.objects.filter(action="export.xlsx", object_type="cases.caseclass").exists()


def test_it_reports_every_bad_row_and_writes_nothing(cases_demo):
    bad = [
        GOOD,
        ["E01", "市容环境", "X0101", "坏代码", "", "", "1工作日", "1工作日", "1小时", "", "否", ""],
        ["E01", "市容环境", "E0198", "时限错", "", "", "五天", "1工作日", "1小时", "", "否", ""],
        ["E01", "市容环境", "E0197", "部门错", "", "", "1工作日", "1工作日", "1小时", "Z99", "否", ""],
        ["E02", "宣传广告", "E0196", "大类不符", "", "", "1工作日", "1工作日", "1小时", "", "也许", ""],
    ]
    report = taxonomy_import(name="t.xlsx", data=_sheet(bad), commit=True)
    rows = sorted({e["row"] for e in report.errors})
    assert rows == [3, 4, 5, 6]
    assert not CaseClass.objects.filter(code__in=["E0199", "E0198", "E0197", "E0196"]).exists()


def test_a_good_sheet_is_a_dry_run_unless_committed(cases_demo):
    report = taxonomy_import(name="t.xlsx", data=_sheet([GOOD]), commit=False)
    assert report.errors == [] and report.rows == 1
    assert not CaseClass.objects.filter(code="E0199").exists()
    taxonomy_import(name="t.xlsx", data=_sheet([GOOD]), commit=True)
    added = CaseClass.objects.get(code="E0199")
    assert added.parent.code == "E01" and added.self_resolvable and added.keywords == ["墙面", "污渍"]
    limits.forget()  # the classifier is cached for a few seconds
    assert "E0199" in [s.code for s in suggest_classes("小区墙面被人涂了污渍")]


def test_a_wrong_header_or_unreadable_file_is_refused(cases_demo):
    assert taxonomy_import(name="t.csv", data=b"a,b,c\n1,2,3\n", commit=True).errors[0]["row"] == 1
    assert taxonomy_import(name="t.xlsx", data=b"not a zip", commit=True).errors[0]["row"] == 0


def test_the_back_office_imports_and_exports(cases_demo, client):
    from civicgrid.accounts.models import User

    client.force_login(User.objects.get(username="admin"))
    response = client.get("/admin/cases/caseclass/export/")
    assert response.status_code == 200 and response["Content-Type"].startswith(
        "application/vnd.openxmlformats"
    )
    upload = io.BytesIO(_sheet([GOOD]))
    upload.name = "t.xlsx"
    response = client.post("/admin/cases/caseclass/import/", {"file": upload, "commit": "on"})
    assert response.status_code == 200
    assert CaseClass.objects.filter(code="E0199").exists()


def test_the_back_office_is_closed_to_other_staff(cases_demo, client):
    from civicgrid.accounts.models import User

    client.force_login(User.objects.get(username="auditor"))
    assert client.get("/admin/cases/caseclass/export/").status_code in (302, 403)
    upload = io.BytesIO(_sheet([GOOD]))
    upload.name = "t.xlsx"
    client.post("/admin/cases/caseclass/import/", {"file": upload, "commit": "on"})
    assert not CaseClass.objects.filter(code="E0199").exists()

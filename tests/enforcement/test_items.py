"""The enforcement list in and out of Excel: a good sheet, bad rows reported by row and column
with nothing written, the round trip, re-importing changed checkpoints, and who may import."""

from __future__ import annotations

import io

from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from openpyxl import load_workbook

from civicgrid.audit.models import AuditRecord
from civicgrid.enforcement.items import HEADERS, items_export, items_import
from civicgrid.enforcement.models import Checkpoint, EnforcementItem
from civicgrid.tables import xlsx_bytes

from ..cases.steps import signed_in
from .conftest import GW_A, OFFICER_A

GOOD = [
    [
        "ZF-TEST-001",
        "擅自占用绿地停车",
        "《城市绿化条例》",
        "D01",
        "E0603",
        "1. 绿地是否被占用停车\n2、是否设置阻车设施；护栏是否完好",
    ],
    ["ZF-TEST-002", "户外广告安全", "", "玄武区城市管理局", "", "广告设施是否牢固；画面长1.5米以上是否完好"],
]


def _sheet(rows, headers=HEADERS) -> bytes:
    return xlsx_bytes("list", headers, rows)[0]


def _rows(content: bytes) -> list[list]:
    sheet = load_workbook(io.BytesIO(content), read_only=True).worksheets[0]
    return [["" if v is None else v for v in row] for row in sheet.iter_rows(values_only=True)]


def test_a_good_sheet_is_checked_then_written(edemo):
    checked = items_import(name="list.xlsx", data=_sheet(GOOD))
    assert checked.errors == [] and checked.rows == 2 and not checked.committed
    assert not EnforcementItem.objects.filter(code__startswith="ZF-TEST").exists()
    report = items_import(name="list.xlsx", data=_sheet(GOOD), commit=True)
    assert report.committed and (report.created, report.updated, report.checkpoints_added) == (2, 0, 5)
    first = EnforcementItem.objects.select_related("department", "case_class").get(code="ZF-TEST-001")
    assert first.department.code == "D01" and first.case_class.code == "E0603"
    # The sheet's numbering is not text; a decimal is.
    assert [c.text for c in first.checkpoints.order_by("seq")] == [
        "绿地是否被占用停车",
        "是否设置阻车设施",
        "护栏是否完好",
    ]
    second = EnforcementItem.objects.get(code="ZF-TEST-002")
    assert second.department.code == "D01" and second.case_class is None
    assert second.checkpoints.get(seq=2).text == "画面长1.5米以上是否完好"
    assert AuditRecord.objects.filter(action="enforcement.items_import", detail__created=2).exists()


def test_every_bad_cell_is_reported_by_row_and_column_and_nothing_is_written(edemo):
    rows = [
        GOOD[0],
        ["bad code!", "", "", "D99", "E9999", ""],
        ["ZF-TEST-001", "重复编码", "", "", "E01", "一、要点"],
        ["ZF-TEST-004", "x" * 201, "", "", "", "要点甲\n要点甲"],
    ]
    report = items_import(name="list.xlsx", data=_sheet(rows), commit=True)
    found = {(e["row"], e["column"]) for e in report.errors}
    assert {
        (3, "事项编码"),
        (3, "事项名称"),
        (3, "实施部门"),
        (3, "默认小类"),
        (3, "检查要点"),
        (4, "事项编码"),  # a code twice in the sheet
        (4, "默认小类"),  # a major class (大类) is not a 小类
        (5, "事项名称"),
        (5, "检查要点"),
    } == found
    assert all(e["message"] for e in report.errors)
    assert not report.committed and not EnforcementItem.objects.filter(code__startswith="ZF-TEST").exists()


def test_a_missing_column_or_unreadable_file_is_reported(edemo):
    report = items_import(name="list.xlsx", data=_sheet([GOOD[0][:5]], headers=HEADERS[:5]), commit=True)
    assert report.errors == [{"row": 1, "column": "检查要点", "message": report.errors[0]["message"]}]
    junk = items_import(name="list.xlsx", data=b"not a zip", commit=True)
    assert junk.errors[0]["row"] == 0 and not junk.committed


def test_the_export_imports_back_unchanged(edemo):
    before = _rows(items_export())
    assert (
        before[0] == list(HEADERS) and len(before) == EnforcementItem.objects.filter(active=True).count() + 1
    )
    checkpoints = list(
        Checkpoint.objects.order_by("id").values_list(
            "id", "item_id", "seq", "text", "active", "case_class_id"
        )
    )
    report = items_import(name="export.xlsx", data=items_export(), commit=True)
    assert report.errors == [] and report.created == 0 and report.updated == len(before) - 1
    assert (report.checkpoints_added, report.checkpoints_retired) == (0, 0)
    assert _rows(items_export()) == before
    # Checkpoints keep their rows (answers refer to them) and their classes set in the back office.
    assert (
        list(
            Checkpoint.objects.order_by("id").values_list(
                "id", "item_id", "seq", "text", "active", "case_class_id"
            )
        )
        == checkpoints
    )


def test_a_changed_checklist_keeps_known_checkpoints_and_retires_dropped_ones(edemo):
    item = EnforcementItem.objects.get(code="ZF-SR-004")
    old = {c.text: c.pk for c in item.checkpoints.filter(active=True)}
    texts = list(old)
    row = [
        item.code,
        item.name,
        item.legal_basis,
        "D01",
        "E0110",
        "\n".join(["新增要点", texts[2], texts[0]]),
    ]
    report = items_import(name="list.xlsx", data=_sheet([row]), commit=True)
    assert (report.checkpoints_added, report.checkpoints_retired) == (1, 1)
    active = list(item.checkpoints.filter(active=True).order_by("seq").values_list("seq", "text", "pk"))
    assert active[0][:2] == (1, "新增要点")
    assert active[1:] == [(2, texts[2], old[texts[2]]), (3, texts[0], old[texts[0]])]
    assert Checkpoint.objects.get(pk=old[texts[1]]).active is False


def test_the_import_page_reports_problems_and_offers_them_as_excel(client, edemo):
    c = signed_in(client, "operator")
    assert c.get("/enforcement/import/").status_code == 200
    bad = SimpleUploadedFile("list.xlsx", _sheet([GOOD[0], ["", "名称", "", "", "", "要点"]]))
    page = c.post("/enforcement/import/", {"file": bad, "commit": "1"})
    assert page.status_code == 200
    assert b'data-code="import_invalid"' in page.content
    assert 'data-row="3" data-column="事项编码"'.encode() in page.content
    assert not EnforcementItem.objects.filter(code="ZF-TEST-001").exists()
    download = c.get("/enforcement/import/errors.xlsx")
    assert download.status_code == 200
    assert _rows(download.content)[1][:2] == [3, "事项编码"]
    good = SimpleUploadedFile("list.xlsx", _sheet(GOOD))
    page = c.post("/enforcement/import/", {"file": good, "commit": "1"})
    assert (
        b'data-result="committed"' in page.content
        and EnforcementItem.objects.filter(code="ZF-TEST-002").exists()
    )


def test_residents_grid_workers_and_officers_may_not_import(client, edemo):
    for who in ("resident1", GW_A, OFFICER_A):
        c = signed_in(client, who)
        upload = SimpleUploadedFile("list.xlsx", _sheet(GOOD))
        assert c.post("/enforcement/import/", {"file": upload, "commit": "1"}).status_code == 403
        assert c.get("/enforcement/import/errors.xlsx").status_code == 403
    assert not EnforcementItem.objects.filter(code__startswith="ZF-TEST").exists()
    assert AuditRecord.objects.filter(action="access.denied", object_id="/enforcement/import/").exists()
    # The system administrator may.
    admin = signed_in(client, "admin")
    assert admin.get("/enforcement/import/").status_code == 200


def test_the_command_checks_unless_told_to_commit(edemo, tmp_path, capsys):
    path = tmp_path / "list.xlsx"
    path.write_bytes(_sheet(GOOD))
    call_command("enforcement", "import", str(path))
    assert (
        "dry run" in capsys.readouterr().out
        and not EnforcementItem.objects.filter(code="ZF-TEST-001").exists()
    )
    call_command("enforcement", "import", str(path), "--commit")
    assert "2 new" in capsys.readouterr().out and EnforcementItem.objects.filter(code="ZF-TEST-001").exists()
    out = tmp_path / "out.xlsx"
    call_command("enforcement", "export", "-o", str(out))
    assert ["ZF-TEST-001"] == [r[0] for r in _rows(out.read_bytes()) if r[0] == "ZF-TEST-001"]

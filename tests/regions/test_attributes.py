import io

import pytest
from openpyxl import Workbook, load_workbook

from civicgrid.regions.attributes import attributes_export, attributes_import
from civicgrid.regions.models import Region

pytestmark = pytest.mark.django_db
GRID = "32010200200101"


def test_csv_with_chinese_headers_is_a_dry_run_until_commit(demo):
    data = "编码,人口,户数,重点场所\n32010200200101,1234,456,小学；菜场\n".encode()
    report = attributes_import(name="a.csv", data=data)
    assert report.errors == [] and report.rows == 1
    assert Region.objects.get(code=GRID).population != 1234
    attributes_import(name="a.csv", data=data, commit=True)
    grid = Region.objects.get(code=GRID)
    assert (grid.population, grid.households, grid.key_places) == (1234, 456, ["小学", "菜场"])


def test_bad_rows_are_all_reported_and_nothing_is_written(demo):
    data = b"code,population\n32010200200101,10\nnope,1\n32010200200102,-5\n32010200200103,2.5\n"
    report = attributes_import(name="a.csv", data=data, commit=True)
    assert [e["row"] for e in report.errors] == [3, 4, 5]
    assert Region.objects.get(code=GRID).population != 10


def test_excel_export_reimports_unchanged(demo):
    content = attributes_export()
    sheet = load_workbook(io.BytesIO(content)).active
    assert sheet.max_row == 616 and sheet["A1"].value == "code"
    report = attributes_import(name="grids.xlsx", data=content, commit=True)
    assert report.errors == [] and report.updated == 615


def test_missing_code_column_and_unreadable_files(demo):
    book = Workbook()
    book.active.append(["population"])
    out = io.BytesIO()
    book.save(out)
    assert attributes_import(name="x.xlsx", data=out.getvalue()).errors[0]["row"] == 1
    assert attributes_import(name="x.xlsx", data=b"not excel").errors[0]["row"] == 0
    assert attributes_import(name="x.csv", data=b"\xff\xfe").errors[0]["row"] == 0

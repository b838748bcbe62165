"""`civicgrid grids …` and `civicgrid demo` as an operator uses them."""

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from civicgrid.regions.models import BoundaryGeneration, Region

from .helpers import dumps, feature, grid_collection

pytestmark = pytest.mark.django_db


def _run(*args):
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_validate_is_clean_on_the_demo(demo):
    assert "coverage is clean (683 boundaries)" in _run("grids", "validate")


def test_demo_is_idempotent(demo):
    out = _run("demo", "--cases", "0")
    assert "already loaded" in out and "admin" in out
    assert BoundaryGeneration.objects.count() == 1 and Region.objects.filter(level="grid").count() == 615


def test_import_is_a_dry_run_until_commit(demo, tmp_path):
    path = tmp_path / "grids.geojson"
    path.write_bytes(dumps(grid_collection()))
    assert "dry run: nothing written" in _run("grids", "import", str(path), "--name", "g2")
    assert not BoundaryGeneration.objects.filter(name="g2").exists()
    assert "written and activated" in _run(
        "grids", "import", str(path), "--name", "g2", "--commit", "--activate"
    )
    assert BoundaryGeneration.objects.get(name="g2").state == "active"
    assert "g2" in _run("grids", "list")


def test_a_broken_import_fails_with_located_problems(demo, tmp_path):
    collection = grid_collection()
    collection["features"].append(json.loads(json.dumps(feature(collection, "32010200200101"))))
    path = tmp_path / "bad.geojson"
    path.write_bytes(dumps(collection))
    out = StringIO()
    with pytest.raises(CommandError, match="nothing was written"):
        call_command("grids", "import", str(path), stdout=out)
    assert "[duplicate_code] 32010200200101" in out.getvalue()
    assert " at 118." in out.getvalue()


def test_bad_arguments_are_clear_errors(demo, tmp_path):
    with pytest.raises(CommandError, match="no such file"):
        _run("grids", "import", str(tmp_path / "missing.geojson"))
    with pytest.raises(CommandError, match="bad mapping"):
        path = tmp_path / "x.geojson"
        path.write_text("{}")
        _run("grids", "import", str(path), "--map", "colour=X")
    with pytest.raises(CommandError, match="generation_not_found"):
        _run("grids", "validate", "--generation", "nope")


def test_export_writes_geojson_in_the_asked_crs(demo, tmp_path):
    path = tmp_path / "out.geojson"
    call_command("grids", "export", "--level", "street", "--crs", "gcj02", "-o", str(path), stderr=StringIO())
    data = json.loads(path.read_text(encoding="utf-8"))
    assert len(data["features"]) == 7 and data["crs_note"].startswith("GCJ02")


def test_validate_reports_problems_and_fails(demo):
    BoundaryGeneration.objects.create(name="empty")
    out = StringIO()
    with pytest.raises(CommandError, match="coverage problems"):
        call_command("grids", "validate", "--generation", "empty", stdout=out)
    assert "[missing_boundary] 320102000000" in out.getvalue()


def test_attributes_go_out_to_excel_and_back(demo, tmp_path):
    path = tmp_path / "grids.xlsx"
    assert "written" in _run("grids", "export-attributes", "-o", str(path))
    assert "dry run" in _run("grids", "attributes", str(path))
    assert "updated: 615" in _run("grids", "attributes", str(path), "--commit")

"""The registry in and out of Excel: the export round-trips, the import checks every row first."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command
from openpyxl import Workbook, load_workbook

from civicgrid.accounts.models import User
from civicgrid.audit.models import AuditRecord
from civicgrid.devices.exports import devices_import, devices_xlsx
from civicgrid.devices.models import Device
from tests.cases.steps import GRID_A, GRID_B, point_in

from .conftest import CAMERA, CAMERA_B, SECRET


def sheet(rows) -> bytes:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


HEAD = ["设备编号", "名称", "类型", "经度", "纬度", "地址", "启用"]


def test_the_export_has_every_device_and_no_secret(devices):
    content = devices_xlsx(Device.objects.all())
    rows = list(load_workbook(io.BytesIO(content)).active.iter_rows(values_only=True))
    assert [r[0] for r in rows[1:]] == [CAMERA, CAMERA_B] and rows[1][2] == "摄像头" and rows[1][6] == GRID_A
    assert SECRET.encode() not in content
    assert AuditRecord.objects.filter(action="export.xlsx", object_type="devices.device").count() == 1


def test_the_export_imports_again_unchanged(devices):
    report = devices_import(name="d.xlsx", data=devices_xlsx(Device.objects.all()), commit=True)
    assert (report.errors, report.rows, report.created, report.updated) == ([], 2, 0, 0)
    assert Device.objects.get(external_id=CAMERA).secret.reveal() == SECRET


def test_an_import_registers_new_devices_with_secrets_and_updates_others(devices):
    lon, lat = point_in(GRID_B)
    data = sheet(
        [
            HEAD,
            ["CAM-X-1", "新探头", "摄像头", lon, lat, "路口", "是"],
            [CAMERA, "改名", "smoke", lon, lat, "", "否"],
        ]
    )
    report = devices_import(name="d.xlsx", data=data, commit=True)
    assert (report.errors, report.created, report.updated) == ([], 1, 1)
    new = Device.objects.get(external_id="CAM-X-1")
    assert report.secrets == [("CAM-X-1", new.secret.reveal())] and new.grid.code == GRID_B
    old = Device.objects.get(external_id=CAMERA)
    assert (old.name, old.kind, old.active, old.grid.code) == ("改名", "smoke", False, GRID_B)
    assert old.secret.reveal() == SECRET  # an update keeps the secret


def test_a_bad_row_writes_nothing_and_every_problem_is_reported(devices):
    lon, lat = point_in(GRID_A)
    data = sheet(
        [
            HEAD,
            ["CAM-X-2", "好的", "摄像头", lon, lat, "", "是"],
            ["bad id", "x", "摄像头", lon, lat, "", "是"],
            ["CAM-X-3", "x", "toaster", lon, lat, "", "是"],
            ["CAM-X-4", "x", "摄像头", "东经", lat, "", "是"],
            ["CAM-X-5", "x", "摄像头", 116.39, 39.91, "", "是"],
            ["CAM-X-6", "x", "摄像头", lon, lat, "", "也许"],
            ["CAM-X-2", "again", "摄像头", lon, lat, "", "是"],
        ]
    )
    report = devices_import(name="d.xlsx", data=data, commit=True)
    assert [e["row"] for e in report.errors] == [3, 4, 5, 6, 7, 8]
    assert Device.objects.count() == 2


@pytest.mark.parametrize(
    ("name", "data"), [("d.xlsx", b"not a workbook"), ("d.csv", "名称\n".encode()), ("d.csv", b"\xff\xfe")]
)
def test_an_unreadable_file_or_header_is_refused(devices, name, data):
    report = devices_import(name=name, data=data, commit=True)
    assert report.errors and report.errors[0]["row"] in (0, 1)
    assert Device.objects.count() == 2


def test_the_import_command_writes_secrets_to_a_private_file(devices, tmp_path, capsys):
    lon, lat = point_in(GRID_A)
    source = tmp_path / "d.xlsx"
    source.write_bytes(sheet([HEAD, ["CAM-X-7", "x", "烟感", lon, lat, "", ""]]))
    call_command("devices", "import", str(source))
    assert "dry run" in capsys.readouterr().out and not Device.objects.filter(external_id="CAM-X-7").exists()
    with pytest.raises(CommandError, match="secrets-out"):
        call_command("devices", "import", str(source), "--commit")
    out = tmp_path / "secrets.xlsx"
    call_command("devices", "import", str(source), "--commit", "--secrets-out", str(out))
    rows = list(load_workbook(out).active.iter_rows(values_only=True))
    assert rows[1] == ("CAM-X-7", Device.objects.get(external_id="CAM-X-7").secret.reveal())
    assert out.stat().st_mode & 0o077 == 0


def test_the_back_office_imports_and_shows_new_secrets_once(client, devices):
    admin = User.objects.create_superuser(username="root-test", password="x-Long-pass-1")
    client.force_login(admin)
    lon, lat = point_in(GRID_A)
    upload = io.BytesIO(sheet([HEAD, ["CAM-X-8", "x", "摄像头", lon, lat, "", "是"]]))
    upload.name = "d.xlsx"
    response = client.post("/admin/devices/device/import/", {"file": upload, "commit": "on"})
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    assert Device.objects.get(external_id="CAM-X-8").secret.reveal().encode() in response.content
    assert client.get("/admin/devices/device/").status_code == 200


def test_staff_without_back_office_rights_cannot_import(client, devices):
    client.force_login(User.objects.get(username="operator"))
    assert client.get("/admin/devices/device/import/").status_code in (302, 403)

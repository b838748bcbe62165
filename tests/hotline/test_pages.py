"""The hotline pages and API: upload → background import (Huey, run in place here) → progress and
report; triage from the page; export downloads; and who is refused (403, recorded)."""

from __future__ import annotations

import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import load_workbook

from civicgrid.accounts.models import User
from civicgrid.accounts.tokens import api_token_create
from civicgrid.audit.models import AuditRecord
from civicgrid.cases.models import Case, Channel
from civicgrid.hotline.models import BatchStatus, HotlineBatch, HotlineOrder, OrderState
from civicgrid.regions import locator
from tests.cases.steps import error_of, signed_in
from tests.hotline.conftest import as_csv, as_json, order, run

pytestmark = pytest.mark.django_db
FORBIDDEN = ["street-320102002", "resident1", "auditor"]


def upload(client, data: bytes, name: str = "orders.csv", **extra):
    return client.post("/hotline/", {"file": SimpleUploadedFile(name, data), **extra})


def test_an_upload_imports_in_the_background_and_shows_its_report(
    hotline, client, huey_immediate, django_capture_on_commit_callbacks
):
    signed_in(client, "operator")
    rows = [order("H1"), order("H2", lon="", lat="", address="不详"), order("", content="坏")]
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(client, as_csv(rows))
    assert response.status_code == 303
    batch = HotlineBatch.objects.get()
    assert response["Location"] == f"/hotline/batches/{batch.pk}/"
    assert batch.status == BatchStatus.DONE and batch.counts()["created"] == 1
    page = client.get(response["Location"])
    html = page.content.decode()
    assert page.status_code == 200 and 'data-status="done"' in html and 'data-count="triaged">1<' in html
    assert 'data-outcome="rejected"' in html and "missing_number" in html
    assert 'hx-trigger="every 1s"' not in html  # finished: no more polling
    only = client.get(f"/hotline/batches/{batch.pk}/?outcome=rejected").content.decode()
    assert 'data-outcome="created"' not in only and 'data-outcome="rejected"' in only
    fragment = client.get(f"/hotline/batches/{batch.pk}/progress", HTTP_HX_REQUEST="true")
    assert fragment["HX-Refresh"] == "true"
    report = client.get(f"/hotline/batches/{batch.pk}/report.xlsx")
    sheet = load_workbook(io.BytesIO(report.content)).worksheets[0]
    assert [row[1] for row in sheet.iter_rows(min_row=2, values_only=True)] == ["H1", "H2", None]
    home = client.get("/hotline/").content.decode()
    assert f'data-batch="{batch.pk}"' in home and 'data-triaged="1"' in home


def test_a_running_batch_polls_its_progress(hotline, client):
    signed_in(client, "operator")
    from civicgrid.hotline import services

    batch = services.batch_receive(
        user=User.objects.get(username="operator"), name="o.json", data=as_json([order("P1")])
    )
    html = client.get(f"/hotline/batches/{batch.pk}/").content.decode()
    assert 'data-status="queued"' in html and 'hx-trigger="every 1s"' in html


def test_upload_refusals_are_shown_and_recorded(hotline, client, settings):
    signed_in(client, "shiftlead")
    wrong = upload(client, b"hello", name="orders.txt")
    assert wrong.status_code == 415 and 'data-code="bad_file_type"' in wrong.content.decode()
    empty = client.post("/hotline/", {})
    assert empty.status_code == 400 and 'data-code="file_required"' in empty.content.decode()
    run([order("D1")], name="d.json")
    duplicate = upload(client, as_json([order("D1")]), name="d.json")
    assert duplicate.status_code == 409 and 'data-code="duplicate_batch"' in duplicate.content.decode()
    assert HotlineBatch.objects.filter(status=BatchStatus.REFUSED).count() == 2
    settings.HOTLINE_UPLOAD_MAX_MB = 0  # every file is then too large: refused unread
    too_large = upload(client, as_json([order("L1")]), name="l.json")
    assert too_large.status_code == 413 and 'data-code="file_too_large"' in too_large.content.decode()
    assert HotlineBatch.objects.get(file_name="l.json").status == BatchStatus.REFUSED


def test_triage_from_the_page(hotline, client):
    run([order("T1", lon="", lat="", address="不详"), order("T2", lon="", lat="", address="")])
    signed_in(client, "operator")
    page = client.get("/hotline/triage/").content.decode()
    assert 'data-order="T1"' in page and 'data-order="T2"' in page
    code = locator.communities()[0]["communities"][0]["code"]
    first = HotlineOrder.objects.get(external_number="T1")
    placed = client.post(f"/hotline/triage/{first.pk}/place", {"place": f"community:{code}"})
    assert placed.status_code == 303
    assert HotlineOrder.objects.get(pk=first.pk).case.community.code == code
    second = HotlineOrder.objects.get(external_number="T2")
    no_reason = client.post(f"/hotline/triage/{second.pk}/reject", {"reason": ""})
    assert no_reason.status_code == 303 and HotlineOrder.objects.get(pk=second.pk).state == OrderState.TRIAGED
    client.post(f"/hotline/triage/{second.pk}/reject", {"reason": "外区工单"})
    assert HotlineOrder.objects.get(pk=second.pk).state == OrderState.REJECTED
    assert 'data-empty="triage"' in client.get("/hotline/triage/").content.decode()
    missing = client.post("/hotline/triage/999999/place", {"place": f"community:{code}"})
    assert missing.status_code == 404


def test_the_export_downloads(hotline, client):
    batch = run([order("X1")])
    signed_in(client, "operator")
    got = client.get(f"/hotline/export?batch={batch.pk}&format=json")
    assert got.status_code == 200 and got["Content-Type"] == "application/json"
    assert json.loads(got.content)["orders"][0]["external_number"] == "X1"
    csv_zh = client.get("/hotline/export?from=2026-11-27&to=2026-11-27&format=csv&headers=zh")
    assert csv_zh.content.decode("utf-8-sig").startswith("工单编号,受理时间")
    assert client.get("/hotline/export?format=pdf&batch=1").status_code == 400
    assert client.get("/hotline/export?format=csv").status_code == 400  # no batch, no dates
    assert client.get("/hotline/export?from=yesterday&format=csv").status_code == 400
    assert client.get("/hotline/export?batch=abc").status_code == 404


@pytest.mark.parametrize("username", FORBIDDEN)
def test_other_roles_are_refused_every_page(hotline, client, username):
    batch = run([order("F1"), order("F2", lon="", lat="", address="不详")])
    waiting = HotlineOrder.objects.get(external_number="F2")
    signed_in(client, username)
    for url in ("/hotline/", f"/hotline/batches/{batch.pk}/", f"/hotline/batches/{batch.pk}/report.xlsx",
                f"/hotline/export?batch={batch.pk}", "/hotline/triage/"):  # fmt: skip
        assert client.get(url).status_code == 403, url
    assert upload(client, as_csv([order("F3")])).status_code == 403
    assert client.post(f"/hotline/triage/{waiting.pk}/reject", {"reason": "x"}).status_code == 403
    assert HotlineOrder.objects.get(pk=waiting.pk).state == OrderState.TRIAGED
    assert not HotlineOrder.objects.filter(external_number="F3").exists()
    assert AuditRecord.objects.filter(result="denied").exists()


def test_anonymous_visitors_are_sent_to_log_in(hotline, client):
    response = client.get("/hotline/")
    assert response.status_code == 302 and "/login" in response["Location"]


def _token(username: str, scopes: list[str]) -> dict:
    _token_row, plain = api_token_create(
        user=User.objects.get(username=username), name="hotline", scopes=scopes
    )
    return {"HTTP_AUTHORIZATION": f"Bearer {plain}"}


def test_the_api_takes_a_batch_and_reports_on_it(
    hotline, client, huey_immediate, django_capture_on_commit_callbacks
):
    auth = _token("operator", ["cases:write", "cases:read"])
    data = as_json([order("A1"), order("A2", urgency="?")])
    with django_capture_on_commit_callbacks(execute=True):
        sent = client.post("/api/v1/hotline/batches", {"file": SimpleUploadedFile("a.json", data)}, **auth)
    assert sent.status_code == 202, sent.content
    batch_id = sent.json()["id"]
    read = client.get(f"/api/v1/hotline/batches/{batch_id}", **auth).json()
    assert read["status"] == "done" and read["created"] == 1 and read["rejected"] == 1
    lines = client.get(f"/api/v1/hotline/batches/{batch_id}/lines?outcome=rejected", **auth).json()
    assert lines["count"] == 1 and lines["lines"][0]["code"] == "bad_urgency"
    error_of(client.get(f"/api/v1/hotline/batches/{batch_id}/lines?outcome=odd", **auth), 400, "bad_outcome")
    exported = client.get(f"/api/v1/hotline/export?batch={batch_id}&format=json", **auth)
    assert json.loads(exported.content)["orders"][0]["case_number"]
    again = client.post("/api/v1/hotline/batches", {"file": SimpleUploadedFile("a.json", data)}, **auth)
    error_of(again, 409, "duplicate_batch")
    wrong = client.post("/api/v1/hotline/batches", {"file": SimpleUploadedFile("a.exe", b"MZ")}, **auth)
    error_of(wrong, 415, "bad_file_type")
    error_of(client.get("/api/v1/hotline/batches/999999", **auth), 404, "batch_not_found")
    assert Case.objects.filter(channel=Channel.HOTLINE).count() == 1


def test_the_api_refuses_other_roles_and_missing_scopes(hotline, client):
    batch = run([order("B1")])
    street = _token("street-320102002", ["cases:write", "cases:read"])
    error_of(
        client.post("/api/v1/hotline/batches", {"file": SimpleUploadedFile("b.json", b"[]")}, **street),
        403,
        "hotline_forbidden",
    )
    error_of(client.get(f"/api/v1/hotline/batches/{batch.pk}", **street), 403, "hotline_forbidden")
    read_only = _token("operator", ["cases:read"])
    error_of(
        client.post("/api/v1/hotline/batches", {"file": SimpleUploadedFile("b.json", b"[]")}, **read_only),
        403,
        "token_scope",
    )
    assert client.get(f"/api/v1/hotline/batches/{batch.pk}").status_code == 401
    # A role's refusal writes no batch, but is on the audit trail.
    assert HotlineBatch.objects.count() == 1
    assert AuditRecord.objects.filter(action="hotline.batch_refused", result="denied").count() == 1


@pytest.mark.parametrize("model", ["hotlinelimit", "hotlineclassmap", "landmark", "hotlinebatch"])
def test_the_back_office_pages_work(hotline, client, model):
    run([order("AD1")])
    signed_in(client, "admin")
    assert client.get(f"/admin/hotline/{model}/").status_code == 200
    add = client.get(f"/admin/hotline/{model}/add/")
    assert add.status_code == (403 if model == "hotlinebatch" else 200)


def test_a_limit_the_clock_cannot_read_is_refused_in_the_back_office(hotline, client):
    from civicgrid.hotline.models import HotlineLimit

    signed_in(client, "admin")
    refused = client.post("/admin/hotline/hotlinelimit/add/", {"kind": "ordinary", "limit": "7天"})
    assert refused.status_code == 200 and not HotlineLimit.objects.exists()
    client.post("/admin/hotline/hotlinelimit/add/", {"kind": "ordinary", "limit": "5工作日"})
    assert HotlineLimit.objects.get().limit == "5工作日"
    assert AuditRecord.objects.filter(action="admin.create", object_type="hotline.hotlinelimit").exists()


def test_the_api_is_described_in_openapi(db, client):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    assert {"/api/v1/hotline/batches", "/api/v1/hotline/batches/{batch_id}", "/api/v1/hotline/export"} <= set(
        paths
    )

"""/api/v1/cases through Django's test client: intake with photos, lists, export, inbox, the case
with its moves, the one error shape, revealing the reporter's phone, OpenAPI and API tokens."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import load_workbook

from civicgrid.accounts.models import User
from civicgrid.accounts.tokens import api_token_create
from civicgrid.audit.models import AuditRecord
from civicgrid.cases.models import Attachment, Case, CaseEvent
from civicgrid.cases.services import Upload

from .conftest import local, report
from .steps import (
    CHIEF_A,
    GRID_A,
    GRID_B,
    GW_A,
    GW_B,
    STAFF_A,
    STREET_A,
    STREET_B,
    Frozen,
    S,
    do,
    error_of,
    jpeg,
    point_in,
    signed_in,
    walk,
)

pytestmark = pytest.mark.django_db
API = "/api/v1/cases"


def _report_form(**fields) -> dict:
    lon, lat = point_in(GRID_A)
    return {"channel": "grid_worker", "title": "电线杆上贴满小广告", "lon": lon, "lat": lat,
            "case_class": "E0201", **fields}  # fmt: skip


def test_a_report_with_a_photo_is_created_once_and_replayed_by_its_key(
    client, cases_demo, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    c = signed_in(client, GW_A)
    photo = SimpleUploadedFile("scene.jpg", jpeg(), content_type="image/jpeg")
    first = c.post(
        f"{API}/", {**_report_form(), "photos": photo}, headers={"Idempotency-Key": "api-key-0001"}
    )
    assert first.status_code == 201, first.content
    body = first.json()
    number = body["case"]["number"]
    assert body["replayed"] is False and body["case"]["state"] == "reported"
    assert body["suggestions"][0]["code"] == "E0201"
    assert [m["action"] for m in body["case"]["moves"]] == ["self_resolve", "note"]
    [attachment] = body["case"]["attachments"]
    assert attachment["purpose"] == "report" and attachment["content_type"] == "image/jpeg"
    again = c.post(f"{API}/", {**_report_form(title="另一个标题"), "photos": SimpleUploadedFile("x.jpg", jpeg())},
                   headers={"Idempotency-Key": "api-key-0001"})  # fmt: skip
    assert again.status_code == 200 and again.json()["replayed"] is True
    assert again.json()["case"]["number"] == number
    assert (Case.objects.count(), Attachment.objects.count(), CaseEvent.objects.count()) == (1, 1, 1)
    download = c.get(attachment["url"])
    assert download.status_code == 200 and download["Content-Type"] == "image/jpeg"
    assert b"".join(download.streaming_content).startswith(b"\xff\xd8")


def test_a_report_without_a_key_or_with_bad_input_is_refused_in_the_error_shape(client, cases_demo):
    c = signed_in(client, GW_A)
    error_of(c.post(f"{API}/", _report_form()), 400, "idempotency_key_required")
    error_of(c.post(f"{API}/", _report_form(lon="east"), headers={"Idempotency-Key": "api-key-0002"}),
           422, "invalid_input")  # fmt: skip
    error_of(c.post(f"{API}/", _report_form(channel="leader"), headers={"Idempotency-Key": "api-key-0003"}),
           403, "channel_forbidden")  # fmt: skip
    error_of(c.post(f"{API}/", _report_form(lon=118.6, lat=32.06), headers={"Idempotency-Key": "api-key-0004"}),
           404, "outside_district")  # fmt: skip
    assert not Case.objects.exists()


def _mixed_cases(monkeypatch):
    """Old cases (from 2 November, overdue by the 16th) and fresh ones, in grid A and grid B."""
    clock = Frozen(monkeypatch, local(2026, 11, 2, 9, 0))
    old = {"registered": walk(S.REGISTERED), "handling": walk(S.HANDLING, case_class="E0102")}
    clock.to(local(2026, 11, 16, 9, 0))
    fresh = {
        "verifying": walk(S.VERIFYING, title="小区门口有人摆摊卖菜"),
        "registered": walk(S.REGISTERED),
        "b": walk(S.REGISTERED, grid=GRID_B),
    }
    return old, fresh


def _numbers(response) -> set[str]:
    assert response.status_code == 200, response.content
    return {item["number"] for item in response.json()["items"]}


def test_the_list_filters_and_pages(client, cases_demo, monkeypatch):
    old, fresh = _mixed_cases(monkeypatch)
    c = signed_in(client, "operator")
    every = {case.number for case in [*old.values(), *fresh.values()]}
    assert _numbers(c.get(f"{API}/")) == every
    assert _numbers(c.get(f"{API}/?state=registered")) == {
        old["registered"].number, fresh["registered"].number, fresh["b"].number}  # fmt: skip
    assert _numbers(c.get(f"{API}/?state=verifying,handling")) == {
        fresh["verifying"].number,
        old["handling"].number,
    }
    assert _numbers(c.get(f"{API}/?case_class=E0102")) == {old["handling"].number}
    assert _numbers(c.get(f"{API}/?case_class=E01")) == {old["handling"].number}  # the 大类
    assert _numbers(c.get(f"{API}/?region={GRID_B}")) == {fresh["b"].number}
    assert _numbers(c.get(f"{API}/?region=320102010000")) == {fresh["b"].number}  # its street
    assert _numbers(c.get(f"{API}/?overdue=true")) == {old["registered"].number, old["handling"].number}
    assert _numbers(c.get(f"{API}/?overdue=false")) == {case.number for case in fresh.values()}
    assert _numbers(c.get(f"{API}/?q=摆摊")) == {fresh["verifying"].number}
    assert _numbers(c.get(f"{API}/?q={old['handling'].number}")) == {old["handling"].number}
    first, rest = c.get(f"{API}/?limit=2").json(), c.get(f"{API}/?offset=2").json()
    assert first["count"] == rest["count"] == 5 and not first["count_capped"]
    assert len(first["items"]) == 2 and len(rest["items"]) == 3
    assert {i["number"] for i in first["items"] + rest["items"]} == every
    newest = [i["created_at"] for i in first["items"] + rest["items"]]
    assert newest == sorted(newest, reverse=True)
    error_of(c.get(f"{API}/?limit=0"), 400, "bad_page")
    error_of(c.get(f"{API}/?limit=201"), 400, "bad_page")
    error_of(c.get(f"{API}/?state=lost"), 400, "unknown_state")
    error_of(c.get(f"{API}/?case_class=Z9"), 400, "unknown_class")
    error_of(c.get(f"{API}/?region=999"), 400, "unknown_region")
    error_of(c.get(f"{API}/?date_from=yesterday"), 400, "bad_date")


def test_the_export_opens_in_excel_and_holds_the_filtered_rows(client, cases_demo, monkeypatch):
    old, fresh = _mixed_cases(monkeypatch)
    response = signed_in(client, "operator").get(f"{API}/export.xlsx?state=registered")
    assert response.status_code == 200 and response["Content-Disposition"].endswith('filename="cases.xlsx"')
    sheet = load_workbook(io.BytesIO(response.content), read_only=True).worksheets[0]
    header, *rows = list(sheet.iter_rows(values_only=True))
    assert header[:3] == ("案件编号", "标题", "状态")
    assert {row[0] for row in rows} == {
        old["registered"].number,
        fresh["registered"].number,
        fresh["b"].number,
    }
    overdue = {row[0]: row[header.index("是否超期")] for row in rows}
    assert overdue[old["registered"].number] == "是" and overdue[fresh["b"].number] == "否"
    assert AuditRecord.objects.filter(action="export.xlsx", actor__username="operator").count() == 1
    # A street operator exports only their street.
    street = signed_in(client, STREET_B).get(f"{API}/export.xlsx")
    rows = list(
        load_workbook(io.BytesIO(street.content), read_only=True).worksheets[0].iter_rows(values_only=True)
    )
    assert [row[0] for row in rows[1:]] == [fresh["b"].number]


def test_each_persona_sees_its_own_to_do_counts(client, cases_demo):
    for state in (S.VERIFYING, S.REPORTED, S.REGISTERED, S.DISPATCHED, S.CHECKING, S.CHECKED, S.SUSPENDED):
        walk(state)
    asked = walk(S.HANDLING)
    do("dept-d01", asked, "extend_request")
    expected = {
        "operator": {"dispatch": 1},
        "shiftlead": {"register": 1, "dispatch": 1, "extension": 1, "close": 1, "suspended": 0},
        STREET_A: {"register": 1, "dispatch": 1, "close": 1},
        STREET_B: {"register": 0, "dispatch": 0, "close": 0},
        GW_A: {"verify": 1, "check": 1},
        GW_B: {"verify": 0, "check": 0},
        CHIEF_A: {"verify": 1, "check": 1},
        STAFF_A: {"verify": 1},
        "dept-d01": {"accept": 1, "handle": 1},
        "dept-d02": {"accept": 0, "handle": 0},
        "resident1": {},
        "auditor": {},
    }
    for who, counts in expected.items():
        response = signed_in(client, who).get(f"{API}/inbox")
        assert response.status_code == 200
        assert {b["key"]: b["count"] for b in response.json()} == counts, who
    listed = signed_in(client, "shiftlead").get(f"{API}/inbox/extension").json()
    assert [i["number"] for i in listed["items"]] == [asked.number]
    error_of(signed_in(client, GW_A).get(f"{API}/inbox/extension"), 400, "unknown_bucket")


def test_the_case_lists_exactly_the_moves_its_reader_may_make(client, cases_demo):
    case = walk(S.HANDLING)
    expected = {
        "dept-d01": ["feedback", "extend_request", "suspend", "pause", "note"],
        "shiftlead": ["suspend", "note"],
        "operator": ["note"],
        GW_A: ["note"],
        "resident1": None,  # not theirs: 404
    }
    for who, moves in expected.items():
        response = signed_in(client, who).get(f"{API}/{case.number}")
        if moves is None:
            error_of(response, 404, "case_not_found")
            continue
        assert response.status_code == 200
        assert [m["action"] for m in response.json()["moves"]] == moves, who
        assert all(m["label"] for m in response.json()["moves"])


def test_a_move_is_made_and_every_refusal_has_the_one_error_shape(client, cases_demo):
    case = walk(S.REGISTERED)
    c = signed_in(client, "operator")
    url = f"{API}/{case.number}/moves"
    made = c.post(
        f"{url}/dispatch", {"version": case.version, "department": "D01", "co_departments": "D02, D03"}
    )
    assert made.status_code == 200, made.content
    body = made.json()
    assert (body["state"], body["version"], body["co_departments"]) == ("dispatched", 3, ["D02", "D03"])
    assert Case.objects.get(pk=case.pk).state == S.DISPATCHED
    before = list(CaseEvent.objects.filter(case=case).values_list("seq", flat=True))

    detail = error_of(c.post(f"{url}/close", {"version": 3}), 409, "illegal_move")
    assert detail == {"state": "dispatched", "allowed": ["note"]}
    assert error_of(c.post(f"{url}/note", {"version": 2, "note": "晚了"}), 409, "stale_version") == {
        "version": 3
    }
    error_of(signed_in(client, "dept-d02").post(f"{url}/accept", {"version": 3}), 403, "move_forbidden")
    error_of(signed_in(client, "dept-d01").post(f"{url}/return", {"version": 3}), 400, "note_required")
    error_of(
        signed_in(client, GW_B).post(f"{url}/note", {"version": 3, "note": "看看"}), 404, "case_not_found"
    )
    error_of(signed_in(client, "dept-d01").post(f"{API}/320102-20991231-000001/moves/accept", {"version": 1}),
           404, "case_not_found")  # fmt: skip
    error_of(c.post(f"{url}/accept", {}), 422, "invalid_input")
    error_of(c.post(f"{url}/fly", {"version": 3}), 400, "unknown_action")
    assert list(CaseEvent.objects.filter(case=case).values_list("seq", flat=True)) == before
    assert Case.objects.get(pk=case.pk).version == 3


def test_revealing_the_reporters_phone_needs_a_reason_and_is_audited(client, cases_demo):
    case = report("operator", channel="phone", point=point_in(GRID_A), reporter_phone="13912345678")
    url = f"{API}/{case.number}/reveal"
    c = signed_in(client, "operator")
    assert c.get(f"{API}/{case.number}").json()["reporter_phone"] == "139****5678"
    for reason in ("", "  看 "):
        response = c.post(url, {"field": "reporter_phone", "reason": reason}, content_type="application/json")
        error_of(response, 400, "reason_required")
    assert not AuditRecord.objects.filter(action="pii.reveal").exists()
    error_of(c.post(url, {"field": "title", "reason": "需要联系"}, content_type="application/json"),
           400, "not_personal_data")  # fmt: skip
    error_of(signed_in(client, GW_A).post(url, {"field": "reporter_phone", "reason": "回访居民情况"},
                                  content_type="application/json"), 403, "reveal_not_allowed")  # fmt: skip
    error_of(signed_in(client, STREET_B).post(url, {"field": "reporter_phone", "reason": "回访居民情况"},
                                      content_type="application/json"), 404, "case_not_found")  # fmt: skip
    assert not AuditRecord.objects.filter(action="pii.reveal").exists()
    shown = signed_in(client, "operator").post(url, {"field": "reporter_phone", "reason": "回访居民情况"},
                                         content_type="application/json")  # fmt: skip
    assert shown.status_code == 200 and shown.json() == {"field": "reporter_phone", "value": "13912345678"}
    record = AuditRecord.objects.get(action="pii.reveal")
    assert (record.actor.username, record.object_type, record.object_id) == (
        "operator", "cases.case.reporter_phone", str(case.pk))  # fmt: skip
    assert record.detail == {"reason": "回访居民情况", "masked": "139****5678"}
    assert "13912345678" not in str(record.detail)


def test_the_openapi_document_lists_the_case_paths(client, db):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    for path in ["/", "/{number}", "/{number}/moves/{action}", "/{number}/reveal", "/inbox", "/inbox/{bucket}",
                 "/export.xlsx", "/classes", "/classes/suggest"]:  # fmt: skip
        assert f"{API}{path}" in paths, path
    assert "post" in paths[f"{API}/{{number}}/moves/{{action}}"]


def test_a_read_token_lists_but_may_not_move(client, cases_demo):
    case = walk(S.REGISTERED)
    user = User.objects.get(username="operator")
    _token, read = api_token_create(user=user, name="大屏", scopes=["cases:read"])
    _token, write = api_token_create(user=user, name="对接", scopes=["cases:read", "cases:write"])
    listed = client.get(f"{API}/", headers={"Authorization": f"Bearer {read}"})
    assert _numbers(listed) == {case.number}
    moved = client.post(f"{API}/{case.number}/moves/dispatch", {"version": case.version},
                        headers={"Authorization": f"Bearer {read}"})  # fmt: skip
    error_of(moved, 403, "token_scope")
    assert Case.objects.get(pk=case.pk).state == S.REGISTERED
    moved = client.post(f"{API}/{case.number}/moves/dispatch", {"version": case.version},
                        headers={"Authorization": f"Bearer {write}"})  # fmt: skip
    assert moved.status_code == 200 and Case.objects.get(pk=case.pk).state == S.DISPATCHED
    assert CaseEvent.objects.filter(case=case).last().actor == user
    error_of(client.get(f"{API}/", headers={"Authorization": "Bearer cg_0000_nope"}), 401, "bad_token")
    error_of(client.get(f"{API}/"), 401, "unauthenticated")


def test_a_report_just_over_the_boundary_is_made_and_answered_not_hidden(client, cases_demo):
    c = signed_in(client, GW_B)  # reporting in grid A, another street's grid
    made = c.post(f"{API}/", _report_form(), headers={"Idempotency-Key": "api-key-over-1"})
    assert made.status_code == 201, made.content
    case = Case.objects.get()
    assert made.json()["case"]["number"] == case.number and case.grid.code == GRID_A
    assert made.json()["case"]["moves"] == []
    again = c.post(f"{API}/", _report_form(), headers={"Idempotency-Key": "api-key-over-1"})
    assert again.status_code == 200 and again.json()["replayed"] is True
    assert not AuditRecord.objects.filter(action="access.denied").exists()
    # Afterwards the case is read as the scope says: it belongs to grid A's people.
    error_of(c.get(f"{API}/{case.number}"), 404, "case_not_found")
    assert signed_in(client, GW_A).get(f"{API}/{case.number}").status_code == 200


def test_a_resolution_on_the_spot_by_the_api_keeps_its_photo_as_the_after_photo(
    client, cases_demo, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    case = walk(S.REPORTED, files=[Upload("scene.jpg", jpeg())])
    url = f"{API}/{case.number}/moves/self_resolve"
    c = signed_in(client, GW_A)
    error_of(c.post(url, {"version": case.version, "note": "已清除"}), 400, "photos_required")
    done = c.post(
        url, {"version": case.version, "note": "已清除", "photos": SimpleUploadedFile("a.jpg", jpeg())}
    )
    assert done.status_code == 200 and done.json()["state"] == "checked"
    assert sorted(Attachment.objects.filter(case=case).values_list("purpose", flat=True)) == [
        "after",
        "report",
    ]


def test_a_move_sent_again_with_its_key_is_made_once_and_answered_as_the_case_is(client, cases_demo):
    """A phone's offline queue re-sends a move whose answer it lost: the same Idempotency-Key
    makes no second event (nor a stale-version refusal); another person's reuse of the key is refused."""
    case = walk(S.REGISTERED)
    c = signed_in(client, "operator")
    url = f"{API}/{case.number}/moves/dispatch"
    form = {"version": case.version, "department": "D01"}
    first = c.post(url, form, HTTP_IDEMPOTENCY_KEY="phone-key-1")
    assert first.status_code == 200 and "Idempotent-Replay" not in first.headers
    again = c.post(url, form, HTTP_IDEMPOTENCY_KEY="phone-key-1")
    assert again.status_code == 200 and again.headers["Idempotent-Replay"] == "true"
    assert again.json()["version"] == first.json()["version"] == case.version + 1
    assert CaseEvent.objects.filter(case=case, action="dispatch").count() == 1
    assert CaseEvent.objects.get(case=case, client_key="phone-key-1").action == "dispatch"
    # Without the key the same stale form is refused as before.
    error_of(c.post(url, form), 409, "stale_version")
    # The key is the operator's: the shift lead sending it is refused, and nothing moves.
    error_of(
        signed_in(client, "shiftlead").post(
            f"{API}/{case.number}/moves/note",
            {"version": case.version + 1, "note": "再看"},
            HTTP_IDEMPOTENCY_KEY="phone-key-1",
        ),
        409,
        "idempotency_key_reused",
    )
    assert Case.objects.get(pk=case.pk).version == case.version + 1

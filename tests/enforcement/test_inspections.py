"""Recording inspections through the API: answers checked against the checklist, a failed
checkpoint raising its case in one step (at once or later), replays by client key, photos."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from civicgrid.audit.models import AuditRecord
from civicgrid.cases.models import Attachment, Case, CaseState, Channel
from civicgrid.enforcement.models import Inspection, InspectionAnswer, InspectionPhoto

from ..cases.steps import GRID_A, GRID_B, error_of, jpeg, point_in, signed_in
from .conftest import GW_A, GW_B, ITEM, OFFICER_A, OFFICER_B, answers_for, inspect

API = "/api/v1/enforcement"


def _body(grid=GRID_A, *, key="phone-key-0001", answers=None, **fields) -> dict:
    lon, lat = point_in(grid)
    return {
        "item": ITEM,
        "grid": grid,
        "answers": answers if answers is not None else answers_for(),
        "lon": lon,
        "lat": lat,
        "accuracy": 6.5,
        "note": "早班巡查",
        "client_key": key,
        **fields,
    }


def _post(client, body):
    return client.post(f"{API}/inspections", body, content_type="application/json")


def test_a_failed_checkpoint_raises_its_case_in_one_step(client, edemo):
    c = signed_in(client, OFFICER_A)
    response = _post(c, _body(answers=answers_for(failed=[1, 2], raise_case=[1])))
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["failed"] == 2 and body["replayed"] is False and len(body["cases"]) == 1
    case = Case.objects.select_related("grid", "case_class").get(number=body["cases"][0])
    # Staff saw it on site: past verification (核实), in the inspection's grid, of the item's class.
    assert case.channel == Channel.INSPECTION and case.state == CaseState.REPORTED
    assert case.grid.code == GRID_A and case.case_class.code == "E0110"
    assert "人行道堆放建材" in case.description and ITEM in case.description
    inspection = Inspection.objects.get(pk=body["id"])
    raised = InspectionAnswer.objects.get(inspection=inspection, case__isnull=False)
    assert raised.case == case and raised.checkpoint.seq == 1 and raised.result == "fail"
    # The second failure raises nothing until asked to.
    assert (
        InspectionAnswer.objects.filter(inspection=inspection, result="fail", case__isnull=True).count() == 1
    )
    assert AuditRecord.objects.filter(
        action="enforcement.inspection_record", object_id=str(inspection.pk)
    ).exists()


def test_the_same_client_key_answers_the_first_result(client, edemo):
    c = signed_in(client, GW_A)
    first = _post(c, _body(answers=answers_for(failed=[2], raise_case=[2])))
    assert first.status_code == 201, first.content
    cases = Case.objects.count()
    again = _post(c, _body(answers=answers_for(failed=[2], raise_case=[2])))
    assert again.status_code == 200
    assert again.json() == {**first.json(), "replayed": True}
    assert (
        Case.objects.count() == cases and Inspection.objects.filter(client_key="phone-key-0001").count() == 1
    )


def test_answers_must_cover_every_checkpoint(client, edemo):
    c = signed_in(client, OFFICER_A)
    before = Inspection.objects.count()
    detail = error_of(_post(c, _body(answers=answers_for(skip=[3]))), 400, "answers_incomplete")
    assert len(detail["missing"]) == 1
    doubled = answers_for()
    error_of(_post(c, _body(answers=[*doubled, doubled[0]])), 400, "duplicate_answer")
    wrong = answers_for()
    wrong[0] = {**wrong[0], "checkpoint": answers_for("ZF-HW-002")[0]["checkpoint"]}
    error_of(_post(c, _body(answers=wrong)), 400, "unknown_checkpoint")
    bad = answers_for()
    bad[0] = {**bad[0], "result": "maybe"}
    error_of(_post(c, _body(answers=bad)), 400, "bad_result")
    error_of(_post(c, _body(answers=answers_for(raise_case=[1]))), 400, "not_failed")
    assert Inspection.objects.count() == before


@pytest.mark.parametrize(
    ("change", "status", "code"),
    [
        ({"lon": None}, 400, "location_required"),
        ({"item": "ZF-NOPE-001"}, 400, "unknown_item"),
        ({"grid": "nope"}, 400, "unknown_grid"),
        ({"at": "2099-01-01T08:00:00+08:00"}, 400, "bad_time"),
        ({"accuracy": -3}, 400, "bad_accuracy"),
    ],
)
def test_bad_input_is_refused_with_a_code(client, edemo, change, status, code):
    error_of(_post(signed_in(client, OFFICER_A), {**_body(), **change}), status, code)


def test_the_position_must_lie_in_the_grid(client, edemo):
    lon, lat = point_in(GRID_B)
    detail = error_of(_post(signed_in(client, OFFICER_A), _body(lon=lon, lat=lat)), 422, "outside_grid")
    assert detail == {"grid": GRID_A, "located": GRID_B}


def test_only_officers_and_grid_workers_of_the_grid_inspect(client, edemo):
    error_of(_post(signed_in(client, GW_B), _body()), 403, "inspection_forbidden")
    error_of(_post(signed_in(client, OFFICER_B), _body()), 403, "inspection_forbidden")
    error_of(_post(signed_in(client, "operator"), _body()), 403, "inspection_forbidden")
    assert _post(signed_in(client, None), _body()).status_code == 401
    assert not Inspection.objects.filter(client_key="phone-key-0001").exists()


def test_a_case_raised_later_once_and_only_from_a_failure(client, edemo):
    recorded = inspect(GW_A, answers=answers_for(failed=[1]))
    failed, passed = (a["checkpoint"] for a in answers_for()[:2])
    c = signed_in(client, GW_A)
    url = f"{API}/inspections/{recorded.inspection.pk}/cases"
    error_of(c.post(url, {"checkpoint": passed}, content_type="application/json"), 409, "not_failed")
    response = c.post(url, {"checkpoint": failed}, content_type="application/json")
    assert response.status_code == 201, response.content
    case = Case.objects.get(number=response.json()["number"])
    assert case.channel == Channel.INSPECTION and case.grid.code == GRID_A
    again = c.post(url, {"checkpoint": failed}, content_type="application/json")
    assert error_of(again, 409, "case_already_raised") == {"number": case.number}
    # Someone who cannot see the inspection gets 404, as for one that does not exist.
    other = signed_in(client, GW_B).post(url, {"checkpoint": failed}, content_type="application/json")
    error_of(other, 404, "inspection_not_found")
    assert InspectionAnswer.objects.filter(inspection=recorded.inspection, case__isnull=False).count() == 1


def test_multipart_with_photos_attaches_them_to_the_case(client, edemo):
    body = _body(answers=answers_for(failed=[1], raise_case=[1]), key="multipart-0001")
    fields = {k: ("" if v is None else v) for k, v in body.items() if k != "answers"}
    fields["answers"] = json.dumps(body["answers"])
    fields["task"] = ""
    photos = [SimpleUploadedFile("a.jpg", jpeg(gps=True)), SimpleUploadedFile("b.jpg", jpeg((0, 90, 0)))]
    response = signed_in(client, GW_A).post(f"{API}/inspections", {**fields, "photos": photos})
    assert response.status_code == 201, response.content
    inspection = Inspection.objects.get(pk=response.json()["id"])
    stored = list(InspectionPhoto.objects.filter(inspection=inspection))
    assert len(stored) == 2 and stored[0].gps_lat is not None
    case = Case.objects.get(number=response.json()["cases"][0])
    assert Attachment.objects.filter(case=case, purpose="report", kind="image").count() == 2
    detail = client.get(f"{API}/inspections/{inspection.pk}").json()
    assert detail["answers"][0]["case"] == case.number and len(detail["photos"]) == 2
    photo = client.get(detail["photos"][0]["url"])
    assert photo.status_code == 200 and photo["Content-Type"] == "image/jpeg"
    # A worker of another grid sees neither the inspection nor its photo.
    c = signed_in(client, GW_B)
    error_of(c.get(f"{API}/inspections/{inspection.pk}"), 404, "inspection_not_found")
    assert c.get(detail["photos"][0]["url"]).status_code == 404


def test_a_file_that_is_no_photo_is_refused(client, edemo):
    body = _body(key="multipart-0002")
    fields = {k: v for k, v in body.items() if k != "answers"} | {"answers": json.dumps(body["answers"])}
    pdf = SimpleUploadedFile("a.pdf", b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF")
    response = signed_in(client, GW_A).post(f"{API}/inspections", {**fields, "photos": [pdf]})
    error_of(response, 400, "upload_type")
    bad_json = {**fields, "answers": "[{"}
    error_of(client.post(f"{API}/inspections", bad_json), 422, "invalid_input")
    assert not Inspection.objects.filter(client_key="multipart-0002").exists()

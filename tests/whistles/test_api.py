"""/api/v1/whistles through Django's test client: blow, replay, refusals in the one error shape,
list, detail, report-in, meetings, close, figures, limits, tokens — and what each role may not."""

from __future__ import annotations

import pytest

from civicgrid.accounts.models import User
from civicgrid.accounts.tokens import api_token_create
from civicgrid.whistles.models import Summons, Whistle

from ..cases.steps import GRID_A, S, error_of, signed_in, walk
from .conftest import GW_A, STREET_A, STREET_B, blow

API = "/api/v1/whistles"
BLOW = {
    "kind": "tough",
    "departments": ["D01", "D02"],
    "lead": "D01",
    "title": "违规占道经营",
    "place": "珠江路口",
}


def _blow(c, body=BLOW, key="api-whistle-0001"):
    return c.post(f"{API}/", body, content_type="application/json", headers={"Idempotency-Key": key})


def test_a_street_blows_and_a_replay_returns_the_same_whistle(client, wdemo):
    c = signed_in(client, STREET_A)
    first = _blow(c)
    assert first.status_code == 201, first.content
    whistle = first.json()["whistle"]
    assert whistle["kind"] == "tough" and whistle["state"] == "open" and whistle["lead"] == "D01"
    assert [s["department"] for s in whistle["summonses"]] == ["D01", "D02"]
    assert {s["status"] for s in whistle["summonses"]} == {"waiting"}
    again = _blow(c)
    assert again.status_code == 200 and again.json()["replayed"] is True
    assert again.json()["whistle"]["number"] == whistle["number"] and Whistle.objects.count() == 1


def test_a_whistle_on_a_case(client, wdemo):
    case = walk(S.REGISTERED, grid=GRID_A)
    response = _blow(
        signed_in(client, STREET_A), {"kind": "emergency", "departments": ["D05"], "case": case.number}
    )
    assert response.status_code == 201, response.content
    assert response.json()["whistle"]["case"] == case.number


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({**BLOW, "departments": ["D01", "NOPE"]}, 400, "unknown_department"),
        ({**BLOW, "departments": []}, 400, "departments_required"),
        ({**BLOW, "departments": ["D01", "D01"]}, 400, "duplicate_departments"),
        ({**BLOW, "lead": "D09"}, 400, "lead_not_summoned"),
        ({**BLOW, "kind": "loud"}, 400, "unknown_kind"),
        ({**BLOW, "case": "320102-20260101-999999"}, 404, "case_not_found"),
        ({**BLOW, "region": "320102010000"}, 403, "whistle_forbidden"),
    ],
)
def test_bad_whistles_are_refused_in_the_one_error_shape(client, wdemo, body, status, code):
    error_of(_blow(signed_in(client, STREET_A), body), status, code)
    assert not Whistle.objects.exists() and not Summons.objects.exists()


def test_a_body_that_does_not_fit_is_invalid_input(client, wdemo):
    c = signed_in(client, STREET_A)
    error_of(_blow(c, {"kind": "tough"}), 422, "invalid_input")
    error_of(c.post(f"{API}/", BLOW, content_type="application/json"), 400, "idempotency_key_required")


def test_departments_report_in_and_the_list_shows_it(client, wdemo):
    number = _blow(signed_in(client, STREET_A)).json()["whistle"]["number"]
    d01 = signed_in(client, "dept-d01")
    done = d01.post(
        f"{API}/{number}/report-in",
        {"attendees": "王伟", "where": "路口东侧"},
        content_type="application/json",
    )
    assert done.status_code == 200, done.content
    row = next(s for s in done.json()["summonses"] if s["department"] == "D01")
    assert row["status"] == "on_time" and row["attendees"] == "王伟" and row["reported_by"]
    again = d01.post(f"{API}/{number}/report-in", {"attendees": "王伟"}, content_type="application/json")
    error_of(again, 409, "already_reported")
    other = d01.post(
        f"{API}/{number}/report-in",
        {"attendees": "王伟", "department": "D02"},
        content_type="application/json",
    )
    error_of(other, 403, "not_your_department")
    listed = signed_in(client, "dept-d02").get(f"{API}/?state=open")
    assert listed.status_code == 200 and [w["number"] for w in listed.json()["items"]] == [number]
    assert signed_in(client, "dept-d03").get(f"{API}/").json() == {"count": 0, "items": []}


def test_who_may_not_read(client, wdemo):
    number = blow(STREET_A).number
    error_of(signed_in(client, GW_A).get(f"{API}/"), 403, "whistles_forbidden")
    error_of(signed_in(client, GW_A).get(f"{API}/figures"), 403, "whistles_forbidden")
    error_of(signed_in(client, GW_A).get(f"{API}/{number}"), 404, "whistle_not_found")
    error_of(signed_in(client, STREET_B).get(f"{API}/{number}"), 404, "whistle_not_found")
    error_of(signed_in(client, "dept-d03").get(f"{API}/{number}"), 404, "whistle_not_found")
    error_of(signed_in(client, "resident1").get(f"{API}/"), 403, "whistles_forbidden")
    error_of(signed_in(client, None).get(f"{API}/"), 401, "unauthenticated")
    assert signed_in(client, "dept-d01").get(f"{API}/{number}").status_code == 200


def test_meetings_close_figures_and_limits(client, wdemo):
    c = signed_in(client, STREET_A)
    number = _blow(c).json()["whistle"]["number"]
    meeting = {
        "attendees": "街道、城管、住建",
        "agreed": "城管牵头清理，住建配合",
        "tasks": [{"department": "D01", "task": "清理摊点", "due": "2030-01-01"}],
    }
    made = c.post(f"{API}/{number}/meetings", meeting, content_type="application/json")
    assert made.status_code == 201, made.content
    assert made.json()["meetings"][0]["tasks"][0]["task"] == "清理摊点"
    bad = {**meeting, "tasks": [{"department": "D07", "task": "x", "due": "2030-01-01"}]}
    error_of(
        c.post(f"{API}/{number}/meetings", bad, content_type="application/json"),
        400,
        "task_department_not_summoned",
    )
    error_of(
        signed_in(client, "dept-d01").post(
            f"{API}/{number}/close", {"result": "完成"}, content_type="application/json"
        ),
        403,
        "close_forbidden",
    )
    closed = signed_in(client, STREET_A).post(
        f"{API}/{number}/close", {"result": "已清理"}, content_type="application/json"
    )
    assert closed.status_code == 200 and closed.json()["state"] == "closed"
    figures = c.get(f"{API}/figures?date_from=2026-01-01")
    assert figures.status_code == 200 and figures.json()["total"] == 1
    assert figures.json()["resolution"]["closed"] == 1
    error_of(c.get(f"{API}/figures?date_from=soon"), 400, "bad_date")
    limits = {row["kind"]: row for row in c.get(f"{API}/limits").json()}
    assert limits["emergency"]["limit"] == "30分钟" and limits["emergency"]["working_time"] is False
    assert limits["tough"]["limit"] == "4工作时" and limits["routine"]["limit"] == "1工作日"


def test_a_read_token_reads_but_may_not_blow(client, wdemo):
    blow(STREET_A)
    _token, secret = api_token_create(
        user=User.objects.get(username=STREET_A), name="dash", scopes=["cases:read"]
    )
    client.logout()
    auth = {"Authorization": f"Bearer {secret}"}
    assert client.get(f"{API}/", headers=auth).json()["count"] == 1
    refused = client.post(
        f"{API}/", BLOW, content_type="application/json", headers={**auth, "Idempotency-Key": "tok-0000001"}
    )
    assert refused.status_code in (401, 403)
    assert Whistle.objects.count() == 1

"""Who sees opinion monitoring (page and API) — and who must not: the district's staff every
street and the district, a street operator their street only, anyone else nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest

from civicgrid.accounts.tokens import api_token_create
from civicgrid.audit.models import AuditRecord
from civicgrid.insight import opinion
from civicgrid.insight.models import Alert, OpinionWeek, WatchTerm
from civicgrid.regions.models import Region

from ..cases.steps import CHIEF_A, GRID_A, GRID_B, GW_A, STREET_A, error_of, signed_in
from .test_opinion import STREET_A as STREET_A_CODE
from .test_opinion import STREET_B as STREET_B_CODE
from .test_opinion import WEEK, said

API = "/api/v1/insight/opinion/"
PAGE = "/command/opinion/"


@pytest.fixture
def opinions(idemo):
    opinion.forget()
    WatchTerm.objects.create(term="违章搭建", severity=2)
    for grid in (GRID_A, GRID_A, GRID_B, GRID_B):
        said("违章搭建，没人管", WEEK + timedelta(days=1), grid=grid)
    said("违章搭建", WEEK + timedelta(days=2), grid=GRID_B)
    opinion.opinion_weeks_compute(start=WEEK)
    opinion.watch_scan(start=WEEK, end=WEEK + timedelta(days=6))
    yield idemo
    opinion.forget()


def _api(client, who: str, **params):
    params.setdefault("week", WEEK.isoformat())
    return signed_in(client, who).get(API, params)


def test_the_district_sees_the_district_and_every_street(client, opinions):
    body = _api(client, "operator").json()
    assert body["street"] is None and len(body["streets"]) == 7
    assert (body["texts"], body["negative"], body["top_terms"][0]) == (
        5,
        4,
        {"term": "违章搭建", "texts": 5, "share": 1.0},
    )
    assert {h["street"] for h in body["hits"]} == {STREET_A_CODE, STREET_B_CODE}
    by_street = {s["street"]["code"]: (s["texts"], s["negative"], s["top_terms"]) for s in body["by_street"]}
    assert len(by_street) == 7 and by_street[STREET_A_CODE] == (2, 2, ["没人管", "违章搭建"])
    assert by_street[STREET_B_CODE] == (3, 2, ["违章搭建", "没人管"]) and by_street["320102003000"] == (
        0,
        0,
        [],
    )
    one = _api(client, "operator", street=STREET_B_CODE).json()
    assert (one["street"]["code"], one["texts"], [h["texts"] for h in one["hits"]]) == (
        STREET_B_CODE,
        3,
        [1, 2],
    )
    assert len(one["trend"]) == 52 and one["trend"][-1] == {
        "week": WEEK.isoformat(),
        "texts": 3,
        "negative": 2,
        "share": 0.6667,
    }


def test_a_street_operator_sees_its_street_only(client, opinions):
    body = _api(client, STREET_A).json()
    assert body["street"]["code"] == STREET_A_CODE and [s["code"] for s in body["streets"]] == [STREET_A_CODE]
    assert (body["texts"], [h["street"] for h in body["hits"]]) == (2, [STREET_A_CODE])
    assert body["by_street"] == []  # no other street to compare with
    error_of(_api(client, STREET_A, street=STREET_B_CODE), 404, "unknown_region")
    page = signed_in(client, STREET_A).get(PAGE, {"week": WEEK.isoformat()})
    assert page.status_code == 200
    assert page.context["view"].street.code == STREET_A_CODE
    assert {a.street.code for a in page.context["view"].hits} == {STREET_A_CODE}
    assert STREET_B_CODE not in page.content.decode()
    assert signed_in(client, STREET_A).get(PAGE, {"street": STREET_B_CODE}).status_code == 404


@pytest.mark.parametrize("who", [CHIEF_A, GW_A, "resident1", "dept-d01", "auditor"])
def test_communities_grids_residents_departments_and_auditors_see_nothing(client, opinions, who):
    error_of(_api(client, who), 403, "opinion_forbidden")
    page = signed_in(client, who).get(PAGE)
    assert page.status_code == 403 and page.context["error"].code == "opinion_forbidden"
    assert AuditRecord.objects.filter(action="access.denied", object_type="insight.opinion").exists()


def test_nobody_signed_in_is_asked_to(client, opinions):
    error_of(signed_in(client, None).get(API), 401, "unauthenticated")
    assert signed_in(client, None).get(PAGE).status_code == 302


def test_a_token_needs_the_insight_scope(client, opinions):
    from civicgrid.accounts.models import User

    operator = User.objects.get(username="operator")
    _row, good = api_token_create(user=operator, name="screen", scopes=["insight:read"])
    _row, other = api_token_create(user=operator, name="cases", scopes=["cases:read"])
    client.logout()
    ok = client.get(API, {"week": WEEK.isoformat()}, HTTP_AUTHORIZATION=f"Bearer {good}")
    assert ok.status_code == 200 and ok.json()["texts"] == 5
    refused = client.get(API, HTTP_AUTHORIZATION=f"Bearer {other}")
    assert refused.status_code in (401, 403)


def test_a_bad_week_is_a_400(client, opinions):
    for week in ("2026-13-01", "0001-01-01", "2026-W54", "2026-02-30T10:00"):
        error_of(_api(client, "operator", week=week), 400, "bad_week")
    page = signed_in(client, "operator").get(PAGE, {"week": "next tuesday"})
    assert page.status_code == 400 and page.context["error"].code == "bad_week"


def test_the_district_recomputes_a_week_and_the_audit_trail_says_so(client, opinions):
    OpinionWeek.objects.all().delete()
    Alert.objects.all().delete()
    done = signed_in(client, "operator").post(f"{PAGE}compute/", {"week": WEEK.isoformat()})
    assert done.status_code == 302
    assert OpinionWeek.objects.get(week=WEEK, street_id=0).texts == 5 and Alert.objects.count() == 3
    record = AuditRecord.objects.get(action="insight.opinion_compute")
    assert record.object_id == WEEK.isoformat() and record.detail["texts"] == 5

    refused = signed_in(client, STREET_A).post(f"{PAGE}compute/", {"week": WEEK.isoformat()})
    assert (
        refused.status_code == 403
        and AuditRecord.objects.filter(action="insight.opinion_compute").count() == 1
    )
    street_b = Region.objects.get(code=STREET_B_CODE)
    assert OpinionWeek.objects.get(week=WEEK, street_id=street_b.pk).texts == 3


def test_the_watch_list_is_edited_in_the_back_office_and_audited(client, idemo):
    admin = signed_in(client, "admin")
    assert admin.get("/admin/insight/watchterm/").status_code == 200
    reply = admin.post(
        "/admin/insight/watchterm/add/", {"term": "燃气泄漏", "severity": 3, "note": "", "active": "on"}
    )
    assert reply.status_code == 302, reply.content.decode()[:2000]
    term = WatchTerm.objects.get(term="燃气泄漏")
    assert term.severity == 3 and term.active
    record = AuditRecord.objects.get(action="admin.create", object_type="insight.watchterm")
    assert record.object_id == str(term.pk)
    assert signed_in(client, "operator").get("/admin/insight/watchterm/").status_code in (302, 403)

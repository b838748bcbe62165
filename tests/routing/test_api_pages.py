"""The routing API (/api/v1/routing/), the level on case create, the case page's tier panel and the
phone page /routing/: what each persona may and may not do there."""

from __future__ import annotations

import uuid

import pytest

from civicgrid.cases.models import Case, CaseEvent, CaseState, Tier
from civicgrid.routing import rules
from tests.cases.steps import GRID_A, GRID_A2, GW_A, error_of, point_in, signed_in

from .conftest import BL_A, OC_A, family_case, report

pytestmark = pytest.mark.usefixtures("cases_demo")
S = CaseState


def post_json(client, url: str, body: dict):
    return client.post(url, body, content_type="application/json")


def test_it_takes_the_level_on_create_and_shows_level_and_tier(client):
    signed_in(client, GW_A)
    lon, lat = point_in(GRID_A)
    form = {"channel": "grid_worker", "title": "邻里噪音", "lon": lon, "lat": lat, "level": "neighbourhood"}
    response = client.post("/api/v1/cases/", form, headers={"Idempotency-Key": uuid.uuid4().hex})
    assert response.status_code == 201, response.content
    body = response.json()["case"]
    assert (body["level"], body["tier"], body["state"]) == ("neighbourhood", "building", S.HANDLING)
    assert body["tier_deadline"]
    listed = client.get("/api/v1/cases/").json()["items"]
    assert {(c["number"], c["tier"]) for c in listed} >= {(body["number"], "building")}


def test_it_refuses_an_unknown_level_on_create(client):
    signed_in(client, GW_A)
    lon, lat = point_in(GRID_A)
    form = {"channel": "grid_worker", "title": "邻里噪音", "lon": lon, "lat": lat, "level": "planet"}
    before = Case.objects.count()
    error_of(
        client.post("/api/v1/cases/", form, headers={"Idempotency-Key": uuid.uuid4().hex}),
        400,
        "unknown_level",
    )
    assert Case.objects.count() == before


def test_the_api_resolves_escalates_and_sends_down(client):
    case = family_case()
    signed_in(client, BL_A)
    listed = client.get("/api/v1/routing/cases").json()
    assert [c["number"] for c in listed["items"]] == [case.number]
    assert listed["items"][0]["moves"] == [rules.RESOLVE, rules.ESCALATE]
    # Escalated above the leader's tier: answered, but out of their sight from now on.
    moved = post_json(
        client, f"/api/v1/routing/cases/{case.number}/escalate", {"version": 1, "reason": "需业委会"}
    )
    assert moved.status_code == 200, moved.content
    assert (moved.json()["tier"], moved.json()["visible"], moved.json()["moves"]) == ("estate", False, [])
    assert client.get(f"/api/v1/cases/{case.number}").status_code == 404
    signed_in(client, OC_A)
    down = post_json(
        client,
        f"/api/v1/routing/cases/{case.number}/send-down",
        {"version": 2, "reason": "只涉及一户", "to_tier": "building"},
    )
    assert down.status_code == 200 and down.json()["tier"] == "building"
    signed_in(client, BL_A)
    done = post_json(
        client, f"/api/v1/routing/cases/{case.number}/resolve", {"version": 3, "reason": "已调解"}
    )
    assert done.status_code == 200 and done.json()["state"] == S.CHECKING
    assert list(CaseEvent.objects.filter(case=case).values_list("action", flat=True).order_by("seq")) == [
        "report",
        rules.ESCALATE,
        rules.SEND_DOWN,
        rules.RESOLVE,
    ]


def test_the_api_refuses_bad_input_and_other_personas(client):
    case = family_case()
    signed_in(client, BL_A)
    url = f"/api/v1/routing/cases/{case.number}"
    error_of(post_json(client, f"{url}/escalate", {"version": 1, "reason": ""}), 400, "reason_required")
    error_of(post_json(client, f"{url}/escalate", {"version": 9, "reason": "x"}), 409, "stale_version")
    error_of(post_json(client, f"{url}/send-down", {"version": 1, "reason": "x"}), 409, "no_lower_tier")
    assert post_json(client, f"{url}/escalate", {"reason": "x"}).status_code in (400, 422)  # no version
    error_of(client.get("/api/v1/routing/cases?tier=street"), 400, "unknown_tier")
    signed_in(client, GW_A)  # sees the case in the grid, does not own the tier
    error_of(post_json(client, f"{url}/resolve", {"version": 1, "reason": "x"}), 403, "move_forbidden")
    signed_in(client, f"bl-{GRID_A2}")  # another grid's leader: as if it did not exist
    error_of(post_json(client, f"{url}/resolve", {"version": 1, "reason": "x"}), 404, "case_not_found")
    assert client.get("/api/v1/routing/cases").json()["count"] == 0
    signed_in(client, None)
    assert post_json(client, f"{url}/resolve", {"version": 1, "reason": "x"}).status_code == 401
    case.refresh_from_db()
    assert (case.version, case.tier, case.state) == (1, Tier.BUILDING, S.HANDLING)


def test_the_config_endpoint_shows_the_ladder(client):
    signed_in(client, BL_A)
    body = client.get("/api/v1/routing/config").json()
    assert [t["tier"] for t in body["tiers"]] == ["building", "estate", "community", "street"]
    assert body["tiers"][0]["limit"] == "3工作日" and body["first_tier"]["family"] == "building"


def test_the_case_page_shows_the_tier_and_its_moves(client):
    case = family_case()
    signed_in(client, BL_A)
    page = client.get(f"/cases/{case.number}/").content.decode()
    assert (
        'data-field="tier"' in page and 'data-level="family"' in page and 'data-field="tier-deadline"' in page
    )
    assert f'action="/routing/cases/{case.number}/tier_resolve"' in page
    assert "tier_send_down" not in page  # the bottom tier
    signed_in(client, GW_A)
    page = client.get(f"/cases/{case.number}/").content.decode()
    assert 'data-tier="building"' in page and "/routing/cases/" not in page  # sees, may not move


def test_the_page_forms_move_the_case_and_show_refusals(client):
    case = family_case()
    signed_in(client, BL_A)
    url = f"/routing/cases/{case.number}/"
    refused = client.post(url + rules.ESCALATE, {"version": case.version, "reason": ""})
    assert refused.status_code == 400 and 'data-code="reason_required"' in refused.content.decode()
    assert client.post(url + "fly", {"version": 1, "reason": "x"}).status_code == 404
    assert client.post(url + rules.ESCALATE, {"reason": "x"}).status_code == 400  # no version
    done = client.post(url + rules.RESOLVE, {"version": case.version, "reason": "双方和解"})
    assert done.status_code == 303 and done["Location"] == f"/cases/{case.number}/"
    case.refresh_from_db()
    assert case.state == S.CHECKING
    signed_in(client, f"bl-{GRID_A2}")
    assert client.post(url + rules.ESCALATE, {"version": case.version, "reason": "x"}).status_code == 404


def test_an_escalation_by_page_goes_back_to_the_list(client):
    case = family_case()
    signed_in(client, BL_A)
    moved = client.post(f"/routing/cases/{case.number}/{rules.ESCALATE}", {"version": 1, "reason": "需协调"})
    assert moved.status_code == 303 and moved["Location"] == "/routing/"


def test_the_tier_list_page_shows_only_what_the_reader_may_see(client):
    own = family_case()
    other = family_case(GRID_A2)
    street = report(GW_A, point=point_in(GRID_A))
    signed_in(client, BL_A)
    page = client.get("/routing/").content.decode()
    assert own.number in page and other.number not in page and street.number not in page
    assert client.get("/routing/?tier=street").status_code == 400
    signed_in(client, "operator")
    page = client.get("/routing/?tier=building").content.decode()
    assert own.number in page and other.number in page and street.number not in page
    signed_in(client, None)
    assert client.get("/routing/").status_code == 302


def test_the_to_do_page_leads_tier_owners_to_their_list(client):
    signed_in(client, BL_A)
    assert 'href="/routing/"' in client.get("/cases/").content.decode()

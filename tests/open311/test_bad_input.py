"""Every refusal: the spec's error list (JSON and XML) with its HTTP status, nothing written, and
a refused post on the audit trail."""

from __future__ import annotations

from datetime import timedelta

import pytest
from defusedxml import ElementTree
from django.utils import timezone

from civicgrid.accounts.models import ApiToken, User
from civicgrid.accounts.tokens import api_token_create, api_token_revoke
from civicgrid.audit.models import AuditRecord
from civicgrid.cases.models import Case
from civicgrid.errors import DomainError
from civicgrid.open311.models import ServiceRequest
from tests.cases.steps import GRID_A, point_in

pytestmark = pytest.mark.django_db
BASE = "/open311/v2"


def _form(api_key: str, **fields) -> dict:
    lon, lat = point_in(GRID_A)
    return {
        "api_key": api_key,
        "service_code": "E0201",
        "lat": lat,
        "long": lon,
        "description": "小广告",
        **fields,
    }


def _refused(response, status: int, code: str) -> str:
    """The spec's JSON error list with one error; returns its description."""
    assert response.status_code == status, response.content
    (error,) = response.json()
    assert error["code"] == status and f"({code})" in error["description"], error
    return error["description"]


def _nothing_written(before: int) -> None:
    assert Case.objects.count() == before and ServiceRequest.objects.count() == 0


def _key(user: str, scopes=("cases:write",)) -> tuple[ApiToken, str]:
    return api_token_create(user=User.objects.get(username=user), name="t", scopes=list(scopes))


@pytest.mark.parametrize(
    ("fields", "status", "code"),
    [
        ({"service_code": ""}, 400, "service_code_required"),
        ({"service_code": "E9999"}, 404, "unknown_service"),
        ({"service_code": "E02"}, 404, "unknown_service"),  # a 大类 is not a service
        ({"lat": "", "long": ""}, 400, "location_required"),
        ({"long": ""}, 400, "location_incomplete"),
        ({"lat": "north"}, 400, "bad_coordinates"),
        ({"lat": "nan"}, 400, "bad_coordinates"),
        ({"lat": "95"}, 400, "bad_coordinates"),
        ({"lat": "39.9042", "long": "116.4074"}, 400, "outside_district"),  # Beijing: no grid of ours
        ({"lat": "", "long": "", "address_string": "北京市东城区"}, 400, "address_not_placed"),
        ({"lat": "", "long": "", "address_id": "999"}, 400, "unknown_address_id"),
        ({"attribute[urgency]": "asap"}, 400, "bad_attribute_value"),
        ({"attribute[colour]": "red"}, 400, "unknown_attribute"),
        ({"attribute[urgency][]": "urgent"}, 400, "bad_attribute"),
        ({"attribute": "urgent"}, 400, "bad_attribute"),
        ({"description": "<script>alert(1)</script>"}, 400, "html_not_allowed"),
        ({"description": "长" * 4001}, 400, "text_too_long"),
        ({"description": "长" * 2001}, 400, "text_too_long"),  # the case's own limit
        ({"phone": "1" * 40}, 400, "text_too_long"),
        ({"media_url": "javascript:alert(1)"}, 400, "bad_media_url"),
        ({"jurisdiction_id": "110101"}, 404, "unknown_jurisdiction"),
    ],
)
def test_it_refuses_a_malformed_post_records_it_and_keeps_nothing(client, api_key, fields, status, code):
    before, audited = Case.objects.count(), AuditRecord.objects.filter(action="open311.post_refused").count()
    response = client.post(f"{BASE}/requests.json", _form(api_key, **fields))
    _refused(response, status, code)
    _nothing_written(before)
    record = AuditRecord.objects.filter(action="open311.post_refused").order_by("-id").first()
    assert AuditRecord.objects.filter(action="open311.post_refused").count() == audited + 1
    assert record.result == "failure" and record.detail["status"] == status
    assert record.actor_id == User.objects.get(username="operator").pk
    assert api_key not in str(record.detail)


def test_it_refuses_a_post_without_a_usable_api_key_with_403(client, cases_demo):
    before = Case.objects.count()
    revoked_row, revoked = _key("operator")
    api_token_revoke(token=revoked_row)
    expired_row, expired = _key("operator")
    ApiToken.objects.filter(pk=expired_row.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    _row, read_only = _key("operator", scopes=("cases:read",))
    _row, grid_worker = _key(f"gw-{GRID_A}")  # may not take reports in by Open311
    cases = [
        ("", "api_key_required"),
        ("cg_nope_nope", "bad_token"),
        ("garbage", "bad_token"),
        (revoked, "token_revoked"),
        (expired, "token_expired"),
        (read_only, "token_scope"),
        (grid_worker, "channel_forbidden"),
    ]
    _refused(client.post(f"{BASE}/requests.json?api_key={read_only}", _form("")), 403, "api_key_required")
    for key, code in cases:
        denied = AuditRecord.objects.filter(action="access.denied").count()
        _refused(client.post(f"{BASE}/requests.json", _form(key)), 403, code)
        assert AuditRecord.objects.filter(action="access.denied").count() == denied + 1, code
    _nothing_written(before)


def test_it_answers_errors_in_xml_as_the_spec_shows(client, api_key):
    response = client.post(f"{BASE}/requests.xml", _form(api_key, service_code="E9999"))
    assert response.status_code == 404 and response["Content-Type"].startswith("text/xml")
    root = ElementTree.fromstring(response.content)
    assert root.tag == "errors"
    (error,) = list(root)
    assert (
        error.tag == "error"
        and error.findtext("code") == "404"
        and "unknown_service" in error.findtext("description")
    )


def test_it_refuses_a_csrf_free_post_only_on_requests(client, cases_demo):
    # Every other resource is read-only: a POST there is refused, not executed.
    response = client.post(f"{BASE}/services.json", {"x": "1"})
    assert response.status_code == 400 and "method_not_allowed" in response.json()[0]["description"]


@pytest.mark.parametrize(
    ("path", "params", "status", "code"),
    [
        ("requests", {"start_date": "yesterday"}, 400, "bad_date"),
        (
            "requests",
            {"start_date": "2026-01-01T00:00:00+08:00", "end_date": "2026-06-01T00:00:00+08:00"},
            400,
            "date_range_too_long",
        ),
        ("requests", {"start_date": "2026-06-01", "end_date": "2026-05-01"}, 400, "bad_date_range"),
        ("requests", {"status": "pending"}, 400, "bad_status"),
        ("requests", {"service_code": "E9999"}, 400, "unknown_service"),
        ("requests", {"jurisdiction_id": "sfgov.org"}, 404, "unknown_jurisdiction"),
        ("requests", {"service_request_id": ",".join(["x"] * 201)}, 400, "too_many_ids"),
        ("requests/320102-20260101-999999", {}, 404, "request_not_found"),
        ("tokens/no-such-token", {}, 404, "token_not_found"),
        ("services/E9999", {}, 404, "unknown_service"),
        ("services", {"jurisdiction_id": "x"}, 404, "unknown_jurisdiction"),
    ],
)
def test_it_refuses_bad_reads_with_the_spec_error(client, cases_demo, path, params, status, code):
    _refused(client.get(f"{BASE}/{path}.json", params), status, code)


def test_it_refuses_an_unknown_format(client, cases_demo):
    response = client.get(f"{BASE}/services.csv")
    assert response.status_code == 404 and response["Content-Type"].startswith("text/xml")


def test_it_accepts_the_configured_domain_as_jurisdiction(client, cases_demo, settings):
    settings.OPEN311_JURISDICTION_DOMAIN = "xuanwu.nanjing.gov.cn"
    assert (
        client.get(f"{BASE}/services.json", {"jurisdiction_id": "xuanwu.nanjing.gov.cn"}).status_code == 200
    )
    assert client.get(f"{BASE}/services.json", {"jurisdiction_id": "320102000000"}).status_code == 200
    _refused(
        client.get(f"{BASE}/services.json", {"jurisdiction_id": "nanjing.gov.cn"}),
        404,
        "unknown_jurisdiction",
    )


def test_the_attribute_check_agrees_with_the_published_definition(cases_demo):
    from civicgrid.open311 import selectors

    published = {
        a["code"]: (a["required"], frozenset(v["key"] for v in a["values"]))
        for a in selectors.service_attributes()
    }
    assert selectors.attribute_keys() == published


def test_a_post_that_fails_after_its_case_keeps_neither(client, api_key, monkeypatch):
    from civicgrid.open311 import selectors, services

    before = Case.objects.count()

    def broken(**kwargs):
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(ServiceRequest.objects, "create", broken)
    token = ApiToken.objects.get(prefix=api_key.split("_")[1])
    lon, lat = point_in(GRID_A)
    params = {"service_code": "E0201", "lat": str(lat), "long": str(lon), "description": "小广告"}
    with pytest.raises(RuntimeError):
        services.open311_post(
            api_token=token, params=params, jurisdiction=selectors.jurisdiction_resolve(None)
        )
    _nothing_written(before)


def test_a_post_in_another_served_district_keeps_nothing(api_key, monkeypatch):
    from civicgrid.open311 import selectors, services

    before = Case.objects.count()
    elsewhere = selectors.Jurisdiction(region_id=-1, code="320104000000", name="秦淮区")
    token = ApiToken.objects.get(prefix=api_key.split("_")[1])
    lon, lat = point_in(GRID_A)
    params = {"service_code": "E0201", "lat": str(lat), "long": str(lon)}
    with pytest.raises(DomainError) as refused:
        services.open311_post(api_token=token, params=params, jurisdiction=elsewhere)
    assert refused.value.code == "outside_jurisdiction"
    _nothing_written(before)


def test_the_post_needs_no_csrf_token_but_only_it(cases_demo, api_key):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    response = strict.post(f"{BASE}/requests.json", _form(api_key))
    assert response.status_code == 201, response.content


def test_it_limits_how_often_one_address_lists_requests(client, cases_demo, settings):
    settings.OPEN311_LIST_RATE_LIMIT = 3
    for _ in range(3):
        assert client.get(f"{BASE}/requests.json").status_code == 200
    _refused(client.get(f"{BASE}/requests.json"), 429, "too_many_requests")
    assert client.get(f"{BASE}/services.json").status_code == 200, "only the list is limited"

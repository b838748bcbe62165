"""An Open311 client written only from the GeoReport v2 spec: the spec's URLs, field names and
form-encoded POST, JSON and XML. Nothing here knows CivicGrid beyond the base URL and an API
key (the fixture); if these tests pass, an unmodified Open311 client works.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from defusedxml import ElementTree

from tests.cases.steps import GRID_A, point_in

pytestmark = pytest.mark.django_db
BASE = "/open311/v2"
JURISDICTION = "320102"


class SpecClient:
    """GeoReport v2 over Django's test client: every answer parsed into plain dicts/lists."""

    def __init__(self, client, fmt: str):
        self.client, self.fmt = client, fmt

    def _parse(self, response):
        if self.fmt == "json":
            assert response["Content-Type"].startswith("application/json")
            return response.json()
        assert response["Content-Type"].startswith("text/xml")
        return _xml(ElementTree.fromstring(response.content))

    def get(self, path: str, **params):
        response = self.client.get(f"{BASE}/{path}.{self.fmt}", params)
        return response.status_code, self._parse(response)

    def post(self, path: str, data: dict, **headers):
        response = self.client.post(
            f"{BASE}/{path}.{self.fmt}", data, headers=headers
        )  # Django's client sends a dict as form data (urlencoded fields, as the spec shows)
        return response.status_code, self._parse(response)


# Elements that are lists in the spec (the XML container around repeated children).
_LISTS = {"services", "endpoints", "formats", "attributes", "values", "service_requests", "errors"}


def _xml(node):
    """An XML answer as the JSON one would be: containers become lists, leaves their text."""
    if node.tag in _LISTS:
        return [_xml(child) for child in node]
    if len(node) == 0:
        return node.text or ""
    return {child.tag: _xml(child) for child in node}


def _same_type(value, fmt):
    """JSON carries numbers and booleans; XML carries text: compare as text."""
    return str(value).lower() if fmt == "xml" else value


@pytest.fixture(params=["json", "xml"])
def spec(request, client):
    return SpecClient(client, request.param)


def test_it_lists_services_posts_a_request_and_reads_it_back_by_token(spec, api_key):
    fmt = spec.fmt
    status, discovery = spec.get("discovery")
    assert status == 200
    endpoint = discovery["endpoints"][0]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["url"].endswith("/open311/v2/") and endpoint["type"] == "production"
    assert set(endpoint["formats"]) == {"text/xml", "application/json"}

    status, services = spec.get("services", jurisdiction_id=JURISDICTION)
    assert status == 200 and len(services) > 50
    for service in services:
        assert set(service) == {
            "service_code",
            "service_name",
            "description",
            "metadata",
            "type",
            "keywords",
            "group",
        }
        assert service["type"] in ("realtime", "batch", "blackbox")
    posters = [s for s in services if s["service_name"] == "非法小广告"]
    assert posters and posters[0]["group"], "services carry their Chinese names and group"
    code = posters[0]["service_code"]
    assert _same_type(posters[0]["metadata"], fmt) == _same_type(True, fmt)

    status, definition = spec.get(f"services/{code}", jurisdiction_id=JURISDICTION)
    assert status == 200 and definition["service_code"] == code
    attributes = {a["code"]: a for a in definition["attributes"]}
    urgency = attributes["urgency"]
    assert urgency["datatype"] == "singlevaluelist" and urgency["variable"] in (True, "true")
    assert {v["key"] for v in urgency["values"]} == {"normal", "urgent", "emergency"}
    assert set(urgency) == {
        "variable",
        "code",
        "datatype",
        "required",
        "datatype_description",
        "order",
        "description",
        "values",
    }
    assert "family" in {v["key"] for v in attributes["level"]["values"]}

    lon, lat = point_in(GRID_A)
    status, posted = spec.post(
        "requests",
        {
            "api_key": api_key,
            "jurisdiction_id": JURISDICTION,
            "service_code": code,
            "lat": f"{lat:.6f}",
            "long": f"{lon:.6f}",
            "address_string": "梅园新村街道长江路292号对面电线杆",
            "attribute[urgency]": "urgent",
            "email": "resident@example.com",
            "first_name": "小明",
            "last_name": "王",
            "phone": "13912345678",
            "description": "电线杆上贴满了小广告，影响市容。",
            "device_id": "device-42",
            "account_id": "acct-7",
        },
    )
    assert status in (200, 201), posted
    (answer,) = posted
    request_id, token = answer["service_request_id"], answer["token"]
    assert request_id and token and answer["account_id"] == "acct-7" and answer["service_notice"]

    status, tokens = spec.get(f"tokens/{token}", jurisdiction_id=JURISDICTION)
    assert status == 200 and tokens == [{"service_request_id": request_id, "token": token}]

    status, found = spec.get(f"requests/{request_id}", jurisdiction_id=JURISDICTION)
    assert status == 200
    (request,) = found
    assert set(request) == {
        "service_request_id", "status", "status_notes", "service_name", "service_code", "description",
        "agency_responsible", "service_notice", "requested_datetime", "updated_datetime",
        "expected_datetime", "address", "address_id", "zipcode", "lat", "long", "media_url",
    }  # fmt: skip
    assert request["service_request_id"] == request_id and request["status"] == "open"
    assert request["service_code"] == code and request["service_name"] == "非法小广告"
    assert request["description"] == "电线杆上贴满了小广告，影响市容。"
    assert request["agency_responsible"]
    assert abs(float(request["lat"]) - lat) < 1e-5 and abs(float(request["long"]) - lon) < 1e-5
    # w3 datetimes with the offset (the spec requires the time zone).
    requested = datetime.fromisoformat(request["requested_datetime"])
    assert requested.utcoffset() == timedelta(hours=8)
    assert request["expected_datetime"] == "", "no handling deadline before the case is dispatched"
    body = str(found)
    for secret in ("王小明", "小明", "13912345678", "resident@example.com", "device-42", "acct-7"):
        assert secret not in body

    # GET requests with each of the spec's filters.
    status, listed = spec.get("requests", jurisdiction_id=JURISDICTION)
    assert status == 200 and request_id in [r["service_request_id"] for r in listed]
    status, by_id = spec.get("requests", service_request_id=f"{request_id},NOPE", status="closed")
    assert [r["service_request_id"] for r in by_id] == [request_id], "ids override the other filters"
    status, by_code = spec.get("requests", service_code=code)
    assert {r["service_code"] for r in by_code} == {code} and len(by_code) == 1
    status, other_code = spec.get("requests", service_code=services[0]["service_code"])
    assert status == 200 and request_id not in [r["service_request_id"] for r in other_code]
    start = (requested - timedelta(hours=1)).isoformat()
    end = (requested + timedelta(hours=1)).isoformat()
    status, in_range = spec.get("requests", start_date=start, end_date=end)
    assert [r["service_request_id"] for r in in_range] == [request_id]
    status, before = spec.get("requests", end_date=start)
    assert status == 200 and before == []
    status, open_ = spec.get("requests", status="open")
    assert [r["service_request_id"] for r in open_] == [request_id]
    status, closed = spec.get("requests", status="closed")
    assert status == 200 and closed == []


def test_it_places_a_post_by_address_string_or_address_id(spec, api_key):
    status, posted = spec.post(
        "requests",
        {
            "api_key": api_key,
            "service_code": "E0201",
            "address_string": "梅园新村社区大院门口",
            "description": "门口小广告",
        },
    )
    assert status in (200, 201), posted
    status, (request,) = spec.get(f"requests/{posted[0]['service_request_id']}")
    assert request["address"] == "梅园新村社区大院门口" and request["address_id"].startswith("320102002001")

    for street in ({"address_id": "320102002000"}, {"address_string": "南京市玄武区玄武门街道某路口"}):
        status, posted = spec.post("requests", {"api_key": api_key, "service_code": "E0201", **street})
        assert status in (200, 201), posted
        status, (request,) = spec.get(f"requests/{posted[0]['service_request_id']}")
        prefix = "320102002" if "address_id" in street else "320102005"
        assert request["address_id"].startswith(prefix), "placed inside the street named"

    status, posted = spec.post(
        "requests", {"api_key": api_key, "service_code": "E0201", "address_id": GRID_A}
    )
    assert status in (200, 201), posted
    status, (request,) = spec.get(f"requests/{posted[0]['service_request_id']}")
    assert request["address_id"] == GRID_A and request["service_name"] == "非法小广告"


def test_it_answers_a_replayed_post_with_the_first_request(client, api_key):
    lon, lat = point_in(GRID_A)
    form = {"api_key": api_key, "service_code": "E0201", "lat": lat, "long": lon, "description": "重复提交"}
    first = client.post(f"{BASE}/requests.json", form, headers={"Idempotency-Key": "open311-replay-0001"})
    again = client.post(f"{BASE}/requests.json", form, headers={"Idempotency-Key": "open311-replay-0001"})
    assert first.status_code == 201 and again.status_code == 200
    assert first.json() == again.json()
    listed = client.get(f"{BASE}/requests.json").json()
    assert [r["description"] for r in listed] == ["重复提交"]

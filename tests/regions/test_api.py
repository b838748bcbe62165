"""The geo and regions API: answers, errors in one shape, and who may change boundaries."""

import json

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile

from civicgrid.geo import crs
from civicgrid.regions.models import BoundaryGeneration

from .helpers import dumps, grid_collection

pytestmark = pytest.mark.django_db
INSIDE = (118.80, 32.05)  # 梅园新村 street, inside the district


def _error(response, status, code):
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "detail"}
    assert body["error"]["code"] == code
    return body["error"]


def test_it_locates_a_point_in_every_crs_to_the_same_grid(client, demo):
    wgs = client.get("/api/v1/geo/locate", {"lon": INSIDE[0], "lat": INSIDE[1]}).json()
    assert wgs["grid"]["code"].startswith(wgs["community"]["code"])
    assert wgs["street"]["code"] == "320102002000" and wgs["district"]["code"] == "320102000000"
    for system in ("gcj02", "bd09"):
        lon, lat = crs.convert(*INSIDE, source="wgs84", target=system)
        other = client.get("/api/v1/geo/locate", {"lon": lon, "lat": lat, "crs": system}).json()
        assert other["grid"] == wgs["grid"]
        assert other["wgs84"]["lon"] == pytest.approx(INSIDE[0], abs=1e-7)


def test_a_point_outside_gets_the_nearest_grid_and_distance(client, demo):
    error = _error(client.get("/api/v1/geo/locate", {"lon": 118.70, "lat": 32.05}), 404, "outside_district")
    assert error["detail"]["nearest_grid"]["code"]
    assert 5000 < error["detail"]["distance_m"] < 10000


@pytest.mark.parametrize(
    ("params", "status", "code"),
    [
        ({"lon": "abc", "lat": 32}, 422, "invalid_input"),
        ({"lat": 32}, 422, "invalid_input"),
        ({"lon": 118.8, "lat": 32.05, "crs": "epsg3857"}, 400, "bad_crs"),
        ({"lon": 918.8, "lat": 32.05}, 400, "bad_coordinates"),
        ({"lon": 118.8, "lat": 32.05, "generation": "no-such"}, 404, "generation_not_found"),
    ],
)
def test_bad_input_gets_the_error_shape_never_a_500(client, demo, params, status, code):
    _error(client.get("/api/v1/geo/locate", params), status, code)


def test_locate_without_any_generation_says_so(client, db):
    _error(client.get("/api/v1/geo/locate", {"lon": 118.8, "lat": 32.05}), 503, "no_active_generation")


def test_bulk_locate_answers_point_by_point(client, demo):
    points = [list(INSIDE), [118.5, 32.0], [500, 500], [118.85, 32.03]]
    body = client.post("/api/v1/geo/locate", {"points": points}, content_type="application/json").json()
    assert (body["count"], body["located"], body["failed"]) == (4, 2, 2)
    assert body["results"][0]["grid"]["code"]
    assert body["results"][1]["error"]["code"] == "outside_district"
    assert body["results"][2]["error"]["code"] == "bad_coordinates"
    single = client.get("/api/v1/geo/locate", {"lon": 118.85, "lat": 32.03}).json()
    assert body["results"][3]["grid"] == single["grid"]


def test_bulk_locate_takes_ten_thousand_points_and_refuses_more(client, demo):
    ok = client.post(
        "/api/v1/geo/locate", {"points": [list(INSIDE)] * 10_000}, content_type="application/json"
    )
    assert ok.status_code == 200 and ok.json()["located"] == 10_000
    too_many = client.post(
        "/api/v1/geo/locate", {"points": [list(INSIDE)] * 10_001}, content_type="application/json"
    )
    _error(too_many, 413, "too_many_points")
    _error(client.post("/api/v1/geo/locate", "not json", content_type="application/json"), 400, "bad_request")


def test_convert_round_trips(client, db):
    there = client.get("/api/v1/geo/convert", {"lon": 118.793, "lat": 32.072, "to": "bd09"}).json()
    assert there["crs"] == "bd09"
    back = client.get(
        "/api/v1/geo/convert", {"lon": there["lon"], "lat": there["lat"], "from": "bd09", "to": "wgs84"}
    ).json()
    assert (back["lon"], back["lat"]) == pytest.approx((118.793, 32.072), abs=1e-8)
    bulk = client.post(
        "/api/v1/geo/convert",
        {"source": "wgs84", "target": "gcj02", "points": [[118.793, 32.072]]},
        content_type="application/json",
    ).json()
    assert bulk["points"][0] == pytest.approx([118.798191, 32.069927], abs=1e-6)
    _error(client.get("/api/v1/geo/convert", {"lon": 1, "lat": 1, "to": "mars"}), 400, "bad_crs")


def test_generations_validation_and_export(client, demo):
    [generation] = client.get("/api/v1/geo/generations").json()
    assert generation["state"] == "active" and generation["problem_count"] == 0
    assert client.get("/api/v1/geo/generations/active").json()["id"] == generation["id"]
    validation = client.get(f"/api/v1/geo/generations/{generation['id']}/validation").json()
    assert validation["ok"] is True and validation["problems"] == []
    export = client.get("/api/v1/geo/generations/xuanwu-demo/geojson", {"level": "grid"})
    assert export["Content-Type"].startswith("application/geo+json")
    assert len(json.loads(export.content)["features"]) == 615
    gcj = json.loads(
        client.get("/api/v1/geo/generations/active/geojson", {"level": "district", "crs": "gcj02"}).content
    )
    wgs = json.loads(client.get("/api/v1/geo/generations/active/geojson", {"level": "district"}).content)
    shift = (
        gcj["features"][0]["geometry"]["coordinates"][0][0][0][0]
        - wgs["features"][0]["geometry"]["coordinates"][0][0][0][0]
    )
    assert 0.004 < shift < 0.006  # about 480 m east
    _error(client.get("/api/v1/geo/generations/active/geojson", {"level": "planet"}), 400, "bad_level")


def test_regions_search_and_detail(client, demo):
    found = client.get("/api/v1/regions", {"q": "锁金村", "level": "street"}).json()
    assert [r["code"] for r in found] == ["320102007000"]
    grids = client.get("/api/v1/regions", {"parent": "320102007002", "level": "grid"}).json()
    assert grids and all(r["parent_code"] == "320102007002" for r in grids)
    detail = client.get(f"/api/v1/regions/{grids[0]['code']}").json()
    assert [a["code"] for a in detail["ancestors"]] == ["320102000000", "320102007000", "320102007002"]
    assert detail["area_m2"] > 0 and detail["synthetic"] is True
    _error(client.get("/api/v1/regions/999"), 404, "region_not_found")
    sheet = client.get("/api/v1/regions/export.xlsx", {"level": "community"})
    assert sheet["Content-Type"].startswith("application/vnd.openxml") and sheet.content[:2] == b"PK"
    _error(client.get("/api/v1/regions/export.xlsx", {"level": "planet"}), 400, "bad_level")


def _upload(client, name="redraw", commit=False):
    data = {"name": name, "commit": commit, "file": SimpleUploadedFile("g.geojson", dumps(grid_collection()))}
    return client.post("/api/v1/geo/generations", data)


def test_only_staff_may_import_or_activate(client, demo):
    _error(_upload(client), 401, "unauthenticated")
    clerk = get_user_model().objects.create_user("clerk", password="Pass-word-123")
    client.force_login(clerk)
    _error(_upload(client, commit=True), 403, "forbidden")
    _error(client.post("/api/v1/geo/generations/xuanwu-demo/activate"), 403, "forbidden")
    assert BoundaryGeneration.objects.count() == 1


def test_staff_dry_run_then_commit_then_activate(client, demo):
    client.force_login(get_user_model().objects.get(username="admin"))
    dry = _upload(client)
    assert dry.status_code == 200 and dry.json()["committed"] is False
    assert BoundaryGeneration.objects.count() == 1
    done = _upload(client, commit=True).json()
    assert done["committed"] is True
    active = client.post(f"/api/v1/geo/generations/{done['generation_id']}/activate").json()
    assert active["state"] == "active"
    again = _upload(client, name="redraw")
    error = _error(again, 422, "import_rejected")
    assert any(p["kind"] == "generation_exists" for p in error["detail"]["problems"])


def test_openapi_and_docs_are_served(client, db):
    spec = client.get("/api/v1/openapi.json").json()
    assert "/api/v1/geo/locate" in spec["paths"]
    assert client.get("/api/v1/docs").status_code == 200


def test_unknown_paths_and_methods_use_the_error_shape(client, db):
    _error(client.get("/api/v1/nothing-here"), 404, "not_found")
    _error(client.delete("/api/v1/geo/locate"), 405, "method_not_allowed")

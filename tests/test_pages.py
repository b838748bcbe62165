"""Pages: what anyone sees, what only staff see, in Chinese by default and in English."""

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.regions.helpers import dumps, feature, grid_collection

pytestmark = pytest.mark.django_db


def test_home_and_map_are_public(client, demo):
    home = client.get("/")
    assert home.status_code == 200 and b'lang="zh-hans"' in home.content
    page = client.get("/map/")
    assert page.status_code == 200 and b'id="map-config"' in page.content


def test_the_map_data_is_every_boundary_of_the_active_generation(client, demo):
    response = client.get("/map/grids.geojson", HTTP_ACCEPT_ENCODING="gzip")
    assert response["Content-Encoding"] == "gzip"
    response = client.get("/map/grids.geojson")
    features = response.json()["features"]
    assert len(features) == 683
    grid = next(f for f in features if f["properties"]["level"] == "grid")
    assert {"street", "community", "grid_type", "area_m2"} <= set(grid["properties"])


def test_a_region_page_shows_its_place_and_children(client, demo):
    page = client.get("/grids/320102007002/")
    assert page.status_code == 200
    assert "锁金村街道".encode() in page.content and b"32010200700201" in page.content
    assert client.get("/grids/nope/").status_code == 404


def test_english_is_one_switch_away(client, demo):
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    page = client.get("/")
    assert b'lang="en"' in page.content and b"Open the grid map" in page.content


def test_the_admin_validation_pages_are_for_boundary_admins_only(client, demo):
    generation_id = demo.generation.id
    assert client.get(f"/admin/regions/generations/{generation_id}/problems/").status_code == 302
    assert client.get("/admin/regions/import/").status_code == 302
    clerk = get_user_model().objects.create_user("clerk", password="Pass-word-123", is_staff=True)
    client.force_login(clerk)
    # Staff is not enough: changing boundaries needs the permission (the system admin's).
    assert client.get("/admin/regions/import/").status_code == 403
    assert client.get(f"/admin/regions/generations/{generation_id}/problems/").status_code == 403


def test_staff_see_a_broken_upload_drawn_and_listed(client, demo):
    client.force_login(get_user_model().objects.get(username="admin"))
    assert client.get(f"/admin/regions/generations/{demo.generation.id}/problems/").status_code == 200
    collection = grid_collection()
    collection["features"].remove(feature(collection, "32010200200101"))
    upload = SimpleUploadedFile("broken.geojson", dumps(collection))
    page = client.post("/admin/regions/import/", {"name": "broken", "file": upload, "commit": "on"})
    assert page.status_code == 200
    assert b'id="problem-map"' in page.content and b"data-problem=" in page.content
    assert b"320102002001" in page.content


@pytest.mark.parametrize(
    "path", ["/admin/regions/region/", "/admin/regions/boundarygeneration/", "/admin/regions/boundary/"]
)
@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_admin_works_in_both_languages(client, demo, path, language):
    client.force_login(get_user_model().objects.get(username="admin"))
    client.cookies["django_language"] = language
    page = client.get(path)
    assert page.status_code == 200
    assert f'lang="{language}"'.encode() in page.content

"""A grid's people: shown to those whose scope covers the grid, 404 to everyone else."""

import pytest

from civicgrid.accounts.models import User

pytestmark = pytest.mark.django_db
GRID_A = "32010200200101"
GRID_B = "32010201000101"


def _login(client, username):
    client.force_login(User.objects.get(username=username))


@pytest.mark.parametrize("username", [f"gw-{GRID_A}", "chief-320102002001", "street-320102002", "operator"])
def test_people_of_a_grid_are_visible_inside_the_scope(client, demo_staff, username):
    _login(client, username)
    people = client.get(f"/api/v1/regions/{GRID_A}/people").json()
    assert {p["post"] for p in people} >= {"chief", "full_time"}
    worker = User.objects.get(username=f"gw-{GRID_A}")
    assert worker.display_name in {p["name"] for p in people}
    page = client.get(f"/grids/{GRID_A}/")
    assert worker.display_name.encode() in page.content


@pytest.mark.parametrize(
    "username", [f"gw-{GRID_A}", "street-320102002", "dept-d01", "resident1", "auditor", "admin"]
)
def test_people_of_another_grid_answer_404(client, demo_staff, username):
    _login(client, username)
    response = client.get(f"/api/v1/regions/{GRID_B}/people")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "region_not_found"
    worker = User.objects.get(username=f"gw-{GRID_B}")
    assert worker.display_name.encode() not in client.get(f"/grids/{GRID_B}/").content


def test_anonymous_visitors_see_the_grid_but_not_its_people(client, demo_staff):
    page = client.get(f"/grids/{GRID_A}/")
    assert page.status_code == 200
    assert User.objects.get(username=f"gw-{GRID_A}").display_name.encode() not in page.content
    assert client.get(f"/api/v1/regions/{GRID_A}/people").status_code == 404


def test_absent_and_forbidden_look_the_same(client, demo_staff):
    _login(client, f"gw-{GRID_A}")
    missing = client.get("/api/v1/regions/99999999999999/people")
    forbidden = client.get(f"/api/v1/regions/{GRID_B}/people")
    assert missing.status_code == forbidden.status_code == 404
    assert missing.json()["error"]["code"] == forbidden.json()["error"]["code"]


@pytest.mark.parametrize(
    ("username", "grids", "area"),
    [
        (f"gw-{GRID_A}", 1, "梅园新村社区第1网格"),
        ("chief-320102002001", None, "梅园新村社区居委会"),
        ("street-320102002", None, "梅园新村街道"),
        ("operator", 615, "玄武区"),
        ("resident1", 0, None),
    ],
)
def test_the_home_page_shows_each_role_its_part_of_the_district(client, demo_staff, username, grids, area):
    from civicgrid.accounts.scopes import scope_for
    from civicgrid.regions.models import Region

    user = User.objects.get(username=username)
    client.force_login(user)
    page = client.get("/").content.decode()
    expected = Region.objects.filter(id__in=scope_for(user).region_ids, level="grid").count()
    assert grids is None or expected == grids
    if area:
        assert area in page and f"{expected} " in page
    else:
        assert "?focus=" not in page

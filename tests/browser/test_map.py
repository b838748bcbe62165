"""The grid map in a real browser: every grid drawn, the card, search, locate, phone layout."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from civicgrid.regions.models import Level, Region

pytestmark = pytest.mark.browser

DESKTOP = {"viewport": {"width": 1280, "height": 800}}
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "is_mobile": True,
    "has_touch": True,
    "device_scale_factor": 2,
}


def _open_map(page: Page, url: str) -> None:
    page.goto(url)
    expect(page.locator("#map")).to_have_attribute("data-state", "ready")


def _zoom(page: Page) -> float:
    return float(page.locator("#map").get_attribute("data-zoom"))


def _grid_point(page: Page, fractions: list[tuple[float, float]]) -> tuple[float, float, str]:
    """The first of these points (fractions of the map's box) that lies on a grid, and its code."""
    box = page.locator("#map").bounding_box()
    for fx, fy in fractions:
        x, y = box["x"] + box["width"] * fx, box["y"] + box["height"] * fy
        code = page.evaluate(
            "([x, y]) => { const e = document.elementFromPoint(x, y);"
            " return e && e.classList.contains('grid-cell') ? e.getAttribute('data-code') : null; }",
            [x, y],
        )
        if code:
            return x, y, code
    raise AssertionError("no grid under any of the probed points")


CENTRE_POINTS = [(0.6, 0.45), (0.55, 0.5), (0.65, 0.4), (0.7, 0.55), (0.5, 0.35)]


def test_it_draws_every_grid_and_answers_hover_click_and_search(live_server, live_demo, open_page):
    page = open_page(**DESKTOP)
    _open_map(page, f"{live_server.url}/map/")

    expect(page.locator("path.grid-cell")).to_have_count(615)
    streets = list(
        Region.objects.filter(level=Level.STREET, statistical_only=False)
        .order_by("code")
        .values_list("name", flat=True)
    )
    assert len(streets) == 7
    expect(page.locator(".legend-list li")).to_have_text(streets)

    card = page.locator("#map-card")
    x, y, code = _grid_point(page, CENTRE_POINTS)
    page.mouse.move(x, y)
    expect(card.locator("h2")).to_have_text(Region.objects.get(code=code).name)
    expect(card.locator("dd[data-field=code]")).to_have_text(code)

    # A click asks the server which grid is at the point; its answer fills the card.
    with page.expect_response(lambda r: "/api/v1/geo/locate" in r.url) as located:
        page.mouse.click(x, y)
    assert located.value.status == 200
    answer = located.value.json()
    assert answer["grid"]["code"] == code
    expect(card.locator(".card-located")).to_contain_text(answer["grid"]["name"])
    expect(card.locator(".card-located")).to_contain_text(answer["street"]["name"])
    expect(page.locator(".locate-marker")).to_be_visible()

    # Search by code: the grid is listed, choosing it zooms in and opens its card.
    target = (
        Region.objects.filter(level=Level.GRID).exclude(code__startswith=code[:9]).order_by("-code").first()
    )
    before = _zoom(page)
    page.locator("#map-q").fill(target.code)
    result = page.locator(f'.result[data-code="{target.code}"]')
    expect(result).to_be_visible()
    result.click()
    expect(card.locator("h2")).to_have_text(target.name)
    expect(card.locator("dd[data-field=code]")).to_have_text(target.code)
    page.wait_for_function("z => Number(document.getElementById('map').dataset.zoom) > z", arg=before)
    expect(page.locator(".locate-marker")).to_have_count(0)
    expect(page.locator("path.selection-outline")).to_have_count(1)
    grid_box = page.locator(f'path.grid-cell[data-code="{target.code}"]').bounding_box()
    map_box = page.locator("#map").bounding_box()
    assert grid_box["width"] > 80 or grid_box["height"] > 80
    assert (
        map_box["x"] <= grid_box["x"] and grid_box["x"] + grid_box["width"] <= map_box["x"] + map_box["width"]
    )

    # A name matching every grid lists only the first 20.
    page.locator("#map-q").fill("网格")
    expect(page.locator(".result")).to_have_count(20)


def test_it_works_as_a_bottom_sheet_on_a_phone(live_server, live_demo, open_page):
    page = open_page(**PHONE)
    _open_map(page, f"{live_server.url}/map/")
    expect(page.locator("path.grid-cell")).to_have_count(615)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390

    x, y, code = _grid_point(page, [(0.5, 0.4), (0.4, 0.45), (0.6, 0.35), (0.5, 0.3), (0.3, 0.4)])
    with page.expect_response(lambda r: "/api/v1/geo/locate" in r.url) as located:
        page.touchscreen.tap(x, y)
    assert located.value.json()["grid"]["code"] == code
    card = page.locator("#map-card")
    expect(card.locator(".card-located")).to_be_visible()
    expect(card.locator("dd[data-field=code]")).to_have_text(code)
    box = card.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 390.5
    assert box["y"] + box["height"] <= 844.5 and box["height"] <= 844 * 0.6
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    close = card.locator(".card-close").bounding_box()
    assert close["width"] >= 44 and close["height"] >= 44

    # Search is folded away until asked for; choosing a result folds it again.
    search = page.locator("#map-q")
    expect(search).to_be_hidden()
    page.locator(".search-toggle").tap()
    expect(search).to_be_visible()
    community = Region.objects.filter(level=Level.COMMUNITY, statistical_only=False).order_by("code").last()
    search.fill(community.name)
    page.locator(f'.result[data-code="{community.code}"]').tap()
    expect(search).to_be_hidden()
    expect(card.locator("h2")).to_have_text(community.name)

    page.locator(".card-close").tap()
    expect(card).to_be_hidden()


def test_it_says_when_a_point_is_outside_the_district(live_server, live_demo, open_page):
    page = open_page(**DESKTOP)
    _open_map(page, f"{live_server.url}/map/")
    before = _zoom(page)
    page.locator(".leaflet-control-zoom-out").click()
    page.wait_for_function("z => Number(document.getElementById('map').dataset.zoom) < z", arg=before)
    page.locator(".leaflet-control-zoom-out").click()
    page.wait_for_function("z => Number(document.getElementById('map').dataset.zoom) < z - 1.5", arg=before)

    box = page.locator("#map").bounding_box()
    with page.expect_response(lambda r: "/api/v1/geo/locate" in r.url) as located:
        page.mouse.click(box["x"] + box["width"] * 0.6, box["y"] + 24)
    assert located.value.status == 404
    error = located.value.json()["error"]
    assert error["code"] == "outside_district"
    card = page.locator("#map-card")
    expect(card.locator(".card-error")).to_have_text(error["message"])

    nearest = error["detail"]["nearest_grid"]
    card.locator("button.secondary").click()
    expect(card.locator("dd[data-field=code]")).to_have_text(nearest["code"])


def test_it_focuses_the_region_named_in_the_address(live_server, live_demo, open_page):
    street = Region.objects.filter(level=Level.STREET, statistical_only=False).order_by("code").last()
    page = open_page(**DESKTOP)
    _open_map(page, f"{live_server.url}/map/?focus={street.code}")
    card = page.locator("#map-card")
    expect(card.locator("h2")).to_have_text(street.name)
    expect(card.locator("dd[data-field=code]")).to_have_text(street.code)
    expect(page.locator("path.selection-outline")).to_have_count(1)
    outline = page.locator("path.selection-outline").bounding_box()
    assert outline["height"] > 300  # fitted to the street, not the whole district's small scale

    page.goto(f"{live_server.url}/map/?focus=000")
    expect(page.locator("#map .card-error, #map-card .card-error")).to_contain_text("000")


def test_a_signed_in_grid_worker_sees_their_grid_people_on_the_card(live_server, live_staff, open_page):
    from civicgrid.accounts.models import User
    from civicgrid.demo.loader import DEMO_PASSWORD

    code = "32010200200101"
    page = open_page(**DESKTOP)
    page.goto(f"{live_server.url}/accounts/login/?next=/map/%3Ffocus%3D{code}")
    page.fill("#id_username", f"gw-{code}")
    page.fill("#id_password", DEMO_PASSWORD)
    page.click("form.stacked button[type=submit]")
    expect(page.locator("#map")).to_have_attribute("data-state", "ready")
    worker = User.objects.get(username=f"gw-{code}")
    expect(page.locator(".card-people")).to_contain_text(worker.display_name)
    # Another grid's card shows no people: the API refuses them to this worker.
    other = "32010201000101"
    page.goto(f"{live_server.url}/map/?focus={other}")
    expect(page.locator("#map")).to_have_attribute("data-state", "ready")
    expect(page.locator("#card-title")).to_be_visible()
    page.wait_for_load_state("networkidle")
    assert page.locator(".card-people").count() == 0

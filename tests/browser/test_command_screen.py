"""The big screen (/command/) in real Chromium, on a 1920×1080 wall and a 1366×768 laptop: the
tiles, the charts and the grid map render, nothing scrolls sideways, the console stays clean, and
a case reported while the screen is open appears in the live feed and in the figures once the
rollups are refreshed. A street operator's screen draws only their street's grids."""

from __future__ import annotations

import threading

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from civicgrid.insight import rollups, screen, screen_views
from civicgrid.regions.models import Region

from ..cases.steps import GRID_A, GRID_B, S, walk
from .test_case_flow import Desk

pytestmark = pytest.mark.browser
WALL = {"viewport": {"width": 1920, "height": 1080}, "locale": "zh-CN"}
LAPTOP = {"viewport": {"width": 1366, "height": 768}, "locale": "zh-CN"}
STREET_A, STREET_A_CODE = "street-320102002", "320102002000"


@pytest.fixture
def wall(live_server, live_staff, monkeypatch):
    """The demo with a few cases and its rollups; the screen polls fast and caches nothing.

    On SQLite's in-memory test database the live server's threads and the test share one
    connection; the screen asks for its blocks in parallel, and two transactions on one
    connection break each other's savepoints, so the server answers one request at a time and
    the test's own writes take the same lock (as tests/browser/test_mobile.py does)."""
    monkeypatch.setattr(screen, "CACHE_SECONDS", 0)
    monkeypatch.setattr(screen_views, "FEED_SECONDS", 1)
    monkeypatch.setattr(screen_views, "BLOCK_SECONDS", 2)
    for state, grid in ((S.REPORTED, GRID_A), (S.HANDLING, GRID_A), (S.CLOSED, GRID_A), (S.REPORTED, GRID_B)):
        walk(state, grid=grid)
    rollups.rebuild()
    lock = threading.Lock()
    httpd = live_server.thread.httpd
    app = httpd.get_app()

    def one_at_a_time(environ, start_response):
        with lock:
            return app(environ, start_response)

    httpd.set_app(one_at_a_time)
    yield lock
    httpd.set_app(app)


def _open_screen(open_page, base: str, username: str, options: dict, problems: list[str]) -> Page:
    desk = Desk(open_page, base, username, problems, options)
    page = desk.page
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.goto(f"{base}/command/")
    expect(page.locator("#screen")).to_have_attribute("data-state", "ready")
    expect(page.locator("#screen-map")).to_have_attribute("data-state", "ready", timeout=20_000)
    return page


def _no_sideways_scroll(page: Page) -> None:
    width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], width


def _tile(page: Page, key: str):
    return page.locator(f'.tile[data-key="{key}"]')


@pytest.mark.parametrize("options", [WALL, LAPTOP], ids=["1920x1080", "1366x768"])
def test_the_screen_shows_the_live_district(live_server, wall, open_page, options):
    problems: list[str] = []
    page = _open_screen(open_page, live_server.url, "operator", options, problems)
    expect(_tile(page, "today")).to_have_attribute("data-value", "4")
    expect(_tile(page, "open")).to_have_attribute("data-value", "3")
    assert _tile(page, "today").get_attribute("href").startswith("/cases/list/?date_from=")
    # The charts drew on their canvases; the map drew the district's grids, shaded.
    expect(page.locator("#trend-chart canvas")).not_to_have_count(0)
    expect(page.locator("#classes-chart canvas")).not_to_have_count(0)
    grids = Region.objects.filter(level="grid").count()
    expect(page.locator("#screen-map path[data-code]")).to_have_count(grids)
    expect(page.locator(f'#screen-map path[data-code="{GRID_A}"]')).to_have_attribute("data-value", "2")
    expect(page.locator("#ranking tbody tr")).to_have_count(2)
    expect(page.locator("#feed li.feed-item")).to_have_count(4)
    for box in ("#screen-map", "#trend-chart", "#classes-chart", "#feed"):
        size = page.locator(box).bounding_box()
        assert size["width"] > 150 and size["height"] > 100, (box, size)
    _no_sideways_scroll(page)

    # A new case while the screen is open: the feed shows it at its next poll, the figures
    # once the rollups have been refreshed (the minute task; called here).
    with wall:
        case = walk(S.REPORTED, grid=GRID_B)
        rollups.refresh()
    expect(page.locator(f'#feed li[data-number="{case.number}"]')).to_have_count(1)
    expect(page.locator("#feed li.feed-item").first).to_have_attribute("data-number", case.number)
    expect(_tile(page, "today")).to_have_attribute("data-value", "5")
    page.locator('[data-shade="overdue"]').click()
    expect(page.locator(f'#screen-map path[data-code="{GRID_A}"]')).to_have_attribute("data-value", "0")
    _no_sideways_scroll(page)
    # The open tile opens the open cases: the three reported or being handled, and the new one.
    expect(_tile(page, "open")).to_have_attribute("data-value", "4")
    _tile(page, "open").click()
    page.wait_for_url(lambda url: "/cases/list/" in url)
    expect(page.locator("tr[data-number]")).to_have_count(4)
    assert problems == []


def test_a_street_operators_screen_stays_in_their_street(live_server, wall, open_page):
    problems: list[str] = []
    page = _open_screen(open_page, live_server.url, STREET_A, LAPTOP, problems)
    street = Region.objects.get(code=STREET_A_CODE)
    theirs = Region.objects.filter(level="grid", parent__parent=street).count()
    expect(page.locator("#screen-map path[data-code]")).to_have_count(theirs)
    expect(page.locator(f'#screen-map path[data-code="{GRID_B}"]')).to_have_count(0)
    expect(_tile(page, "today")).to_have_attribute("data-value", "3")
    for key in ("today", "month", "open", "overdue"):
        assert f"region={STREET_A_CODE}" in _tile(page, key).get_attribute("href")
    expect(page.locator("#scope-name")).to_have_text(street.name)
    expect(page.locator("#feed li.feed-item")).to_have_count(3)
    _no_sideways_scroll(page)
    # A click on the trend over today opens today's cases of the street.
    box = page.locator("#trend-chart").bounding_box()
    page.mouse.click(box["x"] + box["width"] - 16, box["y"] + box["height"] / 2)
    page.wait_for_url(lambda url: "/cases/list/" in url)
    expect(page.locator("tr[data-number]")).to_have_count(3)  # the street's three cases of today
    today = timezone.localdate().isoformat()
    assert f"date_from={today}" in page.url and f"region={STREET_A_CODE}" in page.url
    assert problems == []

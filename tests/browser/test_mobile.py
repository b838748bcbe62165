"""The grid worker's app (/m/) in real Chromium at a phone's size, with the phone's position
emulated inside the demo worker's grid: a report made offline waits in the send queue and
arrives exactly once with its photo when the connection returns (even when the first answer is
lost on the way back); a patrol records its track and shows its coverage; a check-in outside a
key place's geofence is refused with the distance.

The module shares one committed demo (loading and emptying it per test cost more than the
tests): ``transactional_db`` is overridden below so that the live server's tests do not empty
it, and each test works with its own worker, places and texts.
"""

from __future__ import annotations

import io
import math

import pytest
from django.db import connections
from PIL import Image
from playwright.sync_api import Page, expect

from civicgrid.cases.models import Attachment, Case
from civicgrid.patrol.models import CheckIn, KeyPlace, Patrol, PatrolState
from civicgrid.regions.models import Region

from ..cases.conftest import _Committed, committed_demo
from ..cases.steps import GRID_A, GRID_A2, point_in
from .test_case_flow import PHONE, Desk

# The test database first: a live server started before it shares no connection with the test.
pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("django_db_setup")]


@pytest.fixture(scope="module")
def mobile_demo(django_db_setup, django_db_blocker, demo_divisions):
    yield from committed_demo(django_db_blocker, demo_divisions)
    # Opened while Playwright runs, the test's connection is not the one pytest-django closes
    # (on PostgreSQL the test database could then not be dropped at the end).
    with django_db_blocker.unblock():
        connections.close_all()


@pytest.fixture
def transactional_db(request, mobile_demo, django_db_blocker):
    """Instead of pytest-django's (which empties every table after each test, and with them the
    module's demo): the live server and the test read and write the committed demo directly.

    On SQLite's in-memory test database the live server's threads share one connection; the
    test's own ORM calls use it too, as in Django's LiveServerTestCase (with a second connection
    of its own, the test's reads and the app's background requests — each saves the session —
    would lock each other's tables: "database table is locked")."""
    assert _Committed.result is mobile_demo, "the committed demo was emptied"
    # Only now: started before the test database exists, the server would share no connection.
    live_server = request.getfixturevalue("live_server")
    shared = live_server.thread.connections_override.get("default")
    own = connections["default"]
    with django_db_blocker.unblock():
        if shared is not None:
            connections["default"] = shared
        try:
            yield
        finally:
            connections["default"] = own


def offset(point: tuple[float, float], east_m: float, north_m: float) -> tuple[float, float]:
    """``point`` moved by metres east and north (small distances)."""
    lon, lat = point
    return (lon + east_m / (111_320 * math.cos(math.radians(lat))), lat + north_m / 110_574)


def phone(open_page, base: str, username: str, at: tuple[float, float], violations: list[str]) -> Page:
    options = PHONE | {
        "geolocation": {"longitude": at[0], "latitude": at[1], "accuracy": 8},
        "permissions": ["geolocation"],
    }
    page = Desk(open_page, base, username, violations, options).page
    return page


def photo_jpeg() -> bytes:
    """A phone-sized photo (3000 × 2000): the app shrinks it to 1600 px before queueing it."""
    out = io.BytesIO()
    Image.new("RGB", (3000, 2000), (120, 160, 90)).save(out, "JPEG", quality=70)
    return out.getvalue()


def service_worker_ready(page: Page) -> None:
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")


def test_a_report_made_offline_arrives_once_with_its_photo(live_server, open_page):
    base, violations = live_server.url, []
    worker = f"gw-{GRID_A}"
    page = phone(open_page, base, worker, point_in(GRID_A), violations)
    context = page.context
    page.goto(f"{base}/m/report/")
    service_worker_ready(page)
    expect(page.locator("#m-position")).to_have_attribute("data-state", "ok")
    title = "单元楼道堆放大量纸箱"
    page.fill("input[name=title]", title)
    page.fill("textarea[name=description]", "三单元一楼楼道，影响通行")
    page.set_input_files(
        "input[name=photos]",
        files=[{"name": "IMG_0001.jpg", "mimeType": "image/jpeg", "buffer": photo_jpeg()}],
    )
    expect(page.locator("#m-photos-report li")).to_have_count(1)
    # Shrunk on the phone before it is kept: well under the 3000 px original's size.
    kept = int(page.locator("#m-photos-report li").get_attribute("data-size"))
    assert 0 < kept < 400_000

    context.set_offline(True)
    page.click("#m-report button[type=submit]")
    expect(page.locator("#m-queue")).to_have_attribute("data-count", "1")
    expect(page.locator("#m-sent-list li")).to_have_attribute("data-state", "pending")
    # The form was emptied once the report was safely queued.
    expect(page.locator("input[name=title]")).to_have_value("")

    # The app starts without a connection: the queue screen comes from the service worker.
    page.goto(f"{base}/m/outbox/")
    item = page.locator("#m-queue-list li[data-kind=report]")
    expect(item).to_have_count(1)
    expect(item).to_contain_text(title)
    assert not Case.objects.filter(title=title).exists()

    # The connection returns, but the server's first answer is lost on the way back: the case
    # is made, the phone sees a failure, keeps the report and sends it again with the same key.
    lost = []

    def lose_first_answer(route):
        if route.request.method == "POST" and not lost:
            lost.append(route.fetch().status)
            route.abort()
        else:
            route.continue_()

    page.route("**/api/v1/cases/", lose_first_answer)
    context.set_offline(False)
    expect(item).to_have_attribute("data-attempts", "1")
    assert lost == [201] and Case.objects.filter(title=title).count() == 1
    page.click("#m-send-now")
    expect(page.locator("#m-queue-list li")).to_have_count(0)
    expect(page.locator("#m-queue")).to_have_attribute("data-count", "0")
    sent = page.locator("#m-sent-list li[data-kind=report]")
    expect(sent).to_have_count(1)

    case = Case.objects.get(title=title)  # exactly once
    assert case.channel == "grid_worker" and case.grid.code == GRID_A
    photos = Attachment.objects.filter(case=case)
    assert photos.count() == 1
    assert max(photos.get().width, photos.get().height) == 1600
    expect(sent).to_contain_text(case.number)
    assert violations == []


def test_a_patrol_records_its_track_and_shows_its_coverage(live_server, open_page):
    base, violations = live_server.url, []
    worker = f"gw-{GRID_A2}"
    start = point_in(GRID_A2)
    page = phone(open_page, base, worker, start, violations)
    page.goto(f"{base}/m/patrol/")
    panel = page.locator("#m-patrol")
    expect(panel).to_have_attribute("data-state", "idle")
    page.click("#m-start")
    expect(panel).to_have_attribute("data-state", "active")
    expect(page.locator("#m-points")).to_have_text("1")
    # A walk of 2.5 m a second along the street: the phone reports each new position.
    for step in range(1, 6):
        page.wait_for_timeout(1000)
        page.context.set_geolocation({"longitude": offset(start, 2.5 * step, 0)[0],
                                      "latitude": start[1], "accuracy": 8})  # fmt: skip
        expect(page.locator("#m-points")).to_have_text(str(step + 1))
    patrol = Patrol.objects.get(worker__username=worker, state=PatrolState.ACTIVE)
    page.click("#m-stop")
    expect(panel).to_have_attribute("data-state", "done")
    patrol.refresh_from_db()
    assert patrol.state == PatrolState.ENDED and patrol.points == 6 and patrol.flagged == 0
    assert 0 < patrol.coverage < 1
    coverage = page.locator("#m-coverage")
    assert float(coverage.get_attribute("data-coverage")) == pytest.approx(patrol.coverage)
    expect(coverage).to_have_text(f"{patrol.coverage * 100:.1f}%")
    expect(page.locator("#m-queue")).to_have_attribute("data-count", "0")
    assert violations == []


def test_a_check_in_outside_the_geofence_is_refused_with_the_distance(live_server, open_page):
    base, violations = live_server.url, []
    grid = "32010200200103"
    worker = f"gw-{grid}"
    here = point_in(grid)
    region = Region.objects.get(code=grid)
    near = KeyPlace.objects.create(
        grid=region, name="测试小学", kind="school", lon=here[0], lat=here[1], radius_m=50
    )
    away_at = offset(here, 0, 140)
    far = KeyPlace.objects.create(
        grid=region, name="测试农贸市场", kind="market", lon=away_at[0], lat=away_at[1], radius_m=50
    )
    page = phone(open_page, base, worker, here, violations)
    page.goto(f"{base}/m/patrol/")
    expect(page.locator("#m-position")).to_have_attribute("data-state", "ok")

    row = page.locator(f"#m-checkins li[data-place='{far.pk}']")
    expect(row).to_have_attribute("data-inside", "0")
    row.locator("button").click()
    expect(row).to_have_attribute("data-result", "refused")
    refused = CheckIn.objects.get(worker__username=worker, place=far)
    assert not refused.accepted and refused.reason == "outside_geofence"
    assert refused.distance_m == pytest.approx(140, abs=2)
    expect(row).to_have_attribute("data-distance", str(round(refused.distance_m)))
    expect(row.locator(".m-checkin-result")).to_contain_text(f"{round(refused.distance_m)}")
    # Not swallowed: the refusal waits in the send queue with the server's message.
    expect(page.locator("#m-queue")).to_have_attribute("data-conflicts", "1")

    row = page.locator(f"#m-checkins li[data-place='{near.pk}']")
    expect(row).to_have_attribute("data-inside", "1")
    row.locator("button").click()
    expect(row).to_have_attribute("data-result", "accepted")
    assert CheckIn.objects.get(worker__username=worker, place=near).accepted

    page.goto(f"{base}/m/outbox/")
    conflict = page.locator("#m-queue-list li[data-state=conflict]")
    expect(conflict).to_have_attribute("data-code", "outside_geofence")
    conflict.locator("[data-action=discard]").click()
    conflict.locator("[data-action=discard]").click()  # the second tap discards
    expect(page.locator("#m-queue-list li")).to_have_count(0)
    assert violations == []

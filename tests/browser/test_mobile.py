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
import threading

import pytest
from django.db import connections
from PIL import Image
from playwright.sync_api import Page, expect

from civicgrid.accounts.models import User
from civicgrid.cases.models import Attachment, Case, CaseEvent
from civicgrid.enforcement import demo as enforcement_demo
from civicgrid.enforcement.models import Inspection, InspectionAnswer, InspectionTask
from civicgrid.patrol import services as patrol_services
from civicgrid.patrol.models import CheckIn, KeyPlace, Patrol, PatrolState
from civicgrid.regions.models import Region

from ..cases.conftest import _Committed, committed_demo, move, report
from ..cases.steps import GRID_A, GRID_A2, point_in
from .test_case_flow import PHONE, Desk

# The test database first: a live server started before it shares no connection with the test.
pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("django_db_setup")]


@pytest.fixture(scope="module")
def mobile_demo(django_db_setup, django_db_blocker, demo_divisions):
    demo = committed_demo(django_db_blocker, demo_divisions)
    result = next(demo)
    with django_db_blocker.unblock():
        enforcement_demo.seed(progress=lambda line: None)  # the list, and tasks in GRID_A
    yield result
    demo.close()
    # Opened while Playwright runs, the test's connection is not the one pytest-django closes
    # (on PostgreSQL the test database could then not be dropped at the end).
    with django_db_blocker.unblock():
        connections.close_all()


# One request at a time, when the server's threads share one SQLite connection (see below).
SERIAL = threading.Lock()


def _one_at_a_time(app):
    def serve(environ, start_response):
        with SERIAL:
            return app(environ, start_response)

    return serve


@pytest.fixture
def transactional_db(request, mobile_demo, django_db_blocker):
    """Instead of pytest-django's (which empties every table after each test, and with them the
    module's demo): the live server and the test read and write the committed demo directly.

    On SQLite's in-memory test database the live server's threads share one connection, and the
    test's own ORM calls use it too, as in Django's LiveServerTestCase (with a second connection
    of its own, the test's reads and the app's background requests — each saves the session —
    would lock each other's tables: "database table is locked"). The app makes requests in
    parallel (the service worker, the outbox, a screen's reads), and two transactions on one
    connection break each other's savepoints, so the server takes them one at a time then; a
    test that writes while its page is open takes SERIAL too."""
    assert _Committed.result is mobile_demo, "the committed demo was emptied"
    # Only now: started before the test database exists, the server would share no connection.
    live_server = request.getfixturevalue("live_server")
    shared = live_server.thread.connections_override.get("default")
    own = connections["default"]
    httpd = live_server.thread.httpd
    app = httpd.get_app()
    with django_db_blocker.unblock():
        if shared is not None:
            connections["default"] = shared
            httpd.set_app(_one_at_a_time(app))
        try:
            yield
        finally:
            connections["default"] = own
            httpd.set_app(app)


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
    response = page.goto(f"{base}/m/outbox/")
    assert response.from_service_worker and response.headers.get("x-offline-copy") == "1"
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
    assert page.evaluate(SMALL_TARGETS) == []
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


def test_a_patrol_started_offline_takes_over_one_running_from_another_phone(live_server, open_page):
    base, violations = live_server.url, []
    grid = "32010200200106"
    worker = f"gw-{grid}"
    page = phone(open_page, base, worker, point_in(grid), violations)
    page.goto(f"{base}/m/patrol/")
    panel = page.locator("#m-patrol")
    expect(panel).to_have_attribute("data-state", "idle")
    page.context.set_offline(True)
    page.click("#m-start")
    expect(panel).to_have_attribute("data-state", "active")
    expect(page.locator("#m-points")).to_have_text("1")
    # Meanwhile the worker's other phone started a patrol, which the server has.
    with SERIAL:
        other, _ = patrol_services.patrol_start(
            user=User.objects.get(username=worker), grid_code=grid, client_key="other-phone"
        )
    page.context.set_offline(False)
    # The start is refused (one patrol at a time), and the screen offers to carry on with that one.
    expect(panel).to_have_attribute("data-state", "refused")
    expect(page.locator("#m-take-over")).to_have_attribute("data-patrol", str(other.pk))
    page.click("#m-take-over")
    expect(panel).to_have_attribute("data-state", "active")
    page.click("#m-stop")
    expect(panel).to_have_attribute("data-state", "done")
    other.refresh_from_db()
    assert other.state == PatrolState.ENDED and other.points == 1
    assert Patrol.objects.filter(worker__username=worker).count() == 1
    expect(page.locator("#m-queue")).to_have_attribute("data-count", "0")
    assert violations == []


def _grid(n: int) -> str:
    """The n-th grid of 梅园新村社区 (320102002001); each test works in its own."""
    return f"3201020020010{n}"


def test_a_case_is_verified_from_the_to_do_list_after_a_conflict(live_server, open_page):
    base, violations = live_server.url, []
    grid = _grid(4)
    case = report("", channel="resident", point=point_in(grid), title="小区东门路灯不亮")
    assert case.state == "verifying"
    page = phone(open_page, base, f"gw-{grid}", point_in(grid), violations)
    page.goto(f"{base}/m/todo/")
    page.locator(f"#m-bucket-verify li[data-number='{case.number}'] a").click()
    expect(page.locator("#m-case")).to_have_attribute("data-state", "ready")
    expect(page.locator("#m-case")).to_have_attribute("data-version", str(case.version))

    # Someone else changes the case while the worker stands in front of the lamp.
    with SERIAL:
        move(f"staff-{grid[:12]}", case, "note", note="已电话联系居民")
    page.fill("#m-move textarea[name=note]", "现场核实，路灯确实不亮")
    page.set_input_files(
        "#m-move input[name=photos]",
        files=[{"name": "lamp.jpg", "mimeType": "image/jpeg", "buffer": photo_jpeg()}],
    )
    expect(page.locator("#m-move-photos li")).to_have_count(1)
    page.click("#m-move-buttons button[data-action=verify]")
    # The conflict is shown, not swallowed, and waits in the queue.
    expect(page.locator("#m-move-status")).to_have_attribute("data-kind", "error")
    expect(page.locator("#m-queue")).to_have_attribute("data-conflicts", "1")
    case.refresh_from_db()
    assert case.state == "verifying"

    page.goto(f"{base}/m/outbox/")
    conflict = page.locator("#m-queue-list li[data-state=conflict]")
    expect(conflict).to_have_attribute("data-code", "stale_version")
    conflict.locator("[data-action=retry]").click()  # on the case as it is now
    expect(page.locator("#m-queue-list li")).to_have_count(0)
    case.refresh_from_db()
    assert case.state == "reported"
    verify = CaseEvent.objects.get(case=case, action="verify")
    assert verify.note == "现场核实，路灯确实不亮" and verify.client_key
    assert Attachment.objects.filter(case=case, event=verify).count() == 1
    for path in ("/m/", f"/m/case/?number={case.number}", "/m/history/"):
        page.goto(f"{base}{path}")
        page.wait_for_load_state("networkidle")
    assert violations == []


def test_a_small_matter_is_resolved_on_the_spot(live_server, open_page):
    base, violations = live_server.url, []
    grid = _grid(5)
    page = phone(open_page, base, f"gw-{grid}", point_in(grid), violations)
    page.goto(f"{base}/m/resolve/")
    expect(page.locator("#m-class option[value=E0201]")).to_have_count(1)  # 非法小广告
    expect(page.locator("#m-class option[value=E0101]")).to_have_count(0)  # 私搭乱建: not on the spot
    page.fill("input[name=title]", "电线杆上贴满小广告")
    page.select_option("#m-class", "E0201")
    for name in ("before", "after"):
        page.set_input_files(
            f"input[name={name}]",
            files=[{"name": f"{name}.jpg", "mimeType": "image/jpeg", "buffer": photo_jpeg()}],
        )
        expect(page.locator(f"#m-photos-{name} li")).to_have_count(1)
        if name == "before":
            # Nothing typed or photographed is lost: the draft comes back after a reload.
            page.reload()
            expect(page.locator("input[name=title]")).to_have_value("电线杆上贴满小广告")
            expect(page.locator("#m-class")).to_have_value("E0201")
            expect(page.locator("#m-photos-before li")).to_have_count(1)
    page.fill("textarea[name=note]", "已清除")
    page.click("#m-report button[type=submit]")
    sent = page.locator("#m-sent-list li")
    expect(sent).to_have_attribute("data-state", "sent")
    case = Case.objects.get(title="电线杆上贴满小广告")
    assert case.self_resolved and case.case_class.code == "E0201"
    assert sorted(Attachment.objects.filter(case=case).values_list("purpose", flat=True)) == [
        "after",
        "before",
    ]
    page.goto(f"{base}/m/history/")
    expect(page.locator(f"#m-my-cases li[data-number='{case.number}']")).to_have_count(1)
    assert violations == []


def test_an_inspection_raises_cases_from_failed_checkpoints(live_server, open_page):
    base, violations = live_server.url, []
    worker = f"gw-{GRID_A}"
    task = InspectionTask.objects.filter(assignees__username=worker, state="open").order_by("id").first()
    page = phone(open_page, base, worker, point_in(GRID_A), violations)
    page.goto(f"{base}/m/todo/")
    page.locator(f"#m-tasks li[data-task='{task.pk}'] a").click()
    points = page.locator("#m-checkpoints fieldset")
    expect(points).to_have_count(task.item.checkpoints.filter(active=True).count())
    first, second = points.nth(0), points.nth(1)
    first.locator(".m-seg.fail").click()
    first.locator("input[type=text]").fill("物料堆放占用人行道")
    second.locator(".m-seg.fail").click()
    second.locator(".m-raise input").uncheck()  # this one is raised later, by its button
    for i in range(2, points.count()):
        points.nth(i).locator(".m-seg.pass").click()
    expect(page.locator("#m-checklist [data-role=position]")).to_have_attribute("data-state", "ok")
    page.click("#m-checklist button[type=submit]")
    result = page.locator("#m-inspection-result")
    expect(result).to_have_attribute("data-state", "sent")
    inspection = Inspection.objects.get(pk=result.get_attribute("data-inspection"))
    assert inspection.task_id == task.pk and inspection.failed == 2
    raised = InspectionAnswer.objects.get(inspection=inspection, case__isnull=False)
    expect(result.locator(f"li[data-number='{raised.case.number}']")).to_have_count(1)

    later = InspectionAnswer.objects.get(inspection=inspection, result="fail", case__isnull=True)
    row = result.locator(f"li[data-checkpoint='{later.checkpoint_id}']")
    row.locator("button").click()
    expect(row).to_have_attribute("data-state", "sent")
    later.refresh_from_db()
    assert later.case is not None and later.case.channel == "inspection"
    expect(row).to_contain_text(later.case.number)
    assert page.evaluate(SMALL_TARGETS) == []
    assert violations == []


SMALL_TARGETS = """() => Array.from(document.querySelectorAll(
    "main button, main a, main select, main input:not([type=hidden]):not(.m-file), main summary, .m-tabs a, .m-top a"))
  .filter((e) => e.offsetParent !== null && !e.closest(".leaflet-control-attribution"))
  .map((e) => [e.outerHTML.slice(0, 80), Math.round(e.getBoundingClientRect().height)])
  .filter(([, height]) => height < 44)"""


def test_every_control_is_big_enough_for_a_thumb(live_server, open_page):
    base, violations = live_server.url, []
    page = phone(open_page, base, f"gw-{GRID_A}", point_in(GRID_A), violations)
    for path in ("/m/", "/m/todo/", "/m/report/", "/m/resolve/", "/m/patrol/", "/m/inspect/", "/m/history/",
                 "/m/outbox/"):  # fmt: skip
        page.goto(f"{base}{path}")
        page.wait_for_load_state("networkidle")
        assert page.evaluate(SMALL_TARGETS) == [], path
        assert page.evaluate("document.documentElement.scrollWidth") <= 390, path
    assert violations == []

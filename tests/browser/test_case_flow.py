"""A case's whole life in a real browser, each step by its own person in their own browser:
a grid worker reports it by tapping the map, the shift lead registers it, the operator dispatches
it to the suggested department, the department accepts and reports back, the grid worker checks
it, the shift lead closes it, and the resident rates it on the follow page on a phone."""

from __future__ import annotations

import re

import pytest
from django.utils import translation
from playwright.sync_api import Page, expect

from civicgrid.accounts.models import User
from civicgrid.cases.models import Case, CaseState
from civicgrid.cases.taxonomy import taxonomy_load_default
from civicgrid.demo.loader import DEMO_PASSWORD
from civicgrid.regions.selectors import grid_locate

pytestmark = pytest.mark.browser

DESKTOP = {"viewport": {"width": 1280, "height": 900}, "locale": "zh-CN"}
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "is_mobile": True,
    "has_touch": True,
    "device_scale_factor": 2,
    "locale": "zh-CN",
}
# Inside 玄武区; the grid worker of the grid this point is in reports the case.
POINT = (118.7968, 32.0450)


def _label(state: str) -> str:
    with translation.override("zh-hans"):
        return str(CaseState(state).label)


class Desk:
    """One person's browser, signed in, watching for Content-Security-Policy violations."""

    def __init__(self, open_page, base: str, username: str, violations: list[str], options=DESKTOP):
        self.base = base
        self.page: Page = open_page(**options)
        self.page.on(
            "console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None
        )
        if username:
            self.page.goto(f"{base}/accounts/login/")
            self.page.fill("#id_username", username)
            self.page.fill("#id_password", DEMO_PASSWORD)
            self.page.click("form.stacked button[type=submit]")
            self.page.wait_for_url(lambda url: "/accounts/login" not in url)

    def open_case(self, number: str) -> Page:
        self.page.goto(f"{self.base}/cases/{number}/")
        expect(self.page.locator("#case-map")).to_have_attribute("data-state", "ready")
        return self.page

    def make(self, number: str, action: str, *, note: str = "", then: str) -> None:
        page = self.open_case(number)
        form = page.locator(f"#move-{action}")
        if form.get_attribute("open") is None:
            form.locator("summary").click()
        if note:
            form.locator("textarea[name=note]").fill(note)
        form.locator("button[type=submit]").click()
        expect(page.locator(".flash.success")).to_be_visible()
        expect(page.locator("[data-field=state]")).to_have_text(_label(then))


def _point_in_grid(page: Page, code: str) -> tuple[float, float]:
    """A pixel of the map that lies on grid ``code`` (probing its box: grids are not convex).
    The map is scrolled into view first: elementFromPoint sees only the viewport."""
    page.locator("#case-map").scroll_into_view_if_needed()
    box = page.locator(f'#case-map path[data-code="{code}"]').bounding_box()
    for fy in (0.5, 0.4, 0.6, 0.3, 0.7):
        for fx in (0.5, 0.4, 0.6, 0.3, 0.7):
            x, y = box["x"] + box["width"] * fx, box["y"] + box["height"] * fy
            found = page.evaluate(
                "([x, y]) => { const e = document.elementFromPoint(x, y);"
                " return e ? e.getAttribute('data-code') : null; }",
                [x, y],
            )
            if found == code:
                return x, y
    raise AssertionError(f"no pixel of grid {code} found")


def test_a_case_goes_from_the_grid_to_a_residents_rating(live_server, live_staff, open_page):
    taxonomy_load_default()
    base = live_server.url
    violations: list[str] = []
    grid = grid_locate(lon=POINT[0], lat=POINT[1])["grid"]["code"]
    worker = f"gw-{grid}"
    assert User.objects.filter(username=worker).exists()

    # The grid worker reports what they found: the map opens on their grid; a tap places it.
    gw = Desk(open_page, base, worker, violations)
    page = gw.page
    page.goto(f"{base}/cases/new/")
    expect(page.locator("#case-map")).to_have_attribute("data-state", "ready")
    page.fill("#id_title", "小区门口有人私自搭建彩钢棚")
    page.fill("#id_description", "已经搭了两天，堵住了消防通道")
    page.click("#suggest-class")
    expect(page.locator("#id_case_class")).to_have_value("E0101")
    page.select_option("#id_case_class", "")  # the shift lead classifies it when registering
    x, y = _point_in_grid(page, grid)
    page.mouse.click(x, y)
    expect(page.locator("#case-map-status")).to_have_attribute("data-kind", "ok")
    assert page.input_value("input[name=lon]") and page.input_value("input[name=crs]") == "wgs84"
    page.click("form.case-form button[type=submit]")
    page.wait_for_url(re.compile(r"/cases/\d{6}-\d{8}-\d{6}/$"))
    number = page.url.rstrip("/").rsplit("/", 1)[1]
    case = Case.objects.get(number=number)
    assert case.grid.code == grid and case.channel == "grid_worker"
    expect(page.locator("[data-field=state]")).to_have_text(_label("reported"))
    expect(page.locator("[data-field=deadline]")).to_contain_text(
        re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}")
    )

    # The shift lead registers it as 私搭乱建.
    lead = Desk(open_page, base, "shiftlead", violations)
    lead.open_case(number).select_option("#register-class", "E0101")
    lead.make(number, "register", then="registered")
    expect(lead.page.locator("[data-field=class]")).to_contain_text("私搭乱建")

    # The operator dispatches it; the rules' department is already chosen.
    operator = Desk(open_page, base, "operator", violations)
    expect(operator.open_case(number).locator("#dispatch-department")).to_have_value("D01")
    operator.make(number, "dispatch", then="dispatched")
    expect(operator.page.locator("[data-field=deadline]")).not_to_be_empty()

    # The department accepts and reports back; the handling deadline is shown.
    department = Desk(open_page, base, "dept-d01", violations)
    department.make(number, "accept", then="handling")
    expect(department.page.locator("[data-field=due]")).to_contain_text(re.compile(r"\d{4}-\d{2}-\d{2}"))
    department.make(number, "feedback", note="彩钢棚已拆除，通道已恢复", then="checking")

    gw.make(number, "check_pass", then="checked")
    lead.make(number, "close", then="closed")
    expect(lead.page.locator("#move-rate")).to_have_count(0)

    # The resident, on a phone and signed in nowhere, rates it through the follow link.
    case.refresh_from_db()
    resident = Desk(open_page, base, "", violations, options=PHONE)
    phone = resident.page
    phone.goto(f"{base}/track/{case.tracking_code}/")
    expect(phone.locator("[data-field=state]")).to_have_text(_label("closed"))
    expect(phone.locator(".timeline")).to_contain_text("彩钢棚已拆除")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    phone.locator("label.choice", has=phone.locator("input[value=satisfied]")).tap()
    phone.fill("#id_comment", "处理得很快")
    phone.locator("form.rate-form button[type=submit]").tap()
    expect(phone.locator(".flash.success")).to_be_visible()
    expect(phone.locator("form.rate-form")).to_have_count(0)
    case.refresh_from_db()
    assert case.satisfaction == "satisfied" and case.rating_comment == "处理得很快"
    assert violations == []

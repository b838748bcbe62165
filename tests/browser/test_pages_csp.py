"""Every page works under our Content-Security-Policy, and the language switch works with JS on."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from civicgrid.demo.loader import DEMO_PASSWORD

pytestmark = pytest.mark.browser


def test_no_page_breaks_the_content_security_policy(live_server, live_staff, open_page):
    page = open_page(viewport={"width": 1280, "height": 800}, locale="zh-CN")
    violations: list[str] = []
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", "admin")
    page.fill("#id_password", DEMO_PASSWORD)
    page.click("form.stacked button[type=submit]")
    for path in ["/", "/map/", "/grids/32010200200101/", "/admin/", "/admin/regions/region/",
                 "/admin/regions/import/", "/api/v1/docs", "/cases/", "/cases/list/", "/cases/new/",
                 "/messages/", "/report/", "/track/"]:  # fmt: skip
        page.goto(f"{live_server.url}{path}")
        page.wait_for_load_state("networkidle")
    assert violations == []


def test_choosing_english_switches_the_page(live_server, live_staff, open_page):
    page = open_page(viewport={"width": 1280, "height": 800}, locale="zh-CN")
    page.goto(f"{live_server.url}/")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    page.select_option("form.lang select", "en")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_text("Open the grid map")).to_be_visible()

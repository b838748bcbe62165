"""街道吹哨、部门报到 in a real browser: a street operator blows a whistle summoning two
departments; each department's handler signs in on a phone and reports in; the street sees both
on time. Each person in their own browser, every page under the Content-Security-Policy."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from civicgrid.whistles.models import Summons, Whistle

from .test_case_flow import DESKTOP, PHONE, Desk

pytestmark = pytest.mark.browser
STREET_OPERATOR = "street-320102002"  # 梅园新村街道 (civicgrid/demo/people.py)


def test_a_street_whistles_two_departments_and_each_reports_in(live_server, live_staff, open_page):
    violations: list[str] = []
    street = Desk(open_page, live_server.url, STREET_OPERATOR, violations, DESKTOP)
    page = street.page
    page.goto(f"{live_server.url}/whistles/")
    # The list's own button (the top bar's "吹哨报到" link matches 吹哨 too).
    page.locator("main a.button[href='/whistles/new/']").click()
    page.locator("input[name=kind][value=tough]").check()
    page.select_option("#w-region", "320102002000")
    page.fill("#w-title", "珠江路沿线占道经营反复回潮")
    page.fill("#w-place", "珠江路与太平北路路口")
    page.locator("input[name=departments][value=D01]").check()
    page.locator("input[name=departments][value=D03]").check()
    page.select_option("#w-lead", "D01")
    page.locator("form.whistle-form button[type=submit]").click()
    expect(page.locator(".flash.success")).to_be_visible()
    expect(page.locator("tr[data-status=waiting]")).to_have_count(2)
    number = page.locator("section[data-number]").get_attribute("data-number")

    # The first department's phone shares its position; the second's does not.
    here = PHONE | {
        "geolocation": {"longitude": 118.7968, "latitude": 32.045},
        "permissions": ["geolocation"],
    }
    for username, code, options in (("dept-d01", "D01", here), ("dept-d03", "D03", PHONE)):
        desk = Desk(open_page, live_server.url, username, violations, options)
        phone = desk.page
        phone.goto(f"{live_server.url}/whistles/{number}/")
        form = phone.locator("#report-in")
        expect(form).to_be_visible()
        if options is here:
            expect(form.locator("[data-role=position]")).to_be_visible()
        form.locator("input[name=attendees]").fill("王伟、李娜")
        form.locator("input[name=where]").fill("路口东北角")
        form.locator("button[type=submit]").click()
        expect(phone.locator(".flash.success")).to_be_visible()
        expect(phone.locator(f"tr[data-department={code}]")).to_have_attribute("data-status", "on_time")
        expect(phone.locator("#report-in")).to_have_count(0)

    page.reload()
    expect(page.locator("tr[data-status=on_time]")).to_have_count(2)
    whistle = Whistle.objects.get(number=number)
    assert whistle.kind == "tough" and whistle.lead.code == "D01"
    reported = Summons.objects.filter(whistle=whistle, reported_at__isnull=False, late=False)
    assert sorted(reported.values_list("department__code", flat=True)) == ["D01", "D03"]
    points = dict(reported.values_list("department__code", "lon"))
    assert points["D01"] == pytest.approx(118.7968) and points["D03"] is None
    for path in ("/whistles/", "/whistles/figures/", f"/whistles/{number}/", "/whistles/new/"):
        page.goto(f"{live_server.url}{path}")
        page.wait_for_load_state("networkidle")
    assert violations == []

"""The opinion page in real Chromium on a laptop and a phone: both charts draw under the site's
Content-Security-Policy, the lists carry the figures, nothing scrolls sideways on the phone, and
the street picker narrows the page."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from civicgrid.insight import opinion

from ..cases.steps import GRID_A, GRID_B
from ..insight.test_opinion import STREET_B, WEEK, said
from .test_case_flow import Desk

pytestmark = pytest.mark.browser
LAPTOP = {"viewport": {"width": 1366, "height": 768}, "locale": "zh-CN"}
PHONE = {"viewport": {"width": 390, "height": 844}, "locale": "zh-CN", "is_mobile": True}


@pytest.fixture
def week(live_staff):
    opinion.forget()
    for days, grid, text in (
        (1, GRID_A, "违章搭建，没人管"),
        (2, GRID_A, "违章搭建"),
        (2, GRID_B, "违章搭建"),
    ):
        said(text, WEEK + timedelta(days=days), grid=grid)
    opinion.opinion_weeks_compute(start=WEEK)
    yield
    opinion.forget()


@pytest.mark.parametrize("options", [LAPTOP, PHONE], ids=["laptop", "phone"])
def test_the_opinion_page_draws_its_charts(live_server, week, open_page, options):
    problems: list[str] = []
    page = Desk(open_page, live_server.url, "operator", problems, options).page
    page.goto(f"{live_server.url}/command/opinion/?week={WEEK}")
    expect(page.locator("[data-field=texts] strong")).to_have_text("3")
    expect(page.locator('#top-terms li[data-term="违章搭建"]')).to_have_attribute("data-texts", "3")
    expect(page.locator("#opinion-terms-chart canvas")).not_to_have_count(0)
    expect(page.locator("#opinion-trend-chart canvas")).not_to_have_count(0)
    width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], width

    page.select_option("#o-street", STREET_B)
    page.locator("#opinion-filter button[type=submit]").click()
    expect(page.locator(f'[data-street="{STREET_B}"]')).to_be_visible()
    expect(page.locator("[data-field=texts] strong")).to_have_text("1")
    assert not problems, problems

"""Duplicates in a real browser: a resident on a phone describes a matter already reported
nearby, the page offers the existing case as they type, they follow it instead of filing; an
operator merges a second report into it from the case page."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from civicgrid.cases.models import Case, CaseFollower, CaseState
from civicgrid.cases.taxonomy import taxonomy_load_default

from ..cases.conftest import report
from .test_case_flow import PHONE, POINT, Desk

pytestmark = pytest.mark.browser
TEXT = "电线杆上贴满小广告"


def test_a_resident_follows_the_existing_case_and_an_operator_merges_another(
    live_server, live_staff, open_page
):
    taxonomy_load_default()
    base = live_server.url
    existing = report("operator", channel="phone", point=POINT, case_class="E0201", title=TEXT)
    second = report(
        "operator", channel="phone", point=(POINT[0], POINT[1] + 0.0002), case_class="E0201", title=TEXT
    )
    before = Case.objects.count()

    page = open_page(**PHONE)
    page.goto(f"{base}/report/")
    # The place as the map leaves it (hidden inputs), then the words: the check runs as they type.
    page.evaluate(
        "([lon, lat]) => { document.querySelector('input[name=lon]').value = lon;"
        " document.querySelector('input[name=lat]').value = lat; }",
        [POINT[0] + 0.0003, POINT[1]],
    )
    page.fill("#id_description", "我家楼下电线杆上贴满了小广告")
    offer = page.locator("#duplicates-offer")
    expect(offer).to_be_visible()
    expect(offer.locator(f'li[data-number="{existing.number}"]')).to_contain_text(TEXT)
    expect(page.locator("[data-send]")).to_be_hidden()  # follow one, or say it is different
    offer.locator(f'button[name=follow][value="{existing.number}"]').click()
    page.wait_for_url(re.compile(r"/track/F[A-Z0-9]{10}/$"))
    expect(page.locator('[data-banner="followed"]')).to_be_visible()
    expect(page.locator("[data-field=state]")).to_be_visible()
    assert page.locator("input[name=satisfaction]").count() == 0
    assert Case.objects.count() == before and CaseFollower.objects.filter(case=existing).exists()

    # The operator sees the second report's possible duplicate and merges it in.
    desk = Desk(open_page, base, "operator", [])
    case_page = desk.open_case(second.number)
    panel = case_page.locator('[data-panel="duplicates"]')
    expect(panel.locator(f'li[data-number="{existing.number}"]')).to_be_visible()
    panel.locator(f'li[data-number="{existing.number}"] form').first.locator("button").click()
    case_page.wait_for_url(re.compile(rf"/cases/{existing.number}/$"))
    expect(case_page.locator('[data-list="linked"]')).to_contain_text(second.number)
    second.refresh_from_db()
    assert second.master_id == existing.pk and second.state == CaseState.VOIDED

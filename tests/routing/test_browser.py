"""四级四事 on a phone, in Debian's Chromium: the building leader finds a family matter on
/routing/, records the talk at the door and resolves it; an escalation takes it out of their list."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from civicgrid.cases.models import Case, CaseState, Tier
from civicgrid.demo.loader import DEMO_PASSWORD
from civicgrid.routing import rules
from tests.browser.conftest import browser, live_staff, open_page  # noqa: F401
from tests.browser.test_case_flow import PHONE

from .conftest import BL_A, family_case

pytestmark = pytest.mark.browser


def _signed_in(open_page, base: str, username: str):  # noqa: F811
    page = open_page(**PHONE)
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", DEMO_PASSWORD)
    page.click("form.stacked button[type=submit]")
    page.wait_for_url(lambda url: "/accounts/login" not in url)
    return page


def test_a_building_leader_resolves_a_family_matter_on_a_phone(live_server, live_staff, open_page):  # noqa: F811
    from civicgrid.cases.taxonomy import taxonomy_load_default

    taxonomy_load_default()
    case = family_case()
    escalated = family_case()
    page = _signed_in(open_page, live_server.url, BL_A)
    page.goto(f"{live_server.url}/routing/")
    cards = page.locator(".routing-cases [data-number]")
    expect(cards).to_have_count(2)
    # Nothing overflows the phone's width.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.locator(f'[data-number="{case.number}"]').click()
    expect(page.locator(".routing-panel [data-field=tier]")).to_be_visible()
    form = page.locator(f"#tier-move-{rules.RESOLVE}")
    form.locator("summary").click()
    form.locator("textarea[name=reason]").fill("楼栋长上门调解,双方和解")
    form.locator("button[type=submit]").click()
    expect(page.locator(".flash.success")).to_be_visible()
    case.refresh_from_db()
    assert (case.state, case.tier) == (CaseState.CHECKING, Tier.BUILDING)
    # The other one escalated by hand: back on the list, which no longer holds it.
    page.goto(f"{live_server.url}/cases/{escalated.number}/")
    form = page.locator(f"#tier-move-{rules.ESCALATE}")
    form.locator("summary").click()
    form.locator("textarea[name=reason]").fill("涉及公共管道")
    form.locator("button[type=submit]").click()
    page.wait_for_url(f"{live_server.url}/routing/")
    expect(page.locator(f'[data-number="{escalated.number}"]')).to_have_count(0)
    assert Case.objects.get(pk=escalated.pk).tier == Tier.ESTATE

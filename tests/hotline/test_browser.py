"""The hotline pages in a real browser, on a phone: an operator uploads a batch, sees its report,
and places the order that waited in triage."""

from __future__ import annotations

import pytest
from huey.contrib.djhuey import HUEY
from playwright.sync_api import expect

from civicgrid.hotline.models import HotlineBatch, HotlineOrder, OrderState
from tests.browser.test_case_flow import PHONE, Desk
from tests.hotline.conftest import as_csv, order

pytestmark = pytest.mark.browser


def test_an_operator_imports_a_batch_and_places_a_triaged_order(
    live_server,
    live_staff,
    open_page,
    monkeypatch,
    tmp_path,
    settings,
):
    settings.MEDIA_ROOT = tmp_path
    monkeypatch.setattr(HUEY, "immediate", True)  # the import runs right after the upload's commit
    violations: list[str] = []
    desk = Desk(open_page, live_server.url, "operator", violations, options=PHONE)
    page = desk.page
    path = tmp_path / "orders.csv"
    path.write_bytes(
        as_csv([order("BR1"), order("BR2", lon="", lat="", address="不详"), order("", content="坏行")])
    )
    page.goto(f"{live_server.url}/hotline/")
    page.set_input_files("#h-file", str(path))
    page.click("form.hotline-upload button[type=submit]")
    expect(page.locator("#batch-progress")).to_have_attribute("data-status", "done")
    expect(page.locator('[data-count="created"]')).to_have_text("1")
    expect(page.locator('[data-count="triaged"]')).to_have_text("1")
    expect(page.locator('tr[data-outcome="rejected"]')).to_contain_text("missing_number")
    assert HotlineBatch.objects.get().status == "done"

    page.goto(f"{live_server.url}/hotline/triage/")
    card = page.locator('[data-order="BR2"]')
    card.locator("select[name=place]").select_option(index=1)
    card.locator("button.button:not(.secondary)").click()
    expect(page.locator(".flash.success")).to_be_visible()
    expect(page.locator('[data-empty="triage"]')).to_be_visible()
    assert HotlineOrder.objects.get(external_number="BR2").state == OrderState.PLACED
    assert not violations

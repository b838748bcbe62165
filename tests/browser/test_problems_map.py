"""The back office's import page: a broken file's problems listed and drawn on the map."""

from __future__ import annotations

import copy
import json

import pytest
from playwright.sync_api import expect

from civicgrid.demo.loader import DEMO_PASSWORD
from tests.regions.helpers import feature, geometry, grid_collection, set_geometry

pytestmark = pytest.mark.browser


def test_a_broken_upload_is_drawn_and_each_row_flies_to_its_problem(
    live_server, live_demo, open_page, tmp_path
):
    collection = grid_collection()
    collection["features"].remove(feature(collection, "32010200200101"))  # a gap
    set_geometry(collection, "32010200200103", geometry(collection, "32010200200103").buffer(0.0005))
    collection["features"].append(copy.deepcopy(feature(collection, "32010200200105")))  # duplicate code
    path = tmp_path / "broken.geojson"
    path.write_text(json.dumps(collection, ensure_ascii=False), encoding="utf-8")

    page = open_page(viewport={"width": 1280, "height": 900})
    # The admin's login sends people to the public one, which asks for a second factor if set.
    page.goto(f"{live_server.url}/admin/login/?next=/admin/regions/import/")
    page.fill("#id_username", "admin")
    page.fill("#id_password", DEMO_PASSWORD)
    page.click("form.stacked button[type=submit]")
    page.fill("#id_name", "broken")
    page.set_input_files("#id_file", str(path))
    page.check("#id_commit")
    page.click("form input[type=submit][value]")

    rows = page.locator("tr[data-problem]")
    expect(rows.first).to_be_visible()
    kinds = rows.locator("td:nth-child(2)").all_inner_texts()
    assert {"gap", "overlap", "outside_parent", "duplicate_code"} <= set(kinds)
    # Every problem is on the map: area problems as red shapes, the others as markers.
    red = page.locator('#problem-map path[fill="#d62728"]')
    # The rows are HTML and can be visible while the parser still waits for Leaflet's script.
    expect(red.first).to_be_attached()
    assert red.count() >= len(kinds)
    context = page.locator('#problem-map path:not([fill="#d62728"])')
    assert context.count() >= 60  # the communities, drawn lightly underneath
    rows.nth(kinds.index("gap")).click()
    expect(page.locator(".problem-popup")).to_contain_text("320102002001")

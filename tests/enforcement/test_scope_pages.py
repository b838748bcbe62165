"""What each role may read: the item list (staff only), inspections in scope (the inspector, the
area, the officer's street, the item's department), and the pages in Chinese by default."""

from __future__ import annotations

from django.utils import timezone

from civicgrid.enforcement.models import Inspection

from ..cases.steps import GRID_B, error_of, signed_in
from .conftest import GW_A, GW_B, ITEM, OFFICER_A, OFFICER_B, answers_for, inspect

API = "/api/v1/enforcement"


def test_staff_search_the_item_list(client, edemo):
    c = signed_in(client, GW_A)
    items = c.get(f"{API}/items").json()
    assert len(items) == 36 and {"code", "name", "department", "legal_basis", "checkpoints"} <= set(items[0])
    found = c.get(f"{API}/items", {"q": "燃气"}).json()
    assert found and all(i["code"].startswith("ZF-RQ") or "燃气" in i["name"] for i in found)
    one = next(i for i in items if i["code"] == ITEM)
    assert one["department"] == "D01" and "第十四条" in one["legal_basis"]
    assert [cp["seq"] for cp in one["checkpoints"]] == [1, 2, 3]
    # A checkpoint's words find their item too.
    assert [i["code"] for i in c.get(f"{API}/items", {"q": "油烟净化设施"}).json()] == ["ZF-ZD-004"]
    error_of(signed_in(client, "resident1").get(f"{API}/items"), 403, "enforcement_forbidden")
    assert signed_in(client, None).get(f"{API}/items").status_code == 401


def test_inspections_are_read_in_scope(client, edemo):
    mine = inspect(GW_A).inspection
    theirs = inspect(GW_B, grid=GRID_B, answers=answers_for(failed=[2])).inspection
    url = f"{API}/inspections"

    def ids(who, **params):
        response = signed_in(client, who).get(url, params)
        assert response.status_code == 200, response.content
        return {i["id"] for i in response.json()["items"]}

    assert mine.pk in ids(GW_A) and theirs.pk not in ids(GW_A)
    assert mine.pk in ids(OFFICER_A) and theirs.pk not in ids(OFFICER_A)
    assert theirs.pk in ids(OFFICER_B) and mine.pk not in ids(OFFICER_B)
    assert {mine.pk, theirs.pk} <= ids("operator")
    assert theirs.pk not in ids("street-320102002")
    # The item's department (D01) reads its inspections; another department does not.
    assert {mine.pk, theirs.pk} <= ids("dept-d01") and mine.pk not in ids("dept-d03")
    assert ids("resident1") == set()
    assert ids("operator", grid=GRID_B) == {i.pk for i in Inspection.objects.filter(grid__code=GRID_B)}
    today = timezone.localtime(mine.at).date().isoformat()  # local days, as the filter reads them
    assert mine.pk in ids("operator", **{"from": today, "to": today})
    error_of(signed_in(client, "operator").get(url, {"from": "soon"}), 400, "bad_date")
    error_of(signed_in(client, GW_A).get(f"{API}/inspections/{theirs.pk}"), 404, "inspection_not_found")


def test_the_pages_show_the_list_an_item_and_an_inspection(client, edemo):
    recorded = inspect(OFFICER_A, answers=answers_for(failed=[1, 3], raise_case=[1]))
    c = signed_in(client, OFFICER_A)
    page = c.get("/enforcement/")
    assert page.status_code == 200 and b'lang="zh-hans"' in page.content
    assert f'data-code="{ITEM}"'.encode() in page.content
    searched = c.get("/enforcement/", {"q": "横幅"})
    assert (
        b'data-code="ZF-GG-003"' in searched.content
        and f'data-code="{ITEM}"'.encode() not in searched.content
    )
    item = c.get(f"/enforcement/items/{ITEM}/")
    assert item.status_code == 200 and f'data-inspection="{recorded.inspection.pk}"'.encode() in item.content
    assert c.get("/enforcement/items/NOPE/").status_code == 404
    detail = c.get(f"/enforcement/inspections/{recorded.inspection.pk}/")
    assert detail.status_code == 200
    assert recorded.cases[0].encode() in detail.content and b'data-action="raise-case"' in detail.content
    # Raise the second failure's case from the page.
    third = answers_for()[2]["checkpoint"]
    raised = c.post(f"/enforcement/inspections/{recorded.inspection.pk}/cases", {"checkpoint": third})
    assert raised.status_code == 303
    detail = c.get(f"/enforcement/inspections/{recorded.inspection.pk}/")
    assert b'data-action="raise-case"' not in detail.content
    listing = c.get("/enforcement/inspections/")
    assert f'data-inspection="{recorded.inspection.pk}"'.encode() in listing.content
    # Outside the scope: 404 like a missing one; residents: 403.
    assert (
        signed_in(client, GW_B).get(f"/enforcement/inspections/{recorded.inspection.pk}/").status_code == 404
    )
    assert signed_in(client, "resident1").get("/enforcement/").status_code == 403
    assert signed_in(client, None).get("/enforcement/").status_code == 302

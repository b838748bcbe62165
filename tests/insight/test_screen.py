"""The big screen (/command/ and /api/v1/insight/screen/…): who may open it, and that each block's
figures match a hand-made world — counted from the rollups and kept inside the reader's scope,
with links to the case list that stay there too."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.utils import timezone

from civicgrid.accounts.models import User
from civicgrid.accounts.scopes import scope_for
from civicgrid.accounts.tokens import api_token_create
from civicgrid.cases.models import Case
from civicgrid.insight import rollups, screen
from civicgrid.insight.models import Alert, AlertKind, AlertStatus
from civicgrid.regions.models import Region

from ..cases.steps import CHIEF_A, GRID_A, GRID_B, NOT_SELF_RESOLVABLE, STREET_A, S, error_of, signed_in, walk
from ..whistles.conftest import blow

API = "/api/v1/insight/screen/"
BLOCKS = ("summary", "map", "feed", "trend", "classes", "streets", "whistles", "warnings")
STREET_A_CODE, STREET_B_CODE = "320102002000", "320102010000"


@pytest.fixture(autouse=True)
def _no_cache(monkeypatch):
    monkeypatch.setattr(screen, "CACHE_SECONDS", 0)


@pytest.fixture
def world(idemo):
    """Four cases in grid A (street A): reported, being handled, closed, and registered with its
    clock run out; two in grid B (street B): reported and being handled. Rollups built."""
    cases = {
        "a_reported": walk(S.REPORTED),
        "a_handling": walk(S.HANDLING),
        "a_closed": walk(S.CLOSED),
        "a_overdue": walk(S.REGISTERED),
        "b_reported": walk(S.REPORTED, grid=GRID_B),
        "b_handling": walk(S.HANDLING, grid=GRID_B),
    }
    # The registration clock ran out an hour ago (the clock sweep's business; set by hand here).
    Case.objects.filter(pk=cases["a_overdue"].pk).update(stage_deadline=timezone.now() - timedelta(hours=1))
    rollups.rebuild()
    return {k: Case.objects.get(pk=c.pk) for k, c in cases.items()}


def _get(client, username, block, **params):
    response = signed_in(client, username).get(API + block, params)
    assert response.status_code == 200, response.content
    return response.json()


def _figures(body) -> dict:
    return {f["key"]: f for f in body["figures"]}


def _query(link: str) -> dict[str, str]:
    parts = urlsplit(link)
    assert parts.path == "/cases/list/"
    return {k: v[0] for k, v in parse_qs(parts.query).items()}


@pytest.mark.parametrize("username", ["resident1", "auditor", "secadmin", f"gw-{GRID_A}"])
def test_it_refuses_people_whose_work_is_not_the_command_centre(client, idemo, username):
    signed_in(client, username)
    assert client.get("/command/").status_code == 403
    for block in BLOCKS:
        error_of(client.get(API + block), 403, "screen_forbidden")


def test_it_asks_strangers_to_log_in(client, idemo):
    signed_in(client, None)
    response = client.get("/command/")
    assert response.status_code == 302 and "/accounts/login" in response["Location"]
    for block in BLOCKS:
        assert client.get(API + block).status_code == 401


def test_the_page_opens_for_the_command_roles(client, idemo):
    for username in ("operator", "shiftlead", STREET_A, "dept-d01"):
        response = signed_in(client, username).get("/command/")
        assert response.status_code == 200
        assert b'id="screen-config"' in response.content


def test_the_operator_sees_the_whole_district(client, world):
    today = timezone.localdate()
    figures = _figures(_get(client, "operator", "summary"))
    registered = [c for c in world.values() if c.registered_at is not None]
    assert figures["today"]["value"] == 6 and figures["month"]["value"] == 6
    assert figures["open"]["value"] == 5 and figures["overdue"]["value"] == 1
    assert figures["closed_today"]["value"] == 1
    assert figures["on_time_closure"]["value"] == pytest.approx(1 / len(registered), abs=1e-4)
    assert _query(figures["today"]["link"]) == {"date_from": today.isoformat(), "date_to": today.isoformat()}
    assert _query(figures["overdue"]["link"]) == {"overdue": "1"}
    assert set(_query(figures["open"]["link"])["state"].split(",")) == set(screen.OPEN_STATES)

    grids = {g["code"]: g for g in _get(client, "operator", "map")["grids"]}
    assert (grids[GRID_A]["open"], grids[GRID_A]["overdue"]) == (3, 1)
    assert (grids[GRID_B]["open"], grids[GRID_B]["overdue"]) == (2, 0)
    assert sum(g["open"] for g in grids.values()) == 5

    ranking = _get(client, "operator", "streets")
    assert ranking["unit"] == "street"
    assert {r["code"]: r["cases"] for r in ranking["rows"]} == {STREET_A_CODE: 4, STREET_B_CODE: 2}


def test_a_street_operator_sees_only_their_street(client, world):
    street = Region.objects.get(code=STREET_A_CODE)
    figures = _figures(_get(client, STREET_A, "summary"))
    assert figures["today"]["value"] == 4 and figures["open"]["value"] == 3
    assert figures["overdue"]["value"] == 1 and figures["closed_today"]["value"] == 1
    for figure in figures.values():  # every link stays in the street
        assert _query(figure["link"])["region"] == STREET_A_CODE

    drawn = _get(client, STREET_A, "map")
    street_grids = set(
        Region.objects.filter(level="grid", parent__parent=street).values_list("code", flat=True)
    )
    assert set(drawn["only"]) == street_grids and GRID_B not in {g["code"] for g in drawn["grids"]}
    assert {g["code"] for g in drawn["grids"]} <= street_grids
    assert {g["code"]: g["open"] for g in drawn["grids"] if g["open"]} == {GRID_A: 3}

    trend = _get(client, STREET_A, "trend")
    assert trend["reported"][-1] == 4 and sum(trend["reported"]) == 4
    assert trend["closed"][-1] == 1 and _query(trend["links"][-1])["region"] == STREET_A_CODE

    classes = _get(client, STREET_A, "classes")
    assert [(c["code"], c["cases"]) for c in classes["major"]] == [("E02", 4)]
    assert [(c["code"], c["cases"]) for c in classes["minor"]] == [("E0201", 4)]
    assert _query(classes["minor"][0]["link"])["region"] == STREET_A_CODE

    ranking = _get(client, STREET_A, "streets")  # in a street: its communities
    assert ranking["unit"] == "community"
    communities = set(Region.objects.filter(parent=street).values_list("code", flat=True))
    assert {r["code"] for r in ranking["rows"]} <= communities and sum(
        r["cases"] for r in ranking["rows"]
    ) == 4

    feed = _get(client, STREET_A, "feed")
    street_a = {c.number for k, c in world.items() if k.startswith("a_")}
    assert {i["number"] for i in feed["items"] if i["kind"] == "new"} == street_a
    assert [i["number"] for i in feed["items"] if i["kind"] == "overdue"] == [world["a_overdue"].number]


def test_a_grid_chiefs_screen_is_their_communitys(client, world):
    community = Region.objects.get(code=CHIEF_A.removeprefix("chief-"))
    body = _get(client, CHIEF_A, "summary")
    assert body["scope"] == community.name
    figures = _figures(body)
    assert figures["today"]["value"] == 4  # grid A lies in the community; grid B does not
    assert all(_query(f["link"])["region"] == community.code for f in figures.values())
    ranking = _get(client, CHIEF_A, "streets")
    assert ranking["unit"] == "grid" and {r["code"]: r["cases"] for r in ranking["rows"]} == {GRID_A: 4}


def test_top_classes_rank_the_months_cases(client, world):
    for _ in range(2):
        walk(S.REPORTED, case_class=NOT_SELF_RESOLVABLE)
    rollups.rebuild()
    classes = _get(client, "operator", "classes")
    assert [(c["code"], c["cases"]) for c in classes["major"]] == [("E02", 6), ("E01", 2)]
    assert [(c["code"], c["cases"]) for c in classes["minor"]] == [("E0201", 6), (NOT_SELF_RESOLVABLE, 2)]
    assert _query(classes["major"][1]["link"])["case_class"] == "E01"


def test_a_department_handler_sees_only_their_departments_cases(client, world):
    theirs = {c.number for c in world.values() if c.department_id and c.department.code == "D01"}
    assert {world["a_handling"].number, world["b_handling"].number} <= theirs
    assert world["a_reported"].number not in theirs
    figures = _figures(_get(client, "dept-d01", "summary"))
    assert figures["today"]["value"] == len(theirs)
    assert _query(figures["today"]["link"])["department"] == "D01"
    assert figures["closed_today"]["value"] is None  # moves are counted by place only
    feed = _get(client, "dept-d01", "feed")
    assert {i["number"] for i in feed["items"]} <= theirs
    assert {i["number"] for i in feed["items"] if i["kind"] == "new"} == theirs
    drawn = _get(client, "dept-d01", "map")
    assert drawn["only"] is None
    open_theirs = sum(1 for c in world.values() if c.number in theirs and c.state != S.CLOSED)
    assert sum(g["open"] for g in drawn["grids"]) == open_theirs
    assert _get(client, "dept-d01", "trend")["closed"] is None


def test_the_feed_gives_what_came_after_its_cursor(client, idemo, monkeypatch):
    start = timezone.now()
    clock = {"now": start}
    monkeypatch.setattr(timezone, "now", lambda: clock["now"])
    first = walk(S.REGISTERED)
    clock["now"] = start + timedelta(minutes=1)
    body = _get(client, "operator", "feed")
    assert [i["number"] for i in body["items"]] == [first.number]
    cursor = body["cursor"]

    # Two minutes on: a new case, and the first one's clock ran out a minute after the cursor.
    clock["now"] = start + timedelta(minutes=2)
    second = walk(S.REPORTED)
    Case.objects.filter(pk=first.pk).update(stage_deadline=start + timedelta(seconds=90))
    clock["now"] = start + timedelta(minutes=3)
    body = _get(client, "operator", "feed", after=cursor)
    assert [(i["kind"], i["number"]) for i in body["items"]] == [
        ("new", second.number),
        ("overdue", first.number),
    ]
    assert int(body["cursor"]) > int(cursor)
    assert all(i["link"] == f"/cases/{i['number']}/" for i in body["items"])
    error_of(signed_in(client, "operator").get(API + "feed", {"after": "yesterday"}), 400, "bad_cursor")


def test_warnings_in_scope_only(client, world):
    now = timezone.now()
    grid_a, grid_b = Region.objects.get(code=GRID_A), Region.objects.get(code=GRID_B)
    common = {
        "kind": AlertKind.SPIKE,
        "severity": 3,
        "day": timezone.localdate(),
        "created_at": now,
        "updated_at": now,
    }
    Alert.objects.create(key="a", street=grid_a.parent.parent, grid=grid_a, explanation="12 vs usual 3.1",
                         link=f"region={GRID_A}&case_class=E02", **common)  # fmt: skip
    Alert.objects.create(key="b", street=grid_b.parent.parent, grid=grid_b, explanation="9 vs 2", **common)
    Alert.objects.create(key="c", street=grid_a.parent.parent, grid=grid_a, explanation="old",
                         **common | {"status": AlertStatus.CLOSED})  # fmt: skip
    assert _get(client, "operator", "warnings")["count"] == 2
    mine = _get(client, STREET_A, "warnings")
    assert mine["count"] == 1 and mine["rows"][0]["explanation"] == "12 vs usual 3.1"
    assert mine["rows"][0]["link"] == f"/cases/list/?region={GRID_A}&case_class=E02"
    assert _get(client, "dept-d01", "warnings") == {"count": 0, "rows": []}


def test_whistles_are_those_of_the_readers_street_or_department(client, world):
    mine = blow(STREET_A, departments=("D01", "D02"))
    blow("street-320102010", departments=("D03",), title="玄武湖街道的哨")
    body = _get(client, STREET_A, "whistles")
    assert body["available"] is True and body["count"] == 1
    assert [(w["number"], w["summoned"], w["reported"]) for w in body["rows"]] == [(mine.number, 2, 0)]
    assert body["rows"][0]["link"] == f"/whistles/{mine.number}/"
    assert [w["number"] for w in _get(client, "dept-d01", "whistles")["rows"]] == [mine.number]
    assert _get(client, "operator", "whistles")["count"] == 2


def test_the_blocks_answer_a_token_with_the_insight_read_scope(client, world):
    user = User.objects.get(username=STREET_A)
    _row, good = api_token_create(user=user, name="wall", scopes=["insight:read"])
    _row, other = api_token_create(user=user, name="cases", scopes=["cases:read"])
    client.logout()
    ok = client.get(API + "summary", headers={"Authorization": f"Bearer {good}"})
    assert ok.status_code == 200 and _figures(ok.json())["today"]["value"] == 4
    assert client.get(API + "summary", headers={"Authorization": f"Bearer {other}"}).status_code in (401, 403)


def test_figures_are_cached_briefly_per_scope(world, monkeypatch):
    monkeypatch.setattr(screen, "CACHE_SECONDS", 10)
    operator, street = (
        scope_for(User.objects.get(username="operator")),
        scope_for(User.objects.get(username=STREET_A)),
    )

    def today(scope):
        return _figures(screen.cached("summary", scope, lambda: screen.summary(scope)))["today"]["value"]

    assert (today(operator), today(street)) == (6, 4)
    walk(S.REPORTED)
    rollups.rebuild()
    assert (today(operator), today(street)) == (6, 4)  # still the cached figures
    monkeypatch.setattr(screen, "CACHE_SECONDS", 0)
    assert (today(operator), today(street)) == (7, 5)

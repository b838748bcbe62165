"""Merging duplicates: one master, the others linked and voided with an event on both timelines,
every reporter and follower told of the master's progress; the refusals, and who may not merge."""

from __future__ import annotations

import pytest

from civicgrid.audit.models import AuditRecord
from civicgrid.cases.merging import case_merge
from civicgrid.cases.models import Case, CaseEvent, CaseFollower
from civicgrid.errors import DomainError
from civicgrid.notifications.models import Notification

from .conftest import actor, report
from .steps import (
    CHIEF_A,
    GRID_A,
    GRID_B,
    GW_A,
    STAFF_A,
    STREET_A,
    STREET_B,
    S,
    do,
    doer,
    error_of,
    handler_of,
    point_in,
    signed_in,
    snapshot,
    walk,
)
from .test_duplicates import ADS, STRUCTURE, TEXT, ads, north

pytestmark = pytest.mark.django_db
API = "/api/v1/cases"
CLOSING = ("register", "dispatch", "accept", "feedback", "check_pass", "close")


@pytest.fixture
def here(cases_demo):
    return point_in(GRID_A)


def merge(who: str, dup: Case, master: Case, **kwargs) -> Case:
    dup.refresh_from_db()
    return case_merge(
        actor=actor(who), number=dup.number, master=master.number, version=dup.version, **kwargs
    )


def refused(code: str, status: int, who: str, dup: Case, master: Case, **kwargs) -> None:
    before = [snapshot(dup), snapshot(master)]
    with pytest.raises(DomainError) as caught:
        merge(who, dup, master, **kwargs)
    assert (caught.value.code, caught.value.status) == (code, status)
    assert [snapshot(dup), snapshot(master)] == before  # nothing written


def test_an_operator_merges_a_duplicate_into_its_master(here):
    master = ads(here)
    dup = report("resident2", channel="resident", point=north(here, 20), case_class=ADS, title=TEXT)
    merge("operator", dup, master)
    dup.refresh_from_db()
    master.refresh_from_db()
    assert dup.master == master and dup.state == S.VOIDED and dup.stage == ""
    assert master.state == S.REPORTED and master.version == 2 and master.master is None
    last = CaseEvent.objects.filter(case=dup).order_by("-seq").first()
    assert (last.action, last.to_state, last.data["master"]) == ("merge", S.VOIDED, master.number)
    assert master.number in last.note
    mark = CaseEvent.objects.filter(case=master).order_by("-seq").first()
    assert (mark.action, mark.to_state, mark.data["linked"]) == ("merge_in", S.REPORTED, dup.number)
    assert AuditRecord.objects.filter(action="case.merge", object_id=dup.number).get().detail["master"] == (
        master.number
    )
    follower = CaseFollower.objects.get(linked_case=dup)
    assert follower.case == master and follower.user.username == "resident2"
    told = Notification.objects.get(user__username="resident2", kind="case.merged")
    assert told.link == f"/track/{follower.code}/"
    # A merged case is no longer offered, and offers nothing.
    from civicgrid.cases.duplicates import duplicates_of_case

    assert duplicates_of_case(master) == [] and duplicates_of_case(dup) == []


def test_every_reporter_and_follower_is_told_when_the_master_closes(client, here):
    master = report("resident1", channel="resident", point=here, case_class=ADS, title=TEXT)
    master = do(GW_A, master, "verify")
    dup = report("resident2", channel="resident", point=north(here, 20), case_class=ADS, title=TEXT)
    merge("shiftlead", dup, master)
    signed_in(client, "resident3")
    client.post(
        "/report/",
        {
            "description": TEXT,
            "lon": here[0],
            "lat": here[1],
            "idempotency_key": "merge-follow-01",
            "follow": master.number,
        },
    )
    for action in CLOSING:
        master = do(doer(action, master), master, action)
    closed = Notification.objects.filter(case=master, kind="case.closed")
    assert set(closed.values_list("user__username", flat=True)) == {"resident1", "resident2", "resident3"}
    # The master's reporter rates on their own link; the others' links show progress only.
    own = closed.get(user__username="resident1").link
    assert own == f"/track/{master.tracking_code}/"
    for who in ("resident2", "resident3"):
        link = closed.get(user__username=who).link
        assert link != own and 'name="satisfaction"' not in client.get(link).content.decode()
    assert 'name="satisfaction"' in client.get(own).content.decode()


def test_the_merged_reports_own_page_leads_to_the_master(client, here):
    master = ads(here)
    dup = report("", channel="resident", point=north(here, 20), case_class=ADS, title=TEXT)
    merge("operator", dup, master)
    page = client.get(f"/track/{dup.tracking_code}/").content.decode()
    follower = CaseFollower.objects.get(linked_case=dup)
    assert 'data-banner="merged"' in page and f"/track/{follower.code}/" in page and master.number in page
    assert follower.user is None  # an anonymous reporter keeps the link
    follow_page = client.get(f"/track/{follower.code}/").content.decode()
    assert master.title in follow_page and master.tracking_code not in follow_page


def test_merging_a_master_carries_its_duplicates_and_followers_on(here):
    first = ads(here)
    second = ads(north(here, 10))
    third = ads(north(here, 20))
    merge("operator", third, second)
    merge("operator", second, first)
    assert set(Case.objects.filter(master=first).values_list("number", flat=True)) == {
        second.number,
        third.number,
    }
    assert set(CaseFollower.objects.filter(case=first).values_list("linked_case__number", flat=True)) == {
        second.number,
        third.number,
    }


def test_the_refusals_change_nothing(here, monkeypatch):
    master = ads(here)
    dup = ads(north(here, 20))
    with pytest.raises(DomainError) as caught:
        merge("operator", dup, dup)
    assert caught.value.code == "merge_into_self"
    with pytest.raises(DomainError) as caught:
        case_merge(actor=actor("operator"), number=dup.number, master=" ", version=dup.version)
    assert caught.value.code == "master_required"
    closed = ads(north(here, 30))
    for action in CLOSING:
        closed = do(doer(action, closed), closed, action)
    refused("master_not_open", 409, "operator", dup, closed)
    voided = do("shiftlead", ads(north(here, 40)), "void")
    refused("master_not_open", 409, "operator", dup, voided)
    other = ads(north(here, 50))
    merge("operator", other, master)
    refused("master_merged", 409, "operator", dup, other)
    refused("illegal_move", 409, "operator", other, dup)  # already merged itself
    refused("illegal_move", 409, "operator", closed, master)  # a closed case is not merged
    with pytest.raises(DomainError) as caught:
        case_merge(actor=actor("operator"), number=dup.number, master=master.number, version=dup.version - 1)
    assert (caught.value.code, caught.value.status) == ("stale_version", 409)


def test_different_classes_need_a_confirmation(here):
    master = ads(here)
    dup = report(GW_A, point=here, case_class=STRUCTURE, title=TEXT)
    refused("class_mismatch", 400, "operator", dup, master)
    merge("operator", dup, master, cross_class=True)
    dup.refresh_from_db()
    assert dup.master == master
    assert CaseEvent.objects.filter(case=dup, action="merge").get().data["cross_class"] is True


@pytest.mark.parametrize("who", [GW_A, CHIEF_A, STAFF_A, "resident1"])
def test_these_roles_may_not_merge(here, who):
    master, dup = ads(here), ads(north(here, 20))
    if who == "resident1":
        refused("case_not_found", 404, who, dup, master)  # not theirs: not even seen
    else:
        refused("move_forbidden", 403, who, dup, master)


def test_a_department_handler_may_not_merge(here):
    master = ads(here)
    dup = ads(north(here, 20))
    for action in ("register", "dispatch"):
        dup = do(doer(action, dup), dup, action)
        master = do(doer(action, master), master, action)
    refused("move_forbidden", 403, handler_of(dup), dup, master)


def test_outside_the_scope_a_merge_is_404(here):
    mine, other = ads(here), ads(north(here, 20))
    refused("case_not_found", 404, STREET_B, other, mine)
    b_case = walk(S.REPORTED, grid=GRID_B, case_class=ADS)
    refused("case_not_found", 404, STREET_A, mine, b_case)  # the master outside: 404 as well
    merge(STREET_A, other, mine)  # in scope: allowed


# --- pages and API -------------------------------------------------------------------------------


def test_the_staff_page_shows_the_candidates_and_merges(client, here):
    master = ads(here)
    dup = report("", channel="resident", point=north(here, 20), case_class=ADS, title=TEXT)
    page = signed_in(client, "operator").get(f"/cases/{dup.number}/").content.decode()
    assert 'data-panel="duplicates"' in page and f'data-number="{master.number}"' in page
    assert f"/cases/{dup.number}/moves/merge" in page
    response = client.post(
        f"/cases/{dup.number}/moves/merge",
        {"master": master.number, "version": dup.version, "back": dup.number},
    )
    assert response.status_code == 303 and response["Location"] == f"/cases/{master.number}/"
    dup.refresh_from_db()
    assert dup.master == master
    page = client.get(f"/cases/{master.number}/").content.decode()
    assert 'data-list="linked"' in page and dup.number in page
    page = client.get(f"/cases/{dup.number}/").content.decode()
    assert f'data-merged-into="{master.number}"' in page


def test_a_grid_worker_sees_the_candidates_but_no_merge_buttons(client, here):
    master = ads(here)
    dup = ads(north(here, 20))
    page = signed_in(client, GW_A).get(f"/cases/{dup.number}/").content.decode()
    assert f'data-number="{master.number}"' in page and "/moves/merge" not in page
    response = client.post(
        f"/cases/{dup.number}/moves/merge", {"master": master.number, "version": dup.version}
    )
    assert response.status_code == 403 and 'data-code="move_forbidden"' in response.content.decode()


def test_the_page_says_why_a_merge_is_refused(client, here):
    master = ads(here)
    dup = report(GW_A, point=here, case_class=STRUCTURE, title=TEXT)
    signed_in(client, "operator")
    page = client.post(f"/cases/{dup.number}/moves/merge", {"master": master.number, "version": dup.version})
    assert page.status_code == 400 and 'data-code="class_mismatch"' in page.content.decode()
    page = client.post(f"/cases/{dup.number}/moves/merge", {"master": master.number, "version": "x"})
    assert page.status_code == 400 and 'data-code="version_required"' in page.content.decode()
    assert (
        client.post(f"/cases/{dup.number}/moves/merge", {"master": "NOPE", "version": 1}).status_code == 404
    )
    ok = client.post(
        f"/cases/{dup.number}/moves/merge",
        {"master": master.number, "version": dup.version, "cross_class": "on"},
    )
    assert ok.status_code == 303


def test_the_api_lists_candidates_and_merges(client, here):
    master = ads(here)
    dup = ads(north(here, 20))
    c = signed_in(client, "operator")
    found = c.get(f"{API}/{dup.number}/duplicates").json()
    assert [d["number"] for d in found] == [master.number]
    assert {"score", "distance_m", "similarity", "version", "case_class"} <= set(found[0])
    response = c.post(
        f"{API}/{dup.number}/merge",
        {"master": master.number, "version": dup.version},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["number"] == master.number
    error_of(
        c.post(
            f"{API}/{dup.number}/merge",
            {"master": master.number, "version": 2},
            content_type="application/json",
        ),
        409,
        "illegal_move",
    )
    # Outside the scope: 404, for the list and the merge alike.
    b_case = walk(S.REPORTED, grid=GRID_B, case_class=ADS)
    c = signed_in(client, STREET_A)
    error_of(c.get(f"{API}/{b_case.number}/duplicates"), 404, "case_not_found")
    error_of(
        c.post(
            f"{API}/{b_case.number}/merge",
            {"master": master.number, "version": 1},
            content_type="application/json",
        ),
        404,
        "case_not_found",
    )
    signed_in(client, None)
    assert client.get(f"{API}/{master.number}/duplicates").status_code == 401


def test_followers_of_a_merged_master_move_on_and_hear_each_move_once(client, here):
    first = ads(here)
    second = report("resident1", channel="resident", point=north(here, 20), case_class=ADS, title=TEXT)
    links = {}
    for who in ("resident1", "resident3"):
        signed_in(client, who)
        form = {"description": TEXT, "lon": here[0], "lat": here[1], "idempotency_key": f"carry-{who}"}
        links[who] = client.post("/report/", form | {"follow": first.number})["Location"]
    merge("operator", first, do(GW_A, second, "verify"))
    rows = {f.code: f for f in CaseFollower.objects.filter(case=second)}
    assert {f"/track/{code}/" for code in rows} >= set(links.values())  # the old links still work
    assert rows[links["resident1"].split("/")[2]].user is None  # second's reporter: told as such
    assert rows[links["resident3"].split("/")[2]].user.username == "resident3"
    assert second.number in client.get(links["resident1"]).content.decode()
    second.refresh_from_db()
    for action in CLOSING:
        second = do(doer(action, second), second, action)
    closed = Notification.objects.filter(case=second, kind="case.closed")
    assert sorted(closed.values_list("user__username", flat=True)) == ["resident1", "resident3"]

"""/api/v1/patrol through Django's test client: start, points, stop, check-ins, coverage, mine,
the list — their replays, refusals in the one error shape, and what each role may not see."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from civicgrid.accounts.tokens import api_token_create
from civicgrid.audit.models import AuditRecord
from civicgrid.patrol import services
from civicgrid.patrol.models import CheckIn, Patrol, PatrolState, PointFlag, TrackPoint

from ..cases.steps import error_of, signed_in
from .conftest import (
    CHIEF_A,
    CHIEF_B,
    GRID_A,
    GRID_A2,
    GRID_B,
    GW_A,
    GW_A2,
    PT_A,
    STAFF_A,
    STREET_A,
    grid_point,
    place,
    user,
    walk,
)

API = "/api/v1/patrol"


def _post(c, path, body, **headers):
    return c.post(f"{API}/{path}", body, content_type="application/json", headers=headers)


def _points(points):
    return {
        "points": [
            {"seq": p.seq, "t": p.at.isoformat(), "lon": p.lon, "lat": p.lat, "accuracy": p.accuracy}
            for p in points
        ]
    }


def _start(c, key="start-1", grid=GRID_A):
    started = (timezone.now() - timedelta(hours=1)).isoformat()
    return _post(c, "patrols", {"grid": grid, "client_key": key, "started_at": started})


def _patrolled(client, who=GW_A, grid=GRID_A, n=61) -> int:
    """An ended patrol of ``who``: started, ``n`` points walked, stopped; its id."""
    c = signed_in(client, who)
    patrol_id = _start(c, key=f"{who}-{grid}-{n}", grid=grid).json()["id"]
    assert _post(c, f"patrols/{patrol_id}/points", _points(walk(grid, n=n))).status_code == 200
    assert _post(c, f"patrols/{patrol_id}/stop", {}).status_code == 200
    return patrol_id


def test_a_worker_patrols_start_to_stop(client, pdemo):
    c = signed_in(client, GW_A)
    first = _start(c)
    assert first.status_code == 201, first.content
    patrol_id = first.json()["id"]
    assert first.json()["grid"] == GRID_A and first.json()["state"] == "active"
    again = _start(c)
    assert again.status_code == 200 and again.json()["id"] == patrol_id
    points = walk(n=61)
    sent = _post(c, f"patrols/{patrol_id}/points", _points(points[:40]))
    assert sent.status_code == 200, sent.content
    assert sent.json() == {"accepted": 40, "duplicates": 0, "flagged": []}
    overlap = _post(c, f"patrols/{patrol_id}/points", _points(points[30:]))
    assert overlap.json()["accepted"] == 21 and overlap.json()["duplicates"] == 10
    assert TrackPoint.objects.filter(patrol_id=patrol_id).count() == 61
    mine = c.get(f"{API}/mine").json()
    assert mine["active_patrol"]["id"] == patrol_id and mine["active_patrol"]["points"] == 61
    assert [g["code"] for g in mine["grids"]] == [GRID_A]
    assert mine["grids"][0]["geometry"]["type"] in ("Polygon", "MultiPolygon")
    assert mine["plan"]["coverage_distance_m"] == 30 and mine["plan"]["max_speed_kmh"] == 30
    stopped = _post(c, f"patrols/{patrol_id}/stop", {})
    assert stopped.status_code == 200, stopped.content
    body = stopped.json()
    assert body["state"] == "ended" and body["points"] == 61 and body["flagged"] == 0
    assert body["distance_m"] == pytest.approx(300, abs=0.5)
    assert 3590 <= body["duration_s"] <= 3610
    assert 0 < body["coverage"] < 1 and body["covered"]["type"] in ("Polygon", "MultiPolygon")
    assert body["track"]["type"] == "LineString" and len(body["track"]["coordinates"]) == 61
    assert _post(c, f"patrols/{patrol_id}/stop", {}).json() == body  # idempotent
    assert c.get(f"{API}/patrols/{patrol_id}").json() == body
    assert c.get(f"{API}/mine").json()["active_patrol"] is None
    error_of(_post(c, f"patrols/{patrol_id}/points", _points(walk(n=2))), 409, "patrol_ended")
    actions = AuditRecord.objects.filter(object_type="patrol.patrol", object_id=str(patrol_id))
    assert sorted(actions.values_list("action", flat=True)) == [
        "patrol.start",
        "patrol.stop",
        "patrol.track",
        "patrol.track",
    ]


def test_flagged_points_are_answered_stored_and_counted(client, pdemo):
    c = signed_in(client, GW_A)
    patrol_id = _start(c).json()["id"]
    points = _points(walk(n=10))
    points["points"][4]["accuracy"] = 120
    points["points"][6]["lon"] += 0.01  # ~950 m east for one fix
    answer = _post(c, f"patrols/{patrol_id}/points", points).json()
    assert answer["accepted"] == 10
    assert [(f["seq"], f["flag"]) for f in answer["flagged"]] == [(4, "inaccurate"), (6, "jump")]
    assert all(f["reason"] for f in answer["flagged"])
    stored = dict(TrackPoint.objects.filter(patrol_id=patrol_id).values_list("seq", "flag"))
    assert stored[4] == PointFlag.INACCURATE and stored[6] == PointFlag.JUMP and stored[7] == PointFlag.OK
    # The next batch continues from the last used point: a fix far from it is a jump at once.
    more = _points(walk(n=12))
    more["points"] = more["points"][10:]
    more["points"][0]["lat"] += 0.01
    assert [f["seq"] for f in _post(c, f"patrols/{patrol_id}/points", more).json()["flagged"]] == [10]
    body = _post(c, f"patrols/{patrol_id}/stop", {}).json()
    assert body["points"] == 12 and body["flagged"] == 3
    assert body["track"]["type"] == "MultiLineString"  # the jumps split it
    assert Patrol.objects.get(pk=patrol_id).flagged == 3


def test_starting_is_refused_outside_ones_posts_and_while_on_patrol(client, pdemo):
    c = signed_in(client, GW_A)
    error_of(_start(c, grid=GRID_B), 403, "not_posted")
    error_of(_start(c, grid="99999999999999"), 404, "grid_not_found")
    error_of(_post(c, "patrols", {"grid": GRID_A, "client_key": ""}), 400, "bad_client_key")
    future = (timezone.now() + timedelta(hours=2)).isoformat()
    error_of(
        _post(c, "patrols", {"grid": GRID_A, "client_key": "k", "started_at": future}), 400, "time_in_future"
    )
    first = _start(c, key="one").json()["id"]
    detail = error_of(_start(c, key="two"), 409, "patrol_active")
    assert detail == {"id": first}
    assert Patrol.objects.filter(worker__username=GW_A).count() == 1
    error_of(
        signed_in(client, None).post(f"{API}/patrols", {}, content_type="application/json"),
        401,
        "unauthenticated",
    )


def test_only_the_worker_sends_points_to_a_patrol(client, pdemo):
    patrol_id = _start(signed_in(client, GW_A)).json()["id"]
    for who in (PT_A, CHIEF_A):
        c = signed_in(client, who)
        error_of(_post(c, f"patrols/{patrol_id}/points", _points(walk(n=3))), 404, "patrol_not_found")
        error_of(_post(c, f"patrols/{patrol_id}/stop", {}), 404, "patrol_not_found")
    assert not TrackPoint.objects.exists() and Patrol.objects.get().state == PatrolState.ACTIVE


def test_a_batch_over_the_limit_is_refused(client, pdemo):
    c = signed_in(client, GW_A)
    patrol_id = _start(c).json()["id"]
    detail = error_of(_post(c, f"patrols/{patrol_id}/points", _points(walk(n=1001))), 413, "batch_too_large")
    assert detail == {"max": 1000, "sent": 1001}
    error_of(_post(c, f"patrols/{patrol_id}/points", {"points": [{"seq": 1}]}), 422, "invalid_input")
    assert not TrackPoint.objects.exists()


def test_check_in_inside_the_geofence_and_its_replay(client, pdemo):
    school = place(radius_m=50)
    c = signed_in(client, GW_A)
    patrol_id = _start(c).json()["id"]
    lon, lat = grid_point(dx=30)
    body = {"place": school.pk, "lon": lon, "lat": lat, "accuracy": 10, "client_key": "ci-1"}
    done = _post(c, "checkins", body)
    assert done.status_code == 201, done.content
    answer = done.json()
    assert answer["accepted"] is True and answer["distance_m"] == 30 and answer["place"]["id"] == school.pk
    assert answer["patrol"] == patrol_id  # the active patrol, without being named
    again = _post(c, "checkins", body | {"lon": lon + 1})
    assert again.status_code == 200 and again.json() == answer
    assert CheckIn.objects.count() == 1


def test_a_check_in_outside_the_geofence_is_refused_with_the_distance_and_kept(client, pdemo):
    school = place(radius_m=50)
    c = signed_in(client, GW_A)
    lon, lat = grid_point(dx=80)
    body = {"place": school.pk, "lon": lon, "lat": lat, "accuracy": 10, "client_key": "ci-far"}
    detail = error_of(_post(c, "checkins", body), 422, "outside_geofence")
    assert detail == {"distance_m": 80, "radius_m": 50, "place": {"id": school.pk, "name": school.name}}
    refused = CheckIn.objects.get()
    assert not refused.accepted and refused.reason == "outside_geofence" and round(refused.distance_m) == 80
    audit = AuditRecord.objects.get(action="patrol.checkin")
    assert audit.result == "denied" and audit.detail["reason"] == "outside_geofence"
    assert error_of(_post(c, "checkins", body), 422, "outside_geofence") == detail  # replay
    assert CheckIn.objects.count() == 1


def test_check_ins_outside_ones_grids_or_with_a_vague_fix_are_refused(client, pdemo):
    elsewhere, here = place(GRID_B), place(GRID_A)
    c = signed_in(client, GW_A)
    lon, lat = grid_point(GRID_B)
    error_of(_post(c, "checkins", {"place": elsewhere.pk, "lon": lon, "lat": lat, "accuracy": 5, "client_key": "a"}), 422, "outside_grid")  # fmt: skip
    lon, lat = grid_point(GRID_A)
    detail = error_of(
        _post(c, "checkins", {"place": here.pk, "lon": lon, "lat": lat, "accuracy": 80, "client_key": "b"}),
        422,
        "poor_accuracy",
    )
    assert detail["max_accuracy_m"] == 50 and detail["accuracy_m"] == 80
    error_of(
        _post(c, "checkins", {"place": 999999, "lon": lon, "lat": lat, "client_key": "c"}),
        404,
        "place_not_found",
    )
    assert sorted(CheckIn.objects.values_list("reason", flat=True)) == ["outside_grid", "poor_accuracy"]


def test_what_each_role_sees_of_a_patrol(client, pdemo):
    patrol_id = _patrolled(client)
    for who in (GW_A, CHIEF_A, STAFF_A, STREET_A, "operator"):
        c = signed_in(client, who)
        assert c.get(f"{API}/patrols/{patrol_id}").status_code == 200, who
        assert [p["id"] for p in c.get(f"{API}/patrols").json()] == [patrol_id], who
    # A colleague in the same grid, a worker of the next grid, another community's chief, a
    # department: none of them.
    for who in (PT_A, GW_A2, CHIEF_B, "dept-d01"):
        c = signed_in(client, who)
        error_of(c.get(f"{API}/patrols/{patrol_id}"), 404, "patrol_not_found")
        assert c.get(f"{API}/patrols").json() == [], who
    assert AuditRecord.objects.filter(action="access.denied", object_id=str(patrol_id)).count() == 4


def test_the_list_filters_by_grid_worker_and_date(client, pdemo):
    mine, other = _patrolled(client), _patrolled(client, GW_A2, GRID_A2)
    c = signed_in(client, CHIEF_A)
    ids = lambda query: [p["id"] for p in c.get(f"{API}/patrols{query}").json()]  # noqa: E731
    assert sorted(ids("")) == sorted([mine, other])
    assert ids(f"?grid={GRID_A}") == [mine] and ids(f"?worker={GW_A2}") == [other]
    day = timezone.localtime(Patrol.objects.get(pk=mine).started_at).date().isoformat()
    assert mine in ids(f"?from={day}&to={day}")
    assert ids("?to=2020-01-01") == []
    error_of(c.get(f"{API}/patrols?grid=0000"), 400, "unknown_grid")
    error_of(c.get(f"{API}/patrols?from=yesterday"), 400, "bad_date")
    summary = c.get(f"{API}/patrols?grid={GRID_A}").json()[0]
    assert summary["worker"] == GW_A and summary["state"] == "ended" and summary["coverage"] > 0


def test_coverage_of_a_week_is_the_union_of_its_patrols(client, pdemo):
    first = _patrolled(client, n=61)
    second = _patrolled(client, n=81)  # the same walk, 100 m further
    covered = [Patrol.objects.get(pk=i).coverage for i in (first, second)]
    # (Their week, not "this week": an hour ago may have been last Sunday.)
    week = services.week_of(Patrol.objects.get(pk=first).started_at)
    answer = signed_in(client, GW_A).get(f"{API}/coverage?grid={GRID_A}&week={week}").json()
    assert answer["patrols"] == 2 and answer["week"] == week.isoformat()
    assert answer["coverage"] == pytest.approx(max(covered), abs=1e-4)  # the second walk holds the first
    assert answer["covered"]["type"] in ("Polygon", "MultiPolygon")
    by_default = signed_in(client, GW_A).get(f"{API}/coverage").json()  # own grid, this week
    this_monday = timezone.localdate() - timedelta(days=timezone.localdate().weekday())
    assert by_default["grid"] == GRID_A and by_default["week"] == this_monday.isoformat()
    chief = signed_in(client, CHIEF_A).get(f"{API}/coverage?grid={GRID_A}&week={week}").json()
    assert chief["coverage"] == answer["coverage"]
    error_of(signed_in(client, CHIEF_B).get(f"{API}/coverage?grid={GRID_A}"), 404, "grid_not_found")
    error_of(signed_in(client, GW_A2).get(f"{API}/coverage?grid={GRID_A}"), 404, "grid_not_found")
    before = (week - timedelta(days=7)).isoformat()
    assert signed_in(client, GW_A).get(f"{API}/coverage?grid={GRID_A}&week={before}").json()["patrols"] == 0


def test_tokens_need_the_patrol_scopes(client, pdemo):
    _token, reader = api_token_create(user=user(CHIEF_A), name="dashboard", scopes=["patrol:read"])
    _token, cases = api_token_create(user=user(GW_A), name="cases only", scopes=["cases:read", "cases:write"])
    _token, writer = api_token_create(user=user(GW_A), name="phone", scopes=["patrol:write"])
    client.logout()
    bearer = lambda secret: {"Authorization": f"Bearer {secret}"}  # noqa: E731
    assert client.get(f"{API}/patrols", headers=bearer(reader)).status_code == 200
    error_of(client.get(f"{API}/mine", headers=bearer(cases)), 403, "token_scope")
    started = client.post(
        f"{API}/patrols",
        {"grid": GRID_A, "client_key": "tok"},
        content_type="application/json",
        headers=bearer(writer),
    )
    assert started.status_code == 201
    error_of(
        _post(client, "patrols", {"grid": GRID_A, "client_key": "tok2"}, **bearer(reader)), 403, "token_scope"
    )

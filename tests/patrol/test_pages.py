"""The patrol pages (list, one patrol on its map, the week's coverage) and the back office: who may
open them, what they show, and what they must not."""

from __future__ import annotations

import json

from django.test import Client

from civicgrid.audit.models import AuditRecord
from civicgrid.patrol import services
from civicgrid.patrol.models import DutyRule, PatrolPlan, PointFlag

from ..cases.steps import signed_in
from .conftest import CHIEF_A, CHIEF_B, GRID_A, GW_A, GW_A2, start, user, walk


def _ended(points=None):
    patrol = start()
    services.track_ingest(user=user(GW_A), patrol_id=patrol.pk, points=points or walk(n=61))
    return services.patrol_stop(user=user(GW_A), patrol_id=patrol.pk)


def test_the_chief_lists_patrols_and_opens_one_on_its_map(client, pdemo):
    points = walk(n=30)
    points[10] = services.PointIn(
        seq=10, at=points[10].at, lon=points[10].lon + 0.01, lat=points[10].lat, accuracy=5
    )
    patrol = _ended(points)
    c = signed_in(client, CHIEF_A)
    listed = c.get("/patrol/")
    assert listed.status_code == 200
    assert f'data-patrol="{patrol.pk}"'.encode() in listed.content
    page = c.get(f"/patrol/{patrol.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert (
        'id="patrol-map"' in html and "patrol/patrol-map.js" in html and "vendor/leaflet/leaflet.js" in html
    )
    data = json.loads(
        html.split('<script id="patrol-map-data" type="application/json">')[1].split("</script>")[0]
    )
    assert data["track"]["type"] == "MultiLineString" and data["covered"] and data["grid"]
    assert [p["flag"] for p in data["flagged"]] == [PointFlag.JUMP]
    assert f'data-value="{patrol.coverage}"' in html
    filtered = c.get("/patrol/", {"grid": GRID_A, "worker": GW_A2})
    assert f'data-patrol="{patrol.pk}"'.encode() not in filtered.content
    assert b'data-code="unknown_grid"' in c.get("/patrol/", {"grid": "nope"}).content


def test_pages_are_scoped(client, pdemo):
    patrol = _ended()
    for who in (CHIEF_B, GW_A2):
        c = signed_in(client, who)
        assert c.get(f"/patrol/{patrol.pk}/").status_code == 404
        assert f'data-patrol="{patrol.pk}"'.encode() not in c.get("/patrol/").content
    assert AuditRecord.objects.filter(action="access.denied", object_id=str(patrol.pk)).count() == 2
    assert signed_in(client, GW_A).get(f"/patrol/{patrol.pk}/").status_code == 200  # their own
    forbidden = signed_in(client, "dept-d01").get("/patrol/")
    assert forbidden.status_code == 403 and b'data-code="patrol_forbidden"' in forbidden.content
    assert Client().get("/patrol/").status_code == 302  # to the login page


def test_the_week_page_shows_each_workers_coverage_in_scope(client, pdemo):
    patrol = _ended()
    week = services.week_of(patrol.started_at).isoformat()
    page = signed_in(client, CHIEF_A).get("/patrol/coverage/", {"week": week})
    assert page.status_code == 200
    row = f'data-grid="{GRID_A}" data-worker="{GW_A}" data-coverage="{patrol.coverage}"'
    assert row.encode() in page.content
    assert row.encode() not in signed_in(client, CHIEF_B).get("/patrol/coverage/", {"week": week}).content
    assert (
        b'data-code="bad_date"' in signed_in(client, CHIEF_A).get("/patrol/coverage/", {"week": "x"}).content
    )


def test_the_back_office_edits_plans_and_rules_and_only_reads_patrols(client, pdemo):
    patrol = _ended()
    admin = signed_in(client, "admin")
    for url in (
        "/admin/patrol/keyplace/",
        "/admin/patrol/patrolplan/",
        "/admin/patrol/dutyrule/",
        "/admin/patrol/patrol/",
        "/admin/patrol/checkin/",
        f"/admin/patrol/patrol/{patrol.pk}/change/",
    ):
        assert admin.get(url).status_code == 200, url
    assert admin.get("/admin/patrol/patrol/add/").status_code == 403
    assert b"61" in admin.get("/admin/patrol/patrol/").content  # the stored points' count
    rule = DutyRule.objects.get(code="response-task")
    changed = admin.post(
        f"/admin/patrol/dutyrule/{rule.pk}/change/",
        {
            "code": rule.code,
            "title": rule.title,
            "text": rule.text,
            "value": "4",
            "unit": "小时",
            "position": rule.position,
        },
    )
    assert changed.status_code == 302
    rule.refresh_from_db()
    assert rule.value == 4
    assert AuditRecord.objects.filter(action="admin.change", object_type="patrol.dutyrule").exists()
    plan = PatrolPlan.objects.get(grid__isnull=True)
    assert admin.get(f"/admin/patrol/patrolplan/{plan.pk}/change/").status_code == 200

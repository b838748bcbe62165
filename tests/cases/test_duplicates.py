"""The duplicate check on intake: which open cases are offered, in which order, to whom; the
report page's "this may already be reported" step; following instead of filing; what the public
check must not reveal."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from civicgrid.audit.models import AuditRecord
from civicgrid.cases import limits
from civicgrid.cases.duplicates import candidate_query, duplicates_of_case, find_duplicates
from civicgrid.cases.models import Case, CaseClass, CaseFollower
from civicgrid.geo.cells import cells_near
from civicgrid.notifications.models import Notification

from .conftest import actor, local, report
from .steps import GRID_A, GRID_B, GW_A, STREET_A, Frozen, S, do, doer, error_of, point_in, signed_in

pytestmark = pytest.mark.django_db
API = "/api/v1/cases"
ADS, STRUCTURE = "E0201", "E0101"
TEXT = "电线杆上贴满小广告"


def north(point, metres: float) -> tuple[float, float]:
    return (point[0], point[1] + metres / 111_320.0)


def class_id(code: str) -> int:
    return CaseClass.objects.get(code=code).pk


def ads(point, title=TEXT, who=GW_A, **fields) -> Case:
    return report(who, point=point, case_class=ADS, title=title, **fields)


def numbers(found) -> list[str]:
    return [c.number for c in found]


@pytest.fixture
def here(cases_demo):
    return point_in(GRID_A)


def test_it_offers_open_cases_of_the_class_within_radius_and_window_best_first(here):
    same = ads(here)
    near_other_words = ads(north(here, 60), title="墙上有人喷涂办证电话")
    far = ads(north(here, 160))
    other_class = report(GW_A, point=here, case_class=STRUCTURE, title=TEXT)
    voided = do("shiftlead", ads(here), "void")
    found = find_duplicates(class_id(ADS), *here, "电线杆上又贴了小广告", timezone.now())
    assert numbers(found) == [same.number, near_other_words.number]
    assert found[0].score > found[1].score and found[0].similarity > found[1].similarity
    assert found[0].distance_m < 1 and 55 < found[1].distance_m < 65
    left_out = {far.number, other_class.number, voided.number}
    assert not left_out & set(numbers(found))
    # Without a text, nearness decides.
    assert numbers(find_duplicates(class_id(ADS), *here, "", timezone.now())) == numbers(found)


def test_old_closed_and_merged_cases_are_not_offered(here, monkeypatch):
    clock = Frozen(monkeypatch, local(2026, 11, 2, 10, 0))
    old = ads(here)
    clock.to(local(2026, 11, 10, 10, 0))
    recent = ads(here)
    done = ads(north(here, 10))
    for action in ("register", "dispatch", "accept", "feedback", "check_pass", "close"):
        done = do(doer(action, done), done, action)
    assert done.state == S.CLOSED
    merged = ads(north(here, 5))
    Case.objects.filter(pk=merged.pk).update(master=recent)
    found = find_duplicates(class_id(ADS), *here, TEXT, clock.at)
    assert numbers(found) == [recent.number]
    assert old.number not in numbers(found)  # eight days: past the 7-day window


def test_the_radius_and_window_are_per_class(here, monkeypatch):
    far = ads(north(here, 250))
    found = find_duplicates(class_id(ADS), *here, TEXT, timezone.now())
    assert far.number not in numbers(found)
    CaseClass.objects.filter(code=ADS).update(duplicate_radius_m=300)
    limits.forget()
    assert numbers(find_duplicates(class_id(ADS), *here, TEXT, timezone.now())) == [far.number]
    CaseClass.objects.filter(code=ADS).update(duplicate_window_days=1)
    limits.forget()
    later = timezone.now() + timedelta(days=2)
    assert find_duplicates(class_id(ADS), *here, TEXT, later) == []


def test_a_case_is_not_its_own_duplicate_and_the_live_check_finds_later_reports(here):
    first = ads(here)
    second = ads(north(here, 20))
    assert numbers(duplicates_of_case(first)) == [second.number]
    assert numbers(duplicates_of_case(second)) == [first.number]
    unclassified = report(GW_A, point=here, title=TEXT)
    assert duplicates_of_case(unclassified) == []


def test_staff_candidates_follow_the_readers_scope(here):
    mine = ads(here)
    elsewhere = ads(north(here, 30))
    # The same spot, but filed under another street (as if the boundary ran between them).
    b = Case.objects.filter(grid__code=GRID_B).first() or report(
        f"gw-{GRID_B}", point=point_in(GRID_B), case_class=ADS, title="x"
    )
    Case.objects.filter(pk=elsewhere.pk).update(grid=b.grid, community=b.community, street=b.street)
    assert numbers(duplicates_of_case(mine, scope=actor("operator").scope)) == [elsewhere.number]
    assert duplicates_of_case(mine, scope=actor(STREET_A).scope) == []


def test_the_check_reads_the_spatial_index_not_the_table(here):
    ads(here)
    query = candidate_query([class_id(ADS)], cells_near(*here, 100), timezone.now(), timedelta(days=7))
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL enable_seqscan = off")  # a test table is small enough to scan
            sql, params = query.query.sql_with_params()
            cursor.execute(f"EXPLAIN {sql}", params)
            plan = " ".join(r[0] for r in cursor.fetchall())
            assert "case_class_cell" in plan, plan
        else:
            sql, params = query.query.sql_with_params()
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
            plan = " ".join(str(r[-1]) for r in cursor.fetchall())
            assert "USING INDEX case_class_cell" in plan and "SCAN cases_case" not in plan, plan


# --- the public check ---------------------------------------------------------------------------

PUBLIC_FIELDS = {"number", "title", "state", "state_label", "distance_m", "reported_on", "similarity"}


def test_the_public_check_shows_public_fields_of_open_cases_only(client, here):
    open_one = ads(here, reporter_name="张三", reporter_phone="13812345678", address="梅园新村12号")
    walked = ads(north(here, 10))
    for action in ("register", "dispatch", "accept", "feedback", "check_pass", "close"):
        walked = do(doer(action, walked), walked, action)
    response = client.get(f"{API}/duplicates", {"lon": here[0], "lat": here[1], "text": "电线杆小广告"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert [d["number"] for d in body] == [open_one.number]
    assert set(body[0]) == PUBLIC_FIELDS
    text = response.content.decode()
    for secret in ("张三", "138", "梅园新村12号", open_one.tracking_code, str(open_one.lon)[:8]):
        assert secret not in text


def test_the_public_check_refuses_bad_input(client, here):
    assert client.get(f"{API}/duplicates", {"lon": 118.0, "lat": 31.0, "text": "x"}).status_code == 404
    error_of(
        client.get(f"{API}/duplicates", {"lon": here[0], "lat": here[1], "case_class": "Z9"}),
        400,
        "unknown_class",
    )
    error_of(
        client.get(f"{API}/duplicates", {"lon": here[0], "lat": here[1], "text": "字" * 2001}),
        400,
        "text_too_long",
    )
    assert client.get(f"{API}/duplicates", {"lat": here[1]}).status_code in (400, 422)


def test_the_public_check_is_rate_limited(client, here, settings):
    settings.DUPLICATE_CHECK_RATE_LIMIT = 2
    params = {"lon": here[0], "lat": here[1], "text": TEXT}
    assert [client.get(f"{API}/duplicates", params).status_code for _ in range(2)] == [200, 200]
    error_of(client.get(f"{API}/duplicates", params), 429, "too_many_checks")
    error_of(client.post(f"{API}/X/follow", params, content_type="application/json"), 429, "too_many_checks")


def test_following_by_api_needs_the_case_to_be_offered_here(client, here):
    near = ads(here)
    far = ads(north(here, 500))
    params = {"lon": here[0], "lat": here[1], "text": TEXT}
    error_of(
        client.post(f"{API}/{far.number}/follow", params, content_type="application/json"), 404, "not_offered"
    )
    response = client.post(f"{API}/{near.number}/follow", params, content_type="application/json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["number"] == near.number and body["url"].endswith(f"/track/{body['follow_code']}/")
    follower = CaseFollower.objects.get(code=body["follow_code"])
    assert follower.case == near and follower.user is None
    assert near.tracking_code not in response.content.decode()


def test_the_report_api_answers_with_the_duplicates(client, here):
    existing = ads(here)
    c = signed_in(client, GW_A)
    form = {"channel": "grid_worker", "title": TEXT, "lon": here[0], "lat": here[1], "case_class": ADS}
    response = c.post(f"{API}/", form, headers={"Idempotency-Key": "dup-api-0001"})
    assert response.status_code == 201, response.content
    assert [d["number"] for d in response.json()["duplicates"]] == [existing.number]
    assert set(response.json()["duplicates"][0]) == PUBLIC_FIELDS


# --- the report page ------------------------------------------------------------------------------


def _report_post(point, **extra) -> dict:
    return {"description": "我家楼下电线杆上贴满了小广告", "lon": point[0], "lat": point[1],
            "idempotency_key": "report-page-0001", **extra}  # fmt: skip


def test_the_report_page_offers_the_existing_case_before_filing(client, here):
    existing = ads(here)
    before = Case.objects.count()
    page = client.post("/report/", _report_post(north(here, 30)))
    assert page.status_code == 200
    html = page.content.decode()
    assert "duplicates-offer" in html and f'value="{existing.number}"' in html and existing.title in html
    assert Case.objects.count() == before  # nothing filed yet
    # "It is a different matter": filed.
    response = client.post("/report/", _report_post(north(here, 30), new_anyway="1"))
    assert response.status_code == 303 and Case.objects.count() == before + 1


def test_without_a_nearby_case_the_report_is_filed_at_once(client, here):
    ads(north(here, 900))
    before = Case.objects.count()
    response = client.post("/report/", _report_post(here))
    assert response.status_code == 303 and Case.objects.count() == before + 1


def test_following_instead_of_filing_shows_the_progress_but_never_allows_rating(client, here):
    existing = ads(here)
    before = Case.objects.count()
    response = client.post("/report/", _report_post(north(here, 30), follow=existing.number))
    assert response.status_code == 303, response.content
    follower = CaseFollower.objects.get(case=existing)
    assert response["Location"] == f"/track/{follower.code}/" and Case.objects.count() == before
    assert AuditRecord.objects.filter(action="case.follow", object_id=existing.number).exists()
    page = client.get(response["Location"])
    html = page.content.decode()
    assert page.status_code == 200 and existing.title in html and 'data-banner="followed"' in html
    i = html.find(existing.tracking_code)
    assert i < 0, html[i - 300 : i + 50]
    assert "/rate" not in html
    # Closed, the reporter may rate; the follower's link may not.
    for action in ("register", "dispatch", "accept", "feedback", "check_pass", "close"):
        existing = do(doer(action, existing), existing, action)
    assert 'name="satisfaction"' not in client.get(f"/track/{follower.code}/").content.decode()
    refused = client.post(
        f"/track/{follower.code}/rate", {"satisfaction": "satisfied", "version": existing.version}
    )
    assert refused.status_code == 404
    existing.refresh_from_db()
    assert existing.satisfaction == ""


def test_a_case_not_offered_for_this_place_cannot_be_followed(client, here):
    far = ads(north(here, 600))
    page = client.post("/report/", _report_post(here, follow=far.number))
    assert page.status_code == 404 and 'data-code="not_offered"' in page.content.decode()
    assert not CaseFollower.objects.exists()


def test_a_signed_in_follower_is_told_as_the_case_moves(client, here):
    existing = ads(here)
    signed_in(client, "resident1")
    client.post("/report/", _report_post(north(here, 10), follow=existing.number))
    again = client.post("/report/", _report_post(north(here, 10), follow=existing.number))
    assert CaseFollower.objects.filter(case=existing).count() == 1  # following twice: one row
    follower = CaseFollower.objects.get(case=existing)
    assert again["Location"] == f"/track/{follower.code}/"
    assert follower.user.username == "resident1"
    for action in ("register", "dispatch", "accept", "feedback", "check_pass", "close"):
        existing = do(doer(action, existing), existing, action)
    told = Notification.objects.filter(user=follower.user, case=existing).order_by("id")
    assert list(told.values_list("kind", flat=True)) == ["case.progress"] * 3 + ["case.closed"]
    assert {n.link for n in told} == {f"/track/{follower.code}/"}


def test_the_reporter_cannot_follow_their_own_report(client, here):
    mine = report("resident1", channel="resident", point=here, case_class=ADS, title=TEXT)
    signed_in(client, "resident1")
    page = client.post("/report/", _report_post(here, follow=mine.number))
    assert page.status_code == 409 and 'data-code="own_report"' in page.content.decode()


def test_the_public_check_gives_the_districts_day(client, here, monkeypatch):
    Frozen(monkeypatch, local(2026, 11, 28, 7, 0))  # 23:00 the day before in UTC
    ads(here)
    body = client.get(f"{API}/duplicates", {"lon": here[0], "lat": here[1], "text": TEXT}).json()
    assert body[0]["reported_on"] == "2026-11-28"


def test_the_compiled_intake_query_finds_what_the_orm_query_finds(here):
    """The intake check runs Django's compiled SQL with new values (cases/duplicates.py _rows);
    the staff check builds the queryset. Both must agree, whatever the shape."""
    made = [ads(north(here, m)) for m in (0, 40, 90)] + [
        report(GW_A, point=here, case_class=STRUCTURE, title=TEXT)
    ]
    CaseClass.objects.filter(code=ADS).update(duplicate_radius_m=400)  # more cells
    limits.forget()
    district = actor("operator").scope
    for classes in ([class_id(ADS)], [class_id(ADS), class_id(STRUCTURE)], [class_id(STRUCTURE)]):
        for point in (here, north(here, 150)):
            intake = find_duplicates(classes, *point, TEXT, timezone.now())
            staff = find_duplicates(classes, *point, TEXT, timezone.now(), scope=district)
            assert intake == staff
            assert all(c.created_at.tzinfo is not None for c in intake)
    assert len(find_duplicates([class_id(ADS), class_id(STRUCTURE)], *here, TEXT, timezone.now())) == len(
        made
    )

"""What the public GET endpoints show and, above all, what they do not: reporters' personal data,
internal notes, voided cases, other districts' cases, the text and exact place of private
matters, the follow link's secret."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from civicgrid.accounts.models import ApiToken, User
from civicgrid.cases.models import Attachment, Case, CaseState, Level, Tier
from civicgrid.cases.services import Upload
from civicgrid.open311 import selectors
from civicgrid.open311.models import ServiceRequest
from civicgrid.regions.models import Level as RegionLevel
from civicgrid.regions.models import Region
from tests.cases.conftest import report
from tests.cases.steps import GRID_A, GRID_B, GW_A, do, jpeg, point_in, walk

pytestmark = pytest.mark.django_db
BASE = "/open311/v2"
PERSON = {"first_name": "小红", "last_name": "李", "phone": "13800138000", "email": "lixh@example.cn"}


def _post(client, api_key, **fields):
    lon, lat = point_in(GRID_A)
    form = {
        "api_key": api_key,
        "service_code": "E0201",
        "lat": lat,
        "long": lon,
        "description": "小广告",
        **fields,
    }
    response = client.post(f"{BASE}/requests.json", form)
    assert response.status_code == 201, response.content
    return response.json()[0]


def _listed(client, **params) -> dict[str, dict]:
    response = client.get(f"{BASE}/requests.json", params)
    assert response.status_code == 200, response.content
    return {r["service_request_id"]: r for r in response.json()}


def _raw(table: str, column: str, pk: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} WHERE id = %s", [pk])
        return cursor.fetchone()[0]


def test_it_stores_the_reporter_encrypted_and_never_shows_it(client, api_key):
    posted = _post(client, api_key, **PERSON, account_id="acct-1", device_id="dev-1")
    case = Case.objects.get(number=posted["service_request_id"])
    assert case.reporter_name.reveal() == "李小红" and case.reporter_phone.reveal() == "13800138000"
    row = ServiceRequest.objects.get(case=case)
    assert row.email.reveal() == "lixh@example.cn" and row.account_id == "acct-1" and row.device_id == "dev-1"
    for table, column, pk in (
        ("cases_case", "reporter_name", case.pk),
        ("cases_case", "reporter_phone", case.pk),
        ("open311_servicerequest", "email", row.pk),
    ):
        assert _raw(table, column, pk) not in ("李小红", "13800138000", "lixh@example.cn")
    bodies = [
        client.get(f"{BASE}/requests.{fmt}").content.decode()
        + client.get(f"{BASE}/requests/{case.number}.{fmt}").content.decode()
        for fmt in ("json", "xml")
    ]
    for secret in ("李小红", "小红", "13800138000", "lixh@example.cn", "acct-1", "dev-1", case.tracking_code):
        assert all(secret not in body for body in bodies), secret


def test_it_masks_phone_numbers_residents_write_into_the_text(client, api_key):
    posted = _post(client, api_key, description="楼下小广告，联系我13912345678")
    listed = _listed(client)[posted["service_request_id"]]
    assert "13912345678" not in listed["description"] and "139****5678" in listed["description"]


def test_it_never_lists_a_voided_case_nor_answers_for_it(client, cases_demo):
    voided, kept = walk(CaseState.VOIDED), walk(CaseState.REGISTERED)
    listed = _listed(client)
    assert kept.number in listed and voided.number not in listed
    assert client.get(f"{BASE}/requests/{voided.number}.json").status_code == 404
    assert _listed(client, service_request_id=voided.number) == {}


def test_it_never_shows_another_districts_cases(client, cases_demo):
    case = walk(CaseState.REGISTERED)
    other = Region.objects.create(code="320104000000", name="秦淮区", level=RegionLevel.DISTRICT)
    Case.objects.filter(pk=case.pk).update(district=other)
    assert case.number not in _listed(client)
    assert client.get(f"{BASE}/requests/{case.number}.json").status_code == 404
    assert client.get(f"{BASE}/requests.json", {"jurisdiction_id": "320104"}).status_code == 404


def test_it_shows_the_public_progress_but_no_internal_note(client, cases_demo):
    case = walk(CaseState.CHECKING)  # the handler's feedback note: 已处理完毕
    do(GW_A, case, "note", note="内部：当事人情绪激动，注意安全")
    shown = _listed(client)[case.number]
    assert shown["status"] == "open" and shown["status_notes"] == "已处理完毕"
    assert shown["expected_datetime"] and shown["agency_responsible"]
    closed = walk(CaseState.CLOSED)
    assert _listed(client, status="closed")[closed.number]["status"] == "closed"
    assert case.number not in _listed(client, status="closed")
    body = client.get(f"{BASE}/requests/{case.number}.xml").content.decode()
    assert "内部" not in body and "已处理完毕" in body


def test_it_lists_private_matters_without_text_and_with_a_rounded_place(client, api_key):
    family = _post(client, api_key, description="邻居家天天吵架", **{"attribute[level]": "family"})
    routed = Case.objects.get(number=family["service_request_id"])
    assert routed.level == Level.FAMILY and routed.tier != Tier.STREET, "routing saw the level"
    dispute = _post(client, api_key, service_code="G0101", description="两户因漏水纠纷")
    listed = _listed(client)
    for number in (family["service_request_id"], dispute["service_request_id"]):
        shown = listed[number]
        assert shown["description"] == "" and shown["address"] == ""
        assert len(str(shown["lat"]).split(".")[1]) <= selectors.COARSE_DIGITS
    assert "吵架" not in str(listed) and "漏水" not in str(listed)


def test_it_gives_a_public_photo_without_the_follow_links_secret(client, cases_demo, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    case = report(GW_A, point=point_in(GRID_A), case_class="E0201", files=[Upload("a.jpg", jpeg())])
    url = _listed(client)[case.number]["media_url"]
    assert url.startswith("http://testserver/open311/v2/media/") and case.tracking_code not in url
    response = client.get(url.removeprefix("http://testserver"))
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    photo = Attachment.objects.get(case=case)
    Attachment.objects.filter(pk=photo.pk).update(public=False)
    assert _listed(client)[case.number]["media_url"] == ""
    assert client.get(url.removeprefix("http://testserver")).status_code == 404
    other = walk(CaseState.VOIDED, grid=GRID_B)
    assert client.get(f"{BASE}/media/{other.number}/{photo.pk}").status_code == 404


def test_it_lists_the_last_90_days_and_at_most_the_row_limit_by_default(client, cases_demo, monkeypatch):
    old, recent = walk(CaseState.REGISTERED), [walk(CaseState.REGISTERED) for _ in range(3)]
    Case.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=91))
    listed = _listed(client)
    assert old.number not in listed and {c.number for c in recent} <= set(listed)
    start = (timezone.now() - timedelta(days=100)).isoformat()
    assert old.number in _listed(client, start_date=start)
    monkeypatch.setattr(selectors, "ROWS_MAX", 2)
    assert list(_listed(client)) == [recent[2].number, recent[1].number], "newest first, capped"


def test_a_token_of_a_voided_post_still_answers_its_id(client, api_key):
    posted = _post(client, api_key)
    case = Case.objects.get(number=posted["service_request_id"])
    do("shiftlead", case, "void", note="重复上报")
    assert client.get(f"{BASE}/tokens/{posted['token']}.json").json() == [
        {"service_request_id": case.number, "token": posted["token"]}
    ]
    assert client.get(f"{BASE}/requests/{case.number}.json").status_code == 404


def test_the_demo_seed_makes_a_working_key_once(client, cases_demo):
    from civicgrid.open311 import demo

    lines = []
    demo.seed(progress=lines.append)
    demo.seed(progress=lines.append)
    assert lines == [f"Open311 demo api_key (demo only): {demo.DEMO_KEY}"] * 2
    assert User.objects.filter(username=demo.DEMO_USERNAME).count() == 1
    assert ApiToken.objects.filter(prefix=demo.DEMO_PREFIX).count() == 1
    # A street operator of the first street may post anywhere in the district (intake), and
    # the key is not a login.
    posted = _post(client, demo.DEMO_KEY, lat=point_in(GRID_B)[1], long=point_in(GRID_B)[0])
    assert Case.objects.get(number=posted["service_request_id"]).grid.code == GRID_B
    assert not User.objects.get(username=demo.DEMO_USERNAME).has_usable_password()

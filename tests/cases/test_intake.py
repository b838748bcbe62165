"""Taking a report in (``services.case_create``): idempotency, location in any of the three
coordinate systems, checks on class, text, files and channel, numbering, suggestions and the
reporter's phone. Every refusal writes nothing."""

from __future__ import annotations

import re

import pytest
from django.db import connection

from civicgrid.cases import presenters
from civicgrid.cases.models import Attachment, Case, CaseCounter, CaseEvent
from civicgrid.cases.services import CaseInput, Upload, case_create
from civicgrid.cases.workflow import Actor
from civicgrid.errors import DomainError
from civicgrid.geo import crs as geocrs
from civicgrid.pii.kinds import PIIKind
from civicgrid.pii.masking import mask

from .conftest import actor, local
from .steps import GRID_A, GW_A, Frozen, S, jpeg, point_in

pytestmark = pytest.mark.django_db
NUMBER = re.compile(r"^320102-\d{8}-\d{6}$")


def _create(who: str = GW_A, *, key: str = "intake-key-0001", submitted_by: str = "", **fields):
    lon, lat = point_in(GRID_A)
    values = {"channel": "grid_worker", "title": "人行道上有人摆摊", "lon": lon, "lat": lat, **fields}
    acting = actor(who) if who else Actor(user_id=None)
    return case_create(actor=acting, data=CaseInput(**values), idempotency_key=key,
                       submitted_by=submitted_by or f"user:{who}")  # fmt: skip


def _nothing_written():
    return (Case.objects.count(), CaseEvent.objects.count(), Attachment.objects.count())


def _refused(**kwargs) -> DomainError:
    with pytest.raises(DomainError) as refused:
        _create(**kwargs)
    assert _nothing_written() == (0, 0, 0)
    return refused.value


def test_the_same_key_from_the_same_submitter_gives_back_the_same_case(cases_demo):
    first = _create(key="k-000000001")
    again = _create(key="  k-000000001 ", title="完全不同的标题")
    assert (first.replayed, again.replayed) == (False, True)
    assert again.case.pk == first.case.pk and again.case.title == "人行道上有人摆摊"
    assert _nothing_written() == (1, 1, 0)
    assert CaseCounter.objects.get().last == 1


def test_the_same_key_from_someone_else_is_refused(cases_demo):
    _create(key="k-000000002", submitted_by="user:1")
    with pytest.raises(DomainError) as refused:
        _create(key="k-000000002", submitted_by="user:2")
    assert (refused.value.code, refused.value.status) == ("idempotency_key_reused", 409)
    assert _nothing_written() == (1, 1, 0)


@pytest.mark.parametrize("key", ["", "   ", "short", "x" * 81])
def test_a_report_without_a_usable_key_is_refused(cases_demo, key):
    error = _refused(key=key)
    assert (error.code, error.status) == ("idempotency_key_required", 400)


def test_a_point_in_gcj02_or_bd09_lands_where_its_wgs84_twin_does(cases_demo):
    lon, lat = point_in(GRID_A)
    plain = _create(key="crs-wgs84-1", lon=lon, lat=lat).case
    assert "input" not in plain.events.get(seq=1).data
    for crs in ("gcj02", "bd09"):
        x, y = geocrs.convert(lon, lat, source="wgs84", target=crs)
        assert abs(x - lon) + abs(y - lat) > 0.003  # the systems really differ here (hundreds of metres)
        case = Case.objects.get(pk=_create(key=f"crs-{crs}-1", lon=x, lat=y, crs=crs).case.pk)
        assert case.grid.code == GRID_A and case.community_id == plain.community_id
        assert abs(case.lon - lon) < 1e-5 and abs(case.lat - lat) < 1e-5
        assert case.events.get(seq=1).data["input"] == {"crs": crs, "lon": x, "lat": y}


def test_a_point_outside_the_district_is_refused_naming_the_nearest_grid(cases_demo):
    error = _refused(lon=118.60, lat=32.06)
    assert (error.code, error.status) == ("outside_district", 404)
    nearest = error.detail["nearest_grid"]
    assert nearest["code"].startswith("320102") and nearest["name"] in error.message
    assert error.detail["distance_m"] > 1000


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"lon": None}, "location_required"),
        ({"lat": None}, "location_required"),
        ({"crs": "cgcs2000"}, "bad_crs"),
        ({"case_class": "E9999"}, "unknown_class"),
        ({"case_class": "E02"}, "unknown_class"),  # a 大类: only 小类 go on cases
        ({"urgency": "whenever"}, "unknown_urgency"),
        ({"title": "", "description": " "}, "text_required"),
        ({"channel": "carrier_pigeon"}, "unknown_channel"),
    ],
)
def test_a_report_missing_or_misnaming_something_is_refused(cases_demo, fields, code):
    error = _refused(**fields)
    assert (error.code, error.status) == (code, 400)
    if code == "unknown_class":
        assert error.detail == {"case_class": fields["case_class"]}


@pytest.mark.parametrize(
    ("field", "limit"), [("title", 100), ("description", 2000), ("address", 200), ("reporter_name", 64)]
)
def test_text_over_its_limit_is_refused_naming_the_field(cases_demo, field, limit):
    error = _refused(**{field: "长" * (limit + 1)})
    assert error.code == "text_too_long"
    assert error.detail == {"field": field, "max": limit, "length": limit + 1}
    assert _create(**{field: "长" * limit}).case.pk  # exactly at the limit is fine


def test_a_web_page_named_like_a_photo_is_refused_and_nothing_is_kept(cases_demo, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    page = b"<!DOCTYPE html><html><script>alert(1)</script></html>"
    files = [Upload("photo.jpg", jpeg()), Upload("scene.jpg", page)]
    error = _refused(files=files, key="upload-key-1")
    assert (error.code, error.status) == ("upload_type", 400)
    assert not CaseCounter.objects.exists() and not any(tmp_path.iterdir())
    # The key was not used up: the same submission with good files goes through.
    created = _create(files=[Upload("photo.jpg", jpeg())], key="upload-key-1")
    assert not created.replayed and Attachment.objects.get().case_id == created.case.pk


def test_a_channel_the_person_may_not_use_is_refused(cases_demo):
    error = _refused(channel="leader")
    assert (error.code, error.status) == ("channel_forbidden", 403)
    error = _refused(who="resident1", channel="grid_worker")
    assert (error.code, error.status) == ("channel_forbidden", 403)
    leader = _create("operator", channel="leader", key="leader-0001").case
    assert leader.state == S.REPORTED and leader.reporter_id is None  # a leader's word needs no check


def test_a_residents_report_is_theirs_and_waits_for_verification(cases_demo):
    case = _create("resident1", channel="resident").case
    assert case.state == S.VERIFYING and case.reporter.username == "resident1"
    assert case.events.get().actor_role == "resident"
    anonymous = _create("", channel="resident", key="anon-key-01", submitted_by="session:abc").case
    assert anonymous.reporter_id is None and anonymous.state == S.VERIFYING


def test_numbers_follow_the_district_and_local_day_one_by_one(cases_demo, monkeypatch):
    clock = Frozen(monkeypatch, local(2026, 11, 16, 9, 0))
    numbers = [_create(key=f"number-{i:04d}").case.number for i in range(3)]
    clock.to(local(2026, 11, 16, 23, 59))  # still Monday in Nanjing, already Monday 15:59 in UTC
    numbers.append(_create(key="number-late").case.number)
    clock.to(local(2026, 11, 17, 0, 1))  # Tuesday in Nanjing while UTC is still on Monday
    numbers.append(_create(key="number-next").case.number)
    assert all(NUMBER.match(n) for n in numbers)
    assert numbers == [
        "320102-20261116-000001",
        "320102-20261116-000002",
        "320102-20261116-000003",
        "320102-20261116-000004",
        "320102-20261117-000001",
    ]


def test_the_classes_suggested_by_the_text_are_recorded_in_the_report(cases_demo):
    created = _create(title="电线杆上贴满了小广告", description="牛皮癣到处都是")
    suggested = created.case.events.get(seq=1).data["suggested"]
    assert suggested[0] == "E0201" and suggested == [s.code for s in created.suggestions]
    plain = _create(title="这里有个情况", key="no-hint-0001")
    assert plain.case.events.get(seq=1).data["suggested"] == []


def test_the_reporters_phone_is_stored_encrypted_and_shown_masked(cases_demo):
    phone = "13912345678"
    case = _create("operator", channel="phone", reporter_phone=phone, reporter_name="王小明").case
    with connection.cursor() as cursor:
        cursor.execute("SELECT reporter_phone, reporter_name FROM cases_case WHERE id = %s", [case.pk])
        raw_phone, raw_name = cursor.fetchone()
    assert phone not in raw_phone and "5678" not in raw_phone and "王小明" not in raw_name
    row = Case.objects.get(pk=case.pk)
    assert row.reporter_phone.reveal() == phone
    shown = presenters.case_detail(row, actor("operator"))
    assert shown["reporter_phone"] == mask(phone, PIIKind.PHONE) == "139****5678"
    assert shown["reporter_name"] == "王**"
    assert phone not in str(shown) and "王小明" not in str(shown)

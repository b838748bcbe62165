"""The case pages with the test client: who sees which page and which forms, what a form changes,
and that a refused, stale or out-of-scope request changes nothing."""

from __future__ import annotations

import io
import re

import pytest
from django.test import Client
from openpyxl import load_workbook
from PIL import Image

from civicgrid.accounts.models import GridPost, GridStaffing, User
from civicgrid.audit.models import AuditRecord
from civicgrid.cases.context import case_nav
from civicgrid.cases.models import Attachment, Case, CaseEvent, CaseState
from civicgrid.cases.workflow import Action, available_moves
from civicgrid.notifications.models import Notification
from civicgrid.regions.selectors import grid_locate

from .conftest import POINT, actor, move, report, worker_for

pytestmark = pytest.mark.django_db
FORM_ACTIONS = re.compile(r'<details class="move" id="move-(\w+)"')


def login(client: Client, username: str) -> Client:
    client.force_login(User.objects.get(username=username))
    return client


def forms_on(page) -> set[str]:
    return set(FORM_ACTIONS.findall(page.content.decode()))


def photo() -> io.BytesIO:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 80, 40)).save(out, "PNG")
    out.seek(0)
    out.name = "photo.png"
    return out


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def point_worker() -> str:
    """The full-time grid worker of the grid the test point lies in."""
    code = grid_locate(lon=POINT[0], lat=POINT[1])["grid"]["code"]
    return GridStaffing.objects.get(grid__code=code, post=GridPost.FULL_TIME).user.username


def registered(title="小区门口有人私自搭建彩钢棚"):
    case = report(point_worker(), title=title)
    move("shiftlead", case, "register", data={"case_class": "E0101"})
    case.refresh_from_db()
    return case


def other_grid_worker(case) -> str:
    post = GridStaffing.objects.filter(post=GridPost.FULL_TIME).exclude(grid_id=case.grid_id).first()
    return post.user.username


# --- to-do lists --------------------------------------------------------------------------------


def test_it_shows_the_to_do_lists_with_counts(client, cases_demo):
    report("", channel="resident", title="路灯不亮")
    case = report("", channel="resident", title="楼道堆物")
    move(worker_for(case), case, "verify")
    page = login(client, "shiftlead").get("/cases/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'href="/cases/list/?bucket=register"' in html
    assert re.search(r'data-bucket="register">\s*<strong class="inbox-count">1</strong>', html)
    assert 'data-bucket="accept"' not in html  # a department's list, not the shift lead's


def test_staff_without_a_case_role_get_an_explanation(client, cases_demo):
    page = login(client, "auditor").get("/cases/")
    assert page.status_code == 200 and b'data-empty="no-roles"' in page.content


def test_the_pages_need_a_login(client, cases_demo):
    for path in ["/cases/", "/cases/list/", "/cases/new/", "/messages/", "/cases/list/export.xlsx"]:
        response = client.get(path)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"], path


# --- the list and the export ----------------------------------------------------------------------


def test_the_list_filters_and_shows_a_bucket(client, cases_demo):
    first = report(point_worker(), title="占道经营")
    second = registered()
    login(client, "operator")
    page = client.get("/cases/list/", {"state": "reported"})
    html = page.content.decode()
    assert page.status_code == 200
    assert first.number in html and second.number not in html
    page = client.get("/cases/list/", {"bucket": "dispatch"})
    assert second.number in page.content.decode() and first.number not in page.content.decode()
    page = client.get("/cases/list/", {"q": "彩钢棚", "case_class": "E01", "overdue": "0"})
    assert second.number in page.content.decode() and first.number not in page.content.decode()
    assert 'href="/cases/list/export.xlsx?q=' in page.content.decode()


@pytest.mark.parametrize(
    "params",
    [
        {"state": "lost"},
        {"case_class": "Z9999"},
        {"region": "999"},
        {"date_from": "2026-13-01"},
        {"bucket": "nope"},
    ],
)
def test_bad_filters_show_the_reason_not_a_crash(client, cases_demo, params):
    page = login(client, "operator").get("/cases/list/", params)
    assert page.status_code == 400
    assert b'class="form-error"' in page.content


def test_the_list_marks_overdue_and_nearly_due_stages(client, cases_demo):
    late = report("", channel="resident", title="井盖缺失")
    near = report("", channel="resident", title="路灯不亮")
    calm = report("", channel="resident", title="树木倒伏")
    past, future = late.created_at.replace(year=2020), late.created_at.replace(year=2099)
    Case.objects.filter(pk=late.pk).update(stage_deadline=past, stage_warn_at=past)
    Case.objects.filter(pk=near.pk).update(stage_deadline=future, stage_warn_at=past)
    html = login(client, "operator").get("/cases/list/").content.decode()

    def row(case) -> str:
        return re.search(rf'<tr data-number="{case.number}">.*?</tr>', html, re.S)[0]

    assert "badge-overdue" in row(late) and "badge-near" not in row(late)
    assert "badge-near" in row(near) and "badge-overdue" not in row(near)
    assert "badge-" not in row(calm)


def test_the_list_pages_and_caps_its_count(client, cases_demo, monkeypatch):
    from civicgrid.cases import views

    for i in range(5):
        report("", channel="resident", title=f"占道经营 {i}")
    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    monkeypatch.setattr(views, "COUNT_CAP", 3)
    login(client, "operator")
    first = client.get("/cases/list/", {"q": "占道"}).content.decode()
    assert 'data-count="3"' in first and "3+ " in first
    assert first.count("<tr data-number=") == 2 and 'href="?q=%E5%8D%A0%E9%81%93&amp;page=2"' in first
    last = client.get("/cases/list/", {"q": "占道", "page": "3"}).content.decode()
    assert last.count("<tr data-number=") == 1 and 'rel="next"' not in last and 'rel="prev"' in last
    assert client.get("/cases/list/", {"page": "x"}).status_code == 200


def test_the_excel_export_has_the_filtered_rows(client, cases_demo):
    report(point_worker(), title="占道经营")
    wanted = registered()
    response = login(client, "operator").get("/cases/list/export.xlsx", {"state": "registered"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "案件编号"
    assert [r[0] for r in rows[1:]] == [wanted.number]


# --- one case ---------------------------------------------------------------------------------


def test_the_case_page_shows_place_clock_timeline_and_the_class_rules(client, cases_demo):
    case = registered()
    page = login(client, "operator").get(f"/cases/{case.number}/")
    html = page.content.decode()
    assert page.status_code == 200
    assert case.number in html and case.grid.name in html and case.street.name in html
    assert "违建已停工并拆除" in html  # the class's closing condition, for staff
    assert 'data-field="deadline"' in html
    assert html.count('<li data-action="') == 2  # report, register
    assert 'id="case-map-config"' in html
    # The dispatch form pre-selects the department the rules suggest.
    assert re.search(r'<option value="D01" selected>', html)
    assert 'data-suggested="D01"' in html


@pytest.mark.parametrize(
    ("who", "state", "forms"),
    [
        ("shiftlead", "reported", {"register", "void", "note"}),
        ("gw", "reported", {"note"}),
        ("operator", "registered", {"dispatch", "note"}),
        ("dept-d01", "dispatched", {"accept", "return", "note"}),
        ("dept-d01", "handling", {"feedback", "extend_request", "suspend", "pause", "note"}),
        ("gw", "checking", {"check_pass", "check_fail", "note"}),
        ("shiftlead", "checked", {"close", "note"}),
        ("shiftlead", "closed", {"follow_up"}),
    ],
)
def test_the_forms_a_person_sees_are_exactly_their_moves(client, cases_demo, who, state, forms):
    case = report("", channel="resident", title="小区门口有人私自搭建彩钢棚")
    gw = worker_for(case)
    steps = [
        (gw, "verify", {}),
        ("shiftlead", "register", {"data": {"case_class": "E0101"}}),
        ("operator", "dispatch", {"data": {}}),
        ("dept-d01", "accept", {}),
        ("dept-d01", "feedback", {"note": "已拆除"}),
        (gw, "check_pass", {}),
        ("shiftlead", "close", {}),
    ]
    for by, action, kwargs in steps:
        case.refresh_from_db()
        if case.state == state:
            break
        move(by, case, action, **kwargs)
    case.refresh_from_db()
    assert case.state == state
    who = gw if who == "gw" else who
    page = login(client, who).get(f"/cases/{case.number}/")
    assert forms_on(page) == forms == {m.action for m in available_moves(case, actor(who))} - {Action.RATE}
    assert "move-rate" not in page.content.decode()  # residents rate on the follow page


def test_a_move_through_the_form_changes_the_state(client, cases_demo):
    case = report(point_worker(), title="私搭彩钢棚")
    login(client, "shiftlead")
    response = client.post(
        f"/cases/{case.number}/moves/register",
        {"version": case.version, "case_class": "E0101", "urgency": "urgent", "note": "属实"},
    )
    assert response.status_code == 303 and response["Location"] == f"/cases/{case.number}/"
    case.refresh_from_db()
    assert case.state == CaseState.REGISTERED and case.case_class.code == "E0101" and case.urgency == "urgent"
    page = client.get(response["Location"])
    assert b'class="flash success"' in page.content


def test_a_dispatch_form_sends_the_chosen_departments(client, cases_demo):
    case = registered()
    login(client, "operator").post(
        f"/cases/{case.number}/moves/dispatch",
        {"version": case.version, "department": "D02", "co_departments": ["D01", "D03"]},
    )
    case.refresh_from_db()
    assert case.state == CaseState.DISPATCHED and case.department.code == "D02"
    assert sorted(case.units.filter(lead=False).values_list("department__code", flat=True)) == ["D01", "D03"]


def test_a_stale_version_is_a_conflict_and_changes_nothing(client, cases_demo):
    case = registered()
    events = CaseEvent.objects.filter(case=case).count()
    page = login(client, "operator").post(
        f"/cases/{case.number}/moves/dispatch", {"version": case.version - 1, "department": "D01"}
    )
    assert page.status_code == 409
    assert b'data-code="stale_version"' in page.content
    case.refresh_from_db()
    assert case.state == CaseState.REGISTERED and CaseEvent.objects.filter(case=case).count() == events


def test_a_move_by_the_wrong_person_is_refused_and_changes_nothing(client, cases_demo):
    case = report(point_worker(), title="私搭彩钢棚")
    page = login(client, worker_for(case)).post(
        f"/cases/{case.number}/moves/register", {"version": case.version, "case_class": "E0101"}
    )
    assert page.status_code == 403 and b'data-code="move_forbidden"' in page.content
    case.refresh_from_db()
    assert case.state == CaseState.REPORTED and case.case_class is None


def test_a_required_note_is_asked_for(client, cases_demo):
    case = report(point_worker(), title="重复上报")
    page = login(client, "shiftlead").post(f"/cases/{case.number}/moves/void", {"version": case.version})
    assert page.status_code == 400 and b'data-code="note_required"' in page.content
    assert Case.objects.get(pk=case.pk).state == CaseState.REPORTED


def test_feedback_photos_are_stored_and_shown(client, cases_demo, media):
    case = registered()
    move("operator", case, "dispatch", data={})
    move("dept-d01", case, "accept")
    case.refresh_from_db()
    login(client, "dept-d01").post(
        f"/cases/{case.number}/moves/feedback", {"version": case.version, "note": "已拆除", "photos": photo()}
    )
    case.refresh_from_db()
    assert case.state == CaseState.CHECKING
    attachment = Attachment.objects.get(case=case)
    assert attachment.purpose == "after"
    page = client.get(f"/cases/{case.number}/")
    assert f'href="/cases/{case.number}/files/{attachment.pk}"'.encode() in page.content


def test_out_of_scope_and_missing_cases_are_404(client, cases_demo):
    case = registered()
    for who in [other_grid_worker(case), "dept-d02"]:
        client = Client()
        login(client, who)
        assert client.get(f"/cases/{case.number}/").status_code == 404
        refused = client.post(f"/cases/{case.number}/moves/note", {"version": case.version, "note": "x"})
        assert refused.status_code == 404
    assert AuditRecord.objects.filter(action="access.denied", object_id=case.number).exists()
    assert client.get("/cases/320102-20000101-000001/").status_code == 404
    login(client, "operator")
    assert client.get(f"/cases/{case.number}/moves/dispatch").status_code == 405
    assert client.post(f"/cases/{case.number}/moves/fly", {"version": 1}).status_code == 404
    assert Case.objects.get(pk=case.pk).version == case.version


def test_the_reporters_phone_is_revealed_with_a_reason_for_allowed_roles(client, cases_demo):
    case = report(
        "", channel="resident", title="噪音扰民", reporter_name="王小明", reporter_phone="13812345678"
    )
    page = login(client, "shiftlead").get(f"/cases/{case.number}/")
    assert b"13812345678" not in page.content and b"138****5678" in page.content
    page = client.post(f"/cases/{case.number}/reveal", {"field": "reporter_phone", "reason": "回访核实情况"})
    assert page.status_code == 200 and b"13812345678" in page.content
    assert AuditRecord.objects.filter(action="pii.reveal").count() == 1
    assert client.post(f"/cases/{case.number}/reveal", {"field": "reporter_phone"}).status_code == 400
    worker = Client()
    login(worker, worker_for(case))
    assert (
        b'action="/cases/' + case.number.encode() + b'/reveal"'
        not in worker.get(f"/cases/{case.number}/").content
    )
    refused = worker.post(f"/cases/{case.number}/reveal", {"field": "reporter_phone", "reason": "想知道是谁"})
    assert refused.status_code == 403 and b"13812345678" not in refused.content


# --- a new case ----------------------------------------------------------------------------------


def _new_case_form(client) -> dict:
    page = client.get("/cases/new/")
    assert page.status_code == 200
    key = re.search(r'name="idempotency_key" value="([^"]+)"', page.content.decode())[1]
    return {
        "idempotency_key": key,
        "channel": "grid_worker",
        "title": "绿化带被毁",
        "lon": POINT[0],
        "lat": POINT[1],
    }


def test_a_grid_worker_reports_a_case_once_however_often_the_form_is_sent(client, cases_demo):
    worker = point_worker()
    login(client, worker)
    form = _new_case_form(client)
    channels = re.search(
        r'<select id="id_channel".*?</select>', client.get("/cases/new/").content.decode(), re.S
    )
    assert re.findall(r'<option value="(\w+)"', channels[0]) == ["grid_worker"]
    before = Case.objects.count()
    first = client.post("/cases/new/", form)
    again = client.post("/cases/new/", form)
    assert first.status_code == again.status_code == 303
    assert first["Location"] == again["Location"]
    assert Case.objects.count() == before + 1
    case = Case.objects.get(idempotency_key=form["idempotency_key"])
    assert case.channel == "grid_worker" and case.state == CaseState.REPORTED
    assert first["Location"] == f"/cases/{case.number}/"


def test_a_new_case_form_with_an_error_keeps_what_was_typed(client, cases_demo):
    worker = point_worker()
    form = _new_case_form(login(client, worker)) | {"lon": "", "lat": "", "description": "树枝折断挡路"}
    page = client.post("/cases/new/", form)
    assert page.status_code == 400 and b'data-code="location_required"' in page.content
    assert "树枝折断挡路".encode() in page.content and form["idempotency_key"].encode() in page.content
    refused = client.post("/cases/new/", form | {"channel": "phone", "lon": POINT[0], "lat": POINT[1]})
    assert refused.status_code == 403


def test_a_department_may_not_take_reports_in(client, cases_demo):
    page = login(client, "dept-d01").get("/cases/new/")
    assert page.status_code == 403 and b'data-empty="no-channel"' in page.content


def test_resolving_on_the_spot_needs_before_and_after_photos(client, cases_demo, media):
    worker = point_worker()
    form = _new_case_form(login(client, worker)) | {"case_class": "E0102", "self_resolve": "on"}
    page = client.post("/cases/new/", form)
    assert page.status_code == 400
    done = client.post("/cases/new/", form | {"before": photo(), "after": photo()})
    assert done.status_code == 303
    case = Case.objects.get(idempotency_key=form["idempotency_key"])
    assert case.state == CaseState.CHECKED and case.self_resolved


# --- residents ----------------------------------------------------------------------------------


def _report_form(client) -> dict:
    page = client.get("/report/")
    assert page.status_code == 200
    key = re.search(r'name="idempotency_key" value="([^"]+)"', page.content.decode())[1]
    return {
        "idempotency_key": key,
        "description": "小区门口有人私自搭建彩钢棚",
        "lon": POINT[0],
        "lat": POINT[1],
    }


def test_a_resident_reports_follows_and_rates_without_an_account(client, cases_demo, media):
    form = _report_form(client)
    response = client.post("/report/", form | {"photos": photo(), "reporter_phone": "13812345678"})
    assert response.status_code == 303
    case = Case.objects.get(idempotency_key=form["idempotency_key"])
    assert case.channel == "resident" and case.state == CaseState.VERIFYING and case.reporter is None
    assert response["Location"] == f"/track/{case.tracking_code}/"
    page = client.get(response["Location"])
    html = page.content.decode()
    assert page.status_code == 200 and 'data-banner="reported"' in html
    assert case.number in html and case.tracking_code in html
    assert "13812345678" not in html and "138****5678" not in html
    photo_row = Attachment.objects.get(case=case)
    assert f"/track/{case.tracking_code}/files/{photo_row.pk}" in html
    assert 'data-banner="reported"' not in client.get(response["Location"]).content.decode()

    gw = worker_for(case)
    for by, action, kwargs in [
        (gw, "verify", {}),
        ("shiftlead", "register", {"data": {"case_class": "E0101"}}),
        ("operator", "dispatch", {"data": {}}),
        ("dept-d01", "accept", {}),
        ("dept-d01", "feedback", {"note": "已拆除"}),
        (gw, "check_pass", {}),
        ("shiftlead", "close", {}),
    ]:
        move(by, case, action, **kwargs)
    page = client.get(f"/track/{case.tracking_code}/")
    html = page.content.decode()
    assert 'class="stacked-form rate-form"' in html and "已拆除" in html
    assert str(User.objects.get(username="dept-d01")) not in html  # no names on the public page
    case.refresh_from_db()
    stale = client.post(
        f"/track/{case.tracking_code}/rate", {"version": case.version - 1, "satisfaction": "basic"}
    )
    assert stale.status_code == 409
    rated = client.post(
        f"/track/{case.tracking_code}/rate",
        {"version": case.version, "satisfaction": "basic", "comment": "快"},
    )
    assert rated.status_code == 303
    case.refresh_from_db()
    assert case.satisfaction == "basic" and case.rating_comment == "快"
    assert b"rate-form" not in client.get(f"/track/{case.tracking_code}/").content
    again = client.post(
        f"/track/{case.tracking_code}/rate", {"version": case.version, "satisfaction": "satisfied"}
    )
    assert again.status_code == 409 and Case.objects.get(pk=case.pk).satisfaction == "basic"


def test_a_replayed_report_makes_one_case(client, cases_demo):
    form = _report_form(client)
    before = Case.objects.count()
    first = client.post("/report/", form)
    second = client.post("/report/", form)
    assert first.status_code == second.status_code == 303 and first["Location"] == second["Location"]
    assert Case.objects.count() == before + 1
    # The same key from another browser is someone else's submission: refused, not answered.
    stranger = Client().post("/report/", form)
    assert stranger.status_code == 409 and Case.objects.count() == before + 1


def test_a_report_without_a_place_says_so(client, cases_demo):
    page = client.post("/report/", _report_form(client) | {"lon": "", "lat": ""})
    assert page.status_code == 400 and "小区门口有人私自搭建彩钢棚".encode() in page.content


def test_the_track_form_finds_a_code_and_unknown_codes_are_404(client, cases_demo):
    case = report("", channel="resident", title="路面坑洼")
    typed = case.tracking_code.lower()[:5] + "-" + case.tracking_code.lower()[5:]
    response = client.get("/track/", {"code": typed})
    assert response.status_code == 302 and response["Location"] == f"/track/{case.tracking_code}/"
    assert client.get("/track/", {"code": "ABCDEFGHJK"}).status_code == 404
    assert client.get("/track/", {"code": "<script>"}).status_code == 400
    assert client.get("/track/ABCDEFGHJK/").status_code == 404
    assert client.post("/track/ABCDEFGHJK/rate", {"version": 1, "satisfaction": "basic"}).status_code == 404


def test_a_signed_in_resident_follows_their_case_on_the_public_page(client, cases_demo):
    login(client, "resident1")
    client.post("/report/", _report_form(client))
    case = Case.objects.get(reporter__username="resident1")
    response = client.get(f"/cases/{case.number}/")
    assert response.status_code == 302 and response["Location"] == f"/track/{case.tracking_code}/"


# --- messages and the top bar ---------------------------------------------------------------------


def test_the_messages_page_lists_and_marks_read(client, cases_demo):
    case = registered()
    move("operator", case, "dispatch", data={})
    login(client, "dept-d01")
    unread = Notification.objects.filter(user__username="dept-d01", read_at__isnull=True).count()
    assert unread >= 1
    page = client.get("/messages/")
    assert page.status_code == 200 and page.content.decode().count('class="unread"') == unread
    assert f'href="/cases/{case.number}/"'.encode() in page.content
    assert b'class="nav-badge"' in page.content
    done = client.post("/messages/")
    assert done.status_code == 303
    assert not Notification.objects.filter(user__username="dept-d01", read_at__isnull=True).exists()
    page = client.get("/messages/")
    assert b'class="unread"' not in page.content and b'class="nav-badge"' not in page.content


def test_the_top_bar_costs_one_query_and_nothing_for_visitors(rf, cases_demo, django_assert_num_queries):
    request = rf.get("/")
    from django.contrib.auth.models import AnonymousUser

    request.user = AnonymousUser()
    with django_assert_num_queries(0):
        assert case_nav(request) == {}
    for username, may_create in [("operator", True), ("dept-d01", False), ("chief-320102002001", True)]:
        request.user = User.objects.get(username=username)
        nav = case_nav(request)["case_nav"]
        with django_assert_num_queries(1):
            assert nav.may_create is may_create
            assert nav.unread == 0 and nav.unread_label == "0"
            assert nav.links["hotline"] is (username == "operator")
            assert nav.links["whistles"] is (username != "chief-320102002001")
            assert nav.links["patrols"] is (username != "dept-d01")
            assert nav.links["enforcement"] is (username != "chief-320102002001")
            assert nav.links["mobile"] is (username == "chief-320102002001")  # grid chief's posts
    request.user = User.objects.get(username="gw-32010200200101")  # a grid post, no role row
    with django_assert_num_queries(1):
        links = case_nav(request)["case_nav"].links
    assert links["mobile"] and not links["patrols"] and not links["enforcement"] and not links["hotline"]


def test_the_top_bar_links_depend_on_who_is_signed_in(client, cases_demo):
    home = client.get("/").content.decode()
    assert 'href="/report/"' in home and 'href="/track/"' in home and 'href="/cases/"' not in home
    home = login(client, "dept-d01").get("/").content.decode()
    assert 'href="/cases/"' in home and 'href="/cases/list/"' in home and 'href="/cases/new/"' not in home
    assert 'href="/whistles/"' in home and 'href="/hotline/"' not in home and 'href="/routing/"' not in home
    home = login(Client(), "operator").get("/").content.decode()
    assert 'href="/cases/new/"' in home
    assert 'href="/whistles/"' in home and 'href="/hotline/"' in home and 'href="/devices/"' in home
    home = login(Client(), "bl-32010200200101").get("/").content.decode()
    assert 'href="/routing/"' in home and 'href="/whistles/"' not in home and 'href="/hotline/"' not in home


def test_an_address_sending_too_many_reports_is_told_to_wait(client, cases_demo, settings):
    settings.REPORT_RATE_LIMIT = 2
    before = Case.objects.count()
    for _ in range(2):
        assert client.post("/report/", _report_form(client)).status_code == 303
    refused = client.post("/report/", _report_form(client))
    assert refused.status_code == 429 and "12345" in refused.content.decode()
    assert Case.objects.count() == before + 2
    other = Client(REMOTE_ADDR="10.1.2.3")  # another address is not held back
    assert other.post("/report/", _report_form(other)).status_code == 303


def test_without_javascript_a_resident_places_the_report_by_community(client, cases_demo):
    form = _report_form(client)
    assert 'name="community"' in client.get("/report/").content.decode()  # the <noscript> picker
    mapless = form | {"lon": "", "lat": "", "community": "320102002001"}
    refused = client.post("/report/", mapless)  # no address: nobody could find the place
    assert refused.status_code == 400 and 'data-code="address_required"' in refused.content.decode()
    response = client.post("/report/", mapless | {"address": "梅园新村 12 号门口"})
    assert response.status_code == 303
    case = Case.objects.get(idempotency_key=form["idempotency_key"])
    assert case.community.code == "320102002001" and case.grid.parent_id == case.community_id
    unknown = client.post("/report/", _report_form(client) | {"lon": "", "lat": "", "community": "999"})
    assert unknown.status_code == 400 and 'data-code="unknown_community"' in unknown.content.decode()

"""The state machine, move by move and state by state, through the services: what each state
allows, who may make a move, and that every refusal leaves the database exactly as it was."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, transaction

from civicgrid.cases import limits
from civicgrid.cases.clock import parse_limit
from civicgrid.cases.models import Attachment, AttachmentPurpose, Case, CaseEvent, CaseUnit, Stage
from civicgrid.cases.services import CaseInput, Upload, case_create, case_move
from civicgrid.cases.workflow import MOVES, Actor
from civicgrid.errors import DomainError

from .conftest import actor, local, report
from .steps import (
    GRID_A,
    GW_A,
    GW_A2,
    GW_B,
    NOT_SELF_RESOLVABLE,
    Frozen,
    S,
    do,
    doer,
    everyone,
    jpeg,
    move_input,
    on_postgres,
    point_in,
    snapshot,
    tracking_actor,
    walk,
)

pytestmark = pytest.mark.django_db

# Written out by hand from docs/cases.md, not derived from workflow.MOVES: the moves each
# situation allows (to someone).
ALLOWED = {
    "verifying": {"verify", "void", "note"},
    "reported": {"void", "register", "self_resolve", "note"},
    "reported, class not self-resolvable": {"void", "register", "note"},
    "voided": set(),
    "registered": {"dispatch", "note"},
    "dispatched": {"accept", "return", "note"},
    "handling": {"feedback", "extend_request", "suspend", "pause", "note"},
    "handling, extension asked": {
        "extend_approve",
        "extend_reject",
        "pause",
        "note",
    },  # no suspension meanwhile
    "handling, clock paused": {"unpause", "note"},
    "suspended": {"resume", "note"},
    "checking": {"check_pass", "check_fail", "note"},
    "checked": {"close", "note"},
    "closed": {"rate", "follow_up"},
    "closed, rated and called back": set(),
}
# Where each move leads; the moves not listed keep the state.
TARGET = {
    "verify": S.REPORTED, "void": S.VOIDED, "register": S.REGISTERED, "dispatch": S.DISPATCHED,
    "accept": S.HANDLING, "return": S.REGISTERED, "feedback": S.CHECKING, "check_pass": S.CHECKED,
    "check_fail": S.HANDLING, "close": S.CLOSED, "suspend": S.SUSPENDED, "resume": S.HANDLING,
    "self_resolve": S.CHECKED,
}  # fmt: skip


def situation(name: str) -> Case:
    """A new case in the named situation of ``ALLOWED``."""
    if name == "reported, class not self-resolvable":
        return walk(S.REPORTED, case_class=NOT_SELF_RESOLVABLE)
    state, _, extra = name.partition(", ")
    case = walk(state)
    if extra == "extension asked":
        do(doer("extend_request", case), case, "extend_request")
    elif extra == "clock paused":
        do(doer("pause", case), case, "pause")
    elif extra == "rated and called back":
        do(tracking_actor(case), case, "rate")
        do("operator", case, "follow_up")
    return case


def in_move_order(actions) -> list[str]:
    return [a for a in MOVES if a in actions]


def test_every_state_of_the_model_is_covered_and_every_move_is_tried():
    assert {name.partition(",")[0] for name in ALLOWED} == set(S.values)
    assert set(TARGET) | {"rate", "follow_up", "extend_request", "extend_approve", "extend_reject",
                          "pause", "unpause", "note"} == set(MOVES)  # fmt: skip


@pytest.mark.parametrize("name", ALLOWED)
def test_each_move_is_made_exactly_where_the_state_allows_it(cases_demo, settings, tmp_path, name):
    settings.MEDIA_ROOT = tmp_path
    base = situation(name)
    for action in MOVES:
        if action in ALLOWED[name]:
            case = situation(name)
            before = snapshot(case)
            do(doer(action, case), case, action)
            row = Case.objects.get(pk=case.pk)
            assert row.state == TARGET.get(action, before["row"]["state"]), action
            assert row.version == before["row"]["version"] + 1
            last = CaseEvent.objects.filter(case=case).order_by("-seq").first()
            assert (last.seq, last.action) == (row.version, action)
            continue
        base.refresh_from_db()
        before = snapshot(base)
        given = move_input(action)
        with pytest.raises(DomainError) as refused:
            case_move(actor=everyone(base), number=base.number, action=action, version=base.version,
                      note=given["note"] or "说明", data=given["data"])  # fmt: skip
        error = refused.value
        assert (error.code, error.status) == ("illegal_move", 409), action
        assert error.detail == {"state": base.state, "allowed": in_move_order(ALLOWED[name])}
        assert snapshot(base) == before, action


def test_a_refusal_names_only_the_moves_that_person_may_make(cases_demo):
    case = walk(S.HANDLING)
    expected = {
        GW_A: ["note"],
        "dept-d01": ["feedback", "extend_request", "suspend", "pause", "note"],
        "shiftlead": ["suspend", "note"],
        "operator": ["note"],
    }
    for who, allowed in expected.items():
        with pytest.raises(DomainError) as refused:
            case_move(actor=actor(who), number=case.number, action="close", version=case.version)
        assert refused.value.detail["allowed"] == allowed, who


def test_a_grid_worker_may_not_register(cases_demo):
    case = walk(S.REPORTED)
    before = snapshot(case)
    with pytest.raises(DomainError) as refused:
        do(GW_A, case, "register")
    error = refused.value
    assert (error.code, error.status) == ("move_forbidden", 403)
    assert error.detail["allowed"] == ["self_resolve", "note"]
    assert snapshot(case) == before


def test_another_department_neither_sees_nor_moves_the_case_unless_it_co_handles(cases_demo):
    alone = walk(S.DISPATCHED)
    with pytest.raises(DomainError) as refused:
        do("dept-d02", alone, "accept")
    assert (refused.value.code, refused.value.status) == ("case_not_found", 404)

    shared = walk(S.REGISTERED)
    do("operator", shared, "dispatch", data={"department": "D01", "co_departments": ["D02"]})
    assert set(CaseUnit.objects.filter(case=shared).values_list("department__code", "lead")) == {
        ("D01", True),
        ("D02", False),
    }
    before = snapshot(shared)
    for action in ("accept", "return"):
        with pytest.raises(DomainError) as refused:
            do("dept-d02", shared, action)
        assert (refused.value.code, refused.value.status) == ("move_forbidden", 403)
        assert refused.value.detail["allowed"] == ["note"]
    assert snapshot(shared) == before
    do("dept-d02", shared, "note", note="配合单位已到场")
    assert shared.state == S.DISPATCHED and shared.events.last().actor_role == "department_handler"


def test_a_grid_worker_of_another_grid_gets_404_not_403(cases_demo):
    case = walk(S.VERIFYING)
    before = snapshot(case)
    for outsider in (GW_A2, GW_B):
        with pytest.raises(DomainError) as refused:
            do(outsider, case, "verify", note="核实")
        assert (refused.value.code, refused.value.status) == ("case_not_found", 404)
    assert snapshot(case) == before


@pytest.mark.parametrize("action", [a for a, m in MOVES.items() if m.note_required])
def test_moves_that_need_a_reason_are_refused_without_one(cases_demo, action):
    source = {"void": "reported", "return": "dispatched", "check_fail": "checking",
              "extend_reject": "handling, extension asked", "note": "registered"}.get(action, "handling")  # fmt: skip
    case = situation(source)
    before = snapshot(case)
    for blank in ("", "   "):
        with pytest.raises(DomainError) as refused:
            do(doer(action, case), case, action, note=blank)
        assert (refused.value.code, refused.value.status) == ("note_required", 400)
    assert snapshot(case) == before


def test_a_stale_version_is_refused_and_nothing_is_written(cases_demo):
    case = walk(S.REGISTERED)
    before = snapshot(case)
    with pytest.raises(DomainError) as refused:
        case_move(actor=actor("operator"), number=case.number, action="dispatch", version=case.version - 1)
    error = refused.value
    assert (error.code, error.status, error.detail) == ("stale_version", 409, {"version": case.version})
    assert snapshot(case) == before


def test_of_two_moves_made_on_the_same_version_the_second_is_refused(cases_demo):
    case = walk(S.REGISTERED)
    seen = case.version
    case_move(actor=actor("operator"), number=case.number, action="dispatch", version=seen)
    after_first = snapshot(case)
    with pytest.raises(DomainError) as refused:
        case_move(actor=actor("shiftlead"), number=case.number, action="note", version=seen, note="备注")
    assert (refused.value.code, refused.value.status) == ("stale_version", 409)
    assert snapshot(case) == after_first
    assert after_first["events"][-1] == (seen + 1, "dispatch")


def test_a_writer_holding_an_old_copy_loses_even_without_naming_a_version(cases_demo):
    case = walk(S.REGISTERED)
    old_copy = Case.objects.get(pk=case.pk)
    do("operator", case, "dispatch")
    after_first = snapshot(case)
    with pytest.raises(DomainError) as refused:
        case_move(actor=actor("shiftlead"), number=case.number, action="note", version=None,
                  note="备注", case=old_copy)  # fmt: skip
    assert (refused.value.code, refused.value.status) == ("stale_version", 409)
    assert snapshot(case) == after_first


def test_the_database_refuses_to_rewrite_an_event(cases_demo):
    case = walk(S.REGISTERED)
    event = case.events.get(seq=1)
    with pytest.raises(DatabaseError), transaction.atomic():
        CaseEvent.objects.filter(pk=event.pk).update(note="x")
    assert CaseEvent.objects.get(pk=event.pk).note == ""
    with pytest.raises(ValueError):
        event.save()


def test_on_postgresql_the_database_refuses_to_delete_an_event(cases_demo):
    if not on_postgres():
        pytest.skip("SQLite keeps DELETE open for the test runner (see migration 0002)")
    case = walk(S.REGISTERED)
    with pytest.raises(DatabaseError), transaction.atomic():
        CaseEvent.objects.filter(case=case).delete()
    assert CaseEvent.objects.filter(case=case).count() == 2


def test_a_return_goes_back_to_registration_with_its_reason_and_can_be_dispatched_again(cases_demo):
    case = walk(S.DISPATCHED)
    do("dept-d01", case, "return", note="属于供电公司职责")
    assert (case.state, case.department_id, case.due_at, case.return_count) == (S.REGISTERED, None, None, 1)
    returned = case.events.get(action="return")
    assert (returned.note, returned.from_state, returned.to_state) == (
        "属于供电公司职责",
        "dispatched",
        "registered",
    )
    do("operator", case, "dispatch", data={"department": "U01"})
    assert case.state == S.DISPATCHED and case.department.code == "U01" and case.due_at is not None
    assert list(CaseUnit.objects.filter(case=case).values_list("department__code", "lead")) == [("U01", True)]


def _handling(monkeypatch):
    """A 1工作日 case accepted on Monday 2026-11-16 at 09:00: handling due Tuesday 09:00."""
    clock = Frozen(monkeypatch, local(2026, 11, 16, 9, 0))
    case = walk(S.HANDLING)
    assert case.due_at == case.stage_deadline == local(2026, 11, 17, 9, 0)
    return clock, case


def test_a_failed_check_sends_the_case_back_with_a_fresh_handling_deadline(cases_demo, monkeypatch):
    clock, case = _handling(monkeypatch)
    clock.to(local(2026, 11, 16, 10, 0))
    do("dept-d01", case, "feedback")
    clock.to(local(2026, 11, 16, 11, 0))
    do(GW_A, case, "check_fail", note="广告未清除干净")
    # 1工作日 = 450 office minutes from Monday 11:00: 60 + 240 on Monday, 150 on Tuesday.
    assert (case.state, case.stage, case.rework_count) == (S.HANDLING, Stage.HANDLE, 1)
    assert case.due_at == case.stage_deadline == local(2026, 11, 17, 11, 0)


def test_an_approved_extension_moves_the_deadline_by_exactly_the_time_asked(cases_demo, monkeypatch):
    clock, case = _handling(monkeypatch)
    clock.to(local(2026, 11, 16, 10, 0))
    do("dept-d01", case, "extend_request", data={"limit": "2工作日"})
    assert case.pending_extension["limit"] == {"amount": 2, "unit": "work_days"}
    assert case.due_at == local(2026, 11, 17, 9, 0)
    do("shiftlead", case, "extend_approve")
    expected = limits.calendar().add(local(2026, 11, 17, 9, 0), parse_limit("2工作日"))
    assert case.due_at == case.stage_deadline == expected == local(2026, 11, 19, 9, 0)
    assert (case.pending_extension, case.extension_count, case.state) == (None, 1, S.HANDLING)
    assert case.events.last().data["deadline"] == expected.isoformat()


def test_a_refused_extension_leaves_the_deadline(cases_demo, monkeypatch):
    _clock, case = _handling(monkeypatch)
    do("dept-d01", case, "extend_request", data={"limit": "3工作日"})
    do("shiftlead", case, "extend_reject", note="时限足够")
    assert (case.pending_extension, case.extension_count) == (None, 0)
    assert case.due_at == case.stage_deadline == local(2026, 11, 17, 9, 0)


def test_a_suspension_needs_a_future_review_date_and_stops_the_clock(cases_demo, monkeypatch):
    clock, case = _handling(monkeypatch)
    clock.to(local(2026, 11, 16, 10, 0))
    before = snapshot(case)
    for bad in ("", "2026-11-16", "2026-11-01", "next week"):
        with pytest.raises(DomainError) as refused:
            do("dept-d01", case, "suspend", data={"review_on": bad})
        assert refused.value.code == "bad_date"
    assert snapshot(case) == before
    do("dept-d01", case, "suspend", data={"review_on": "2026-12-01"})
    assert (case.state, case.stage, case.stage_deadline, case.stage_warn_at) == (S.SUSPENDED, "", None, None)
    assert case.paused_at == local(2026, 11, 16, 10, 0) and str(case.review_on) == "2026-12-01"
    clock.to(local(2026, 11, 18, 10, 0))
    do("shiftlead", case, "resume")
    # Monday 10:00 to Wednesday 10:00 is two working days (900 office minutes) of standstill.
    assert case.events.last().data["paused_minutes"] == 900
    assert case.due_at == case.stage_deadline == local(2026, 11, 19, 9, 0)
    assert (case.state, case.stage, case.paused_at, case.review_on) == (S.HANDLING, Stage.HANDLE, None, None)


def test_pausing_shifts_every_deadline_by_the_paused_working_time(cases_demo, monkeypatch):
    clock, case = _handling(monkeypatch)
    assert case.stage_warn_at == local(2026, 11, 16, 16, 30)  # 80 % of 450 minutes after 09:00
    clock.to(local(2026, 11, 16, 10, 0))
    do("dept-d01", case, "pause")
    assert case.paused_at == local(2026, 11, 16, 10, 0)
    clock.to(local(2026, 11, 16, 15, 0))
    do("dept-d01", case, "unpause")
    # 10:00–12:00 and 13:30–15:00: 210 office minutes stood still.
    assert case.events.last().data["paused_minutes"] == 210
    assert case.due_at == case.stage_deadline == local(2026, 11, 17, 14, 0)
    assert case.stage_warn_at == local(2026, 11, 17, 11, 0)
    assert case.paused_at is None


def _self_resolve(who: str, case_class: str, files: list[Upload]):
    data = CaseInput(channel="grid_worker", title="电线杆上贴满小广告", lon=point_in(GRID_A)[0],
                     lat=point_in(GRID_A)[1], case_class=case_class, self_resolve=True, files=files,
                     note="已现场清除")  # fmt: skip
    return case_create(actor=actor(who), data=data, idempotency_key=f"self-{case_class}-{len(files)}",
                       submitted_by=who).case  # fmt: skip


def test_a_grid_worker_resolves_a_self_resolvable_matter_on_the_spot(cases_demo, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    photos = [Upload("before.jpg", jpeg((200, 0, 0)), AttachmentPurpose.BEFORE),
              Upload("after.jpg", jpeg((0, 200, 0)), AttachmentPurpose.AFTER)]  # fmt: skip
    case = _self_resolve(GW_A, "E0201", photos)
    row = Case.objects.get(pk=case.pk)
    assert (row.state, row.self_resolved, row.stage, row.version) == (S.CHECKED, True, Stage.CLOSE, 2)
    assert list(row.events.values_list("action", "to_state")) == [
        ("report", "reported"),
        ("self_resolve", "checked"),
    ]
    assert sorted(Attachment.objects.filter(case=row).values_list("purpose", flat=True)) == [
        "after",
        "before",
    ]


@pytest.mark.parametrize(
    ("case_class", "purposes", "code"),
    [
        (NOT_SELF_RESOLVABLE, ["before", "after"], "not_self_resolvable"),
        ("E0201", [], "photos_required"),
        ("E0201", ["before"], "photos_required"),
        ("E0201", ["after", "report"], "photos_required"),
    ],
)
def test_self_resolution_is_refused_for_other_classes_and_without_both_photos(
    cases_demo, settings, tmp_path, case_class, purposes, code
):
    settings.MEDIA_ROOT = tmp_path
    files = [Upload(f"{p}.jpg", jpeg(), p) for p in purposes]
    with pytest.raises(DomainError) as refused:
        _self_resolve(GW_A, case_class, files)
    assert refused.value.code == code
    assert (Case.objects.count(), Attachment.objects.count()) == (0, 0)


def test_self_resolution_is_refused_outside_the_grid_workers_grid(cases_demo, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    files = [Upload("b.jpg", jpeg(), "before"), Upload("a.jpg", jpeg(), "after")]
    with pytest.raises(DomainError) as refused:
        _self_resolve(GW_B, "E0201", files)
    assert (refused.value.code, refused.value.status) == ("move_forbidden", 403)
    assert (Case.objects.count(), Attachment.objects.count(), CaseEvent.objects.count()) == (0, 0, 0)


def test_voiding_needs_a_reason(cases_demo):
    case = walk(S.VERIFYING)
    with pytest.raises(DomainError) as refused:
        do("shiftlead", case, "void", note="")
    assert refused.value.code == "note_required" and Case.objects.get(pk=case.pk).state == S.VERIFYING
    do("shiftlead", case, "void", note="重复上报")
    assert (case.state, case.stage, case.stage_deadline) == (S.VOIDED, "", None)
    assert case.events.last().note == "重复上报"


def test_the_reporter_rates_once_by_the_follow_link_and_a_stranger_not_at_all(cases_demo):
    case = walk(S.CLOSED)
    other = walk(S.CLOSED)
    stranger = tracking_actor(other)
    with pytest.raises(DomainError) as refused:
        do(stranger, case, "rate")
    assert (refused.value.code, refused.value.status) == ("move_forbidden", 403)
    assert Case.objects.get(pk=case.pk).satisfaction == ""
    do(tracking_actor(case), case, "rate", data={"satisfaction": "basic", "comment": "还行"})
    assert (case.satisfaction, case.rating_comment, case.state) == ("basic", "还行", S.CLOSED)
    before = snapshot(case)
    with pytest.raises(DomainError) as refused:
        do(tracking_actor(case), case, "rate", data={"satisfaction": "dissatisfied"})
    assert (refused.value.code, refused.value.status) == ("illegal_move", 409)
    assert snapshot(case) == before


def test_a_signed_in_resident_rates_their_own_report(cases_demo):
    case = report("resident1", channel="resident", point=point_in(GRID_A), case_class="E0201")
    for action in ("verify", "register", "dispatch", "accept", "feedback", "check_pass", "close"):
        do(doer(action, case), case, action)
    assert case.state == S.CLOSED and case.reporter.username == "resident1"
    with pytest.raises(DomainError) as refused:
        do("resident2", case, "rate")
    assert refused.value.status == 404
    do("resident1", case, "rate", data={"satisfaction": "dissatisfied"})
    assert case.satisfaction == "dissatisfied" and case.events.last().actor.username == "resident1"


def test_the_operator_calls_back_once(cases_demo):
    case = walk(S.CLOSED)
    do("operator", case, "follow_up", data={"contacted": True, "resolved": False, "satisfaction": "basic"})
    assert case.followup["contacted"] is True and case.followup["satisfaction"] == "basic"
    with pytest.raises(DomainError) as refused:
        do("operator", case, "follow_up", data={"contacted": True})
    assert refused.value.code == "illegal_move"
    with pytest.raises(DomainError) as refused:
        do(GW_A, walk(S.CLOSED), "follow_up")
    assert refused.value.code == "move_forbidden"


def test_a_resident_without_a_link_cannot_touch_a_case(cases_demo):
    case = walk(S.CLOSED)
    with pytest.raises(DomainError) as refused:
        case_move(actor=Actor(user_id=None), number=case.number, action="rate", version=case.version,
                  data={"satisfaction": "satisfied"})  # fmt: skip
    assert refused.value.status == 404
    assert Case.objects.get(pk=case.pk).satisfaction == ""


def test_resolving_a_report_on_the_spot_later_needs_a_photo_of_the_result(cases_demo, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    bare = walk(S.REPORTED)  # no photo at all
    with_report_photo = walk(S.REPORTED, files=[Upload("scene.jpg", jpeg())])
    for case, files in [(bare, []), (bare, [Upload("after.jpg", jpeg(), "after")]), (with_report_photo, [])]:
        before = snapshot(case)
        with pytest.raises(DomainError) as refused:
            do(GW_A, case, "self_resolve", files=files)
        assert (refused.value.code, refused.value.status) == ("photos_required", 400)
        assert snapshot(case) == before
    do(GW_A, with_report_photo, "self_resolve", files=[Upload("after.jpg", jpeg((0, 200, 0)), "after")])
    assert (with_report_photo.state, with_report_photo.self_resolved) == (S.CHECKED, True)
    assert sorted(with_report_photo.attachments.values_list("purpose", flat=True)) == ["after", "report"]

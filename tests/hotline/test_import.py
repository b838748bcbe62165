"""Importing hotline batches: each format, idempotency (a re-sent batch changes nothing, a changed
order updates its case), bad rows and bad files refused with reasons, feedback limits, numbering."""

from __future__ import annotations

from datetime import timedelta

import pytest

from civicgrid.accounts.models import User
from civicgrid.audit.models import AuditRecord
from civicgrid.cases.models import Case, CaseClass, CaseEvent, CaseState, Channel
from civicgrid.errors import DomainError
from civicgrid.hotline import importer, pipeline, services
from civicgrid.hotline.models import (
    BatchStatus,
    HotlineBatch,
    HotlineBatchLine,
    HotlineClassMap,
    HotlineLimit,
    HotlineOrder,
    LimitKind,
    OrderState,
)
from tests.cases.conftest import report, worker_for
from tests.cases.steps import do
from tests.hotline.conftest import as_csv, as_json, as_xlsx, order, run

pytestmark = pytest.mark.django_db


def lines(batch) -> dict[str, tuple[str, str]]:
    return {
        line.external_number or f"row{line.row}": (line.outcome, line.code)
        for line in HotlineBatchLine.objects.filter(batch=batch)
    }


@pytest.mark.parametrize(
    ("name", "encode"), [("orders.json", as_json), ("orders.csv", as_csv), ("orders.xlsx", as_xlsx)]
)
def test_it_imports_each_format(hotline, name, encode):
    rows = [
        order("F1"),
        order("F2", lon="", lat="", address="兰园社区5栋"),
        order("F3", lon="", lat="", address="?"),
    ]
    batch = run(encode(rows), name=name)
    assert batch.status == BatchStatus.DONE and batch.total == 3 and batch.done == 3
    assert batch.counts() == {"created": 2, "updated": 0, "unchanged": 0, "triaged": 1, "rejected": 0}
    placed = HotlineOrder.objects.get(external_number="F1")
    case = placed.case
    assert placed.state == OrderState.PLACED and placed.placed_by == "coordinates"
    assert case.channel == Channel.HOTLINE and case.state == CaseState.VERIFYING
    assert case.idempotency_key == "hotline:F1" and case.submitted_by == importer.SUBMITTER
    assert case.description == rows[0]["content"] and case.address == rows[0]["address"]
    # Personal data: encrypted at rest, masked when read.
    assert str(placed.caller_phone) == "138****8000" and placed.caller_phone.reveal() == "13800138000"
    assert str(case.reporter_phone) == "138****8000"
    raw = HotlineOrder.objects.filter(pk=placed.pk).values_list("caller_phone", flat=True).get()
    assert "13800138000" not in raw
    first = CaseEvent.objects.get(case=case, seq=1)
    assert first.data["hotline"]["order"] == "F1" and "F1" in first.note
    assert HotlineOrder.objects.get(external_number="F3").case is None
    # One audit record for the batch, with its counts.
    record = AuditRecord.objects.get(action="hotline.import", object_id=str(batch.pk))
    assert record.detail["created"] == 2 and record.detail["triaged"] == 1


def test_the_same_file_again_is_refused_as_a_duplicate_batch_and_recorded(hotline):
    data = as_json([order("D1")])
    run(data)
    with pytest.raises(DomainError) as refused:
        run(data)
    assert refused.value.code == "duplicate_batch" and refused.value.status == 409
    refusal = HotlineBatch.objects.get(pk=refused.value.detail["batch"])
    assert refusal.status == BatchStatus.REFUSED and refusal.duplicate_of is not None
    assert AuditRecord.objects.filter(action="hotline.batch_refused", object_id=str(refusal.pk)).exists()
    assert Case.objects.filter(channel=Channel.HOTLINE).count() == 1


def test_a_resent_batch_is_a_no_op(hotline):
    rows = [
        order("N1"),
        order("N2", lon="", lat="", address="测试大厦门口"),
        order("N3", address="x", lon="", lat=""),
    ]
    run(rows)
    before = (
        Case.objects.count(),
        CaseEvent.objects.count(),
        list(HotlineOrder.objects.values().order_by("id")),
    )
    again = run(rows, again=True)
    assert again.counts() == {"created": 0, "updated": 0, "unchanged": 3, "triaged": 0, "rejected": 0}
    assert (Case.objects.count(), CaseEvent.objects.count()) == before[:2]
    after = list(HotlineOrder.objects.values().order_by("id"))
    assert [(o["fingerprint"], o["updated_at"], o["batch_id"]) for o in after] == [
        (o["fingerprint"], o["updated_at"], o["batch_id"]) for o in before[2]
    ]


def test_a_changed_order_updates_its_case_with_a_note_and_no_step_back(hotline):
    run([order("C1")])
    case = HotlineOrder.objects.get(external_number="C1").case
    changed = order(
        "C1", content="路灯不亮，已经一周了，请尽快修复", urgency="紧急", caller_phone="13900139000"
    )
    batch = run([changed, order("C2")])
    assert batch.counts()["updated"] == 1 and batch.counts()["created"] == 1
    updated = Case.objects.get(pk=case.pk)
    assert updated.description == changed["content"] and updated.urgency == "urgent"
    assert updated.reporter_phone.reveal() == "13900139000"
    assert updated.state == case.state and updated.version == case.version + 1
    note = CaseEvent.objects.filter(case=case).order_by("-seq").first()
    assert note.action == "note" and "C1" in note.note and "urgency" in note.note
    assert HotlineOrder.objects.get(external_number="C1").urgency == "urgent"


def test_a_changed_order_of_a_voided_case_updates_only_the_order(hotline):
    run([order("V1")])
    case = HotlineOrder.objects.get(external_number="V1").case
    do(worker_for(case), case, "verify")
    case = do("shiftlead", case, "void")
    events = CaseEvent.objects.filter(case=case).count()
    batch = run([order("V1", content="补充：路灯杆也歪了")])
    assert lines(batch)["V1"] == ("updated", "case_closed")
    assert CaseEvent.objects.filter(case=case).count() == events
    assert Case.objects.get(pk=case.pk).state == CaseState.VOIDED
    assert HotlineOrder.objects.get(external_number="V1").content == "补充：路灯杆也歪了"


def test_placement_by_community_street_landmark_and_coordinates(hotline):
    gcj = {"lon": "118.80167", "lat": "32.04301", "crs": "gcj02"}  # POINT as a map app shows it
    batch = run(
        [
            order("P1", lon="", lat="", address="南京市玄武区兰园社区兰园小区5栋"),
            order("P2", lon="", lat="", address="测试楼东门"),
            order("P3", lon="", lat="", address="孝陵卫街道某某路"),
            order("P4", **gcj),
            order("P5", lon="0", lat="0", address="红山街道红山公园社区3栋"),
        ]
    )
    assert batch.created == 5
    placed = dict(HotlineOrder.objects.values_list("external_number", "placed_by"))
    assert placed["P1"].startswith("community:") and placed["P2"].startswith("landmark:")
    assert placed["P3"].startswith("street:") and placed["P4"] == "coordinates"
    p1 = HotlineOrder.objects.get(external_number="P1").case
    assert p1.community.name.startswith("兰园")
    # The longer community name wins over the street name it contains ("红山" in both).
    p5 = HotlineOrder.objects.get(external_number="P5").case
    assert p5.community.name.startswith("红山公园")
    p4 = HotlineOrder.objects.get(external_number="P4")
    assert p4.crs == "gcj02" and abs(p4.case.lon - 118.7968) < 0.001 and p4.lon == pytest.approx(118.80167)


def test_garbage_and_unplaceable_orders_wait_in_triage_with_reasons(hotline):
    batch = run(
        [
            order("G1", lon="", lat="", address="不详"),
            order("G2", lon="", lat="", address=""),
            order("G3", lon="116.40", lat="39.90", address="北京市东城区"),
            order("G4", lon="", lat="", address="玄武区"),
        ]
    )
    assert batch.counts()["triaged"] == 4 and batch.created == 0
    assert lines(batch) == {
        "G1": ("triaged", "address_unmatched"),
        "G2": ("triaged", "no_place"),
        "G3": ("triaged", "outside_district"),
        "G4": ("triaged", "address_unmatched"),
    }
    assert set(HotlineOrder.objects.values_list("state", flat=True)) == {OrderState.TRIAGED}
    assert not Case.objects.filter(channel=Channel.HOTLINE).exists()


def test_bad_rows_are_rejected_with_reasons_and_nothing_else_is_written(hotline):
    batch = run(
        [
            order(""),
            order("R2", received_at="昨天上午"),
            order("R3", received_at="2030-01-01 08:00"),
            order("R4", urgency="非常急"),
            order("R5", lon="abc"),
            order("R6", lon="200", lat="32"),
            order("R7", crs="utm"),
            order("R8", content=""),
            order("R9", content="长" * 4001),
            order("R10", feedback_by="2026-11-26 08:00"),
            order("R11", limit_kind="很快"),
            order("OK1"),
            order("OK1", content="同号第二次"),
        ]
    )
    found = lines(batch)
    assert found == {
        "row1": ("rejected", "missing_number"),
        "R2": ("rejected", "bad_time"),
        "R3": ("rejected", "bad_time"),
        "R4": ("rejected", "bad_urgency"),
        "R5": ("rejected", "bad_coordinates"),
        "R6": ("rejected", "bad_coordinates"),
        "R7": ("rejected", "bad_crs"),
        "R8": ("rejected", "missing_content"),
        "R9": ("rejected", "text_too_long"),
        "R10": ("rejected", "bad_time"),
        "R11": ("rejected", "bad_limit_kind"),
        "OK1": ("rejected", "duplicate_in_batch"),  # the second row (the last with this number)
    }
    assert HotlineBatchLine.objects.get(batch=batch, row=12).outcome == "created"
    duplicate = HotlineBatchLine.objects.get(batch=batch, row=13)
    assert duplicate.code == "duplicate_in_batch" and "12" in duplicate.message
    assert batch.counts() == {"created": 1, "updated": 0, "unchanged": 0, "triaged": 0, "rejected": 12}
    assert list(HotlineOrder.objects.values_list("external_number", flat=True)) == ["OK1"]
    assert HotlineOrder.objects.get().content == order("OK1")["content"]


@pytest.mark.parametrize(
    ("name", "data", "code", "status"),
    [
        ("orders.txt", b"external_number\nX1\n", "bad_file_type", 415),
        ("orders.pdf", b"%PDF-1.4", "bad_file_type", 415),
        ("orders.json", b"{not json", "unreadable_file", 400),
        ("orders.json", b'{"orders": 5}', "unreadable_file", 400),
        ("orders.json", b"[]", "empty_file", 400),
        ("orders.csv", "工单号码,内容\nX1,y\n".encode(), "missing_column", 400),
        ("orders.xlsx", b"PK\x03\x04 not a workbook", "unreadable_file", 400),
    ],
)
def test_a_bad_file_is_refused_recorded_and_writes_nothing(hotline, name, data, code, status):
    with pytest.raises(DomainError) as refused:
        run(data, name=name)
    assert refused.value.code == code and refused.value.status == status
    batch = HotlineBatch.objects.get(pk=refused.value.detail["batch"])
    assert batch.status == BatchStatus.REFUSED and batch.error_code == code
    assert AuditRecord.objects.filter(action="hotline.batch_refused", object_id=str(batch.pk)).exists()
    assert not HotlineOrder.objects.exists() and not HotlineBatchLine.objects.exists()


def test_feedback_deadlines_follow_the_configured_limits(hotline):
    lamp = CaseClass.objects.get(code="P0108")
    HotlineClassMap.objects.create(
        hotline_class="供水", case_class=CaseClass.objects.get(code="G0402"), limit_kind=LimitKind.UTILITIES
    )
    HotlineClassMap.objects.create(hotline_class="城市管理/路灯", case_class=lamp)
    HotlineLimit.objects.create(kind=LimitKind.COMPLEX, limit="10工作日")
    run(
        [
            order("T1"),
            order("T2", urgency="特急"),
            order("T3", hotline_class="供水"),
            order("T4", feedback_by="2026-11-27 12:00"),
            order("T5", limit_kind="complex"),
        ]
    )
    got = {o.external_number: o for o in HotlineOrder.objects.all()}
    received = got["T1"].received_at
    assert got["T1"].limit_kind == LimitKind.ORDINARY and got["T1"].feedback_deadline == received + timedelta(
        days=7
    )
    assert got["T2"].limit_kind == LimitKind.EMERGENCY and got[
        "T2"
    ].feedback_deadline == received + timedelta(hours=2)
    assert got["T3"].limit_kind == LimitKind.UTILITIES and got[
        "T3"
    ].feedback_deadline == received + timedelta(hours=24)
    assert got["T4"].feedback_deadline == received + timedelta(hours=2, minutes=30)  # the hotline's own time
    assert got["T5"].feedback_deadline > received + timedelta(days=13)  # 10 working days
    # The mapped class is the case's; an unmapped one leaves the class to registration.
    assert got["T1"].case.case_class == lamp and got["T3"].case.case_class.code == "G0402"


def test_unmapped_classes_get_keyword_suggestions_only(hotline):
    run([order("S1", hotline_class="其他", content="小区垃圾满溢没人清运")])
    case = HotlineOrder.objects.get().case
    assert case.case_class is None
    assert CaseEvent.objects.get(case=case, seq=1).data["suggested"]


def test_case_numbers_from_a_block_never_collide_with_single_intake(hotline):
    before = report("operator", channel="hotline")
    run([order(f"B{i}") for i in range(5)])
    after = report("operator", channel="hotline")
    numbers = sorted(Case.objects.values_list("number", flat=True))
    assert len(numbers) == len(set(numbers)) == 7
    assert numbers[0] == before.number and numbers[-1] == after.number
    assert [int(n[-6:]) for n in numbers] == list(range(int(numbers[0][-6:]), int(numbers[0][-6:]) + 7))


def test_a_failed_import_resumes_after_its_last_committed_chunk(hotline, monkeypatch):
    monkeypatch.setattr(pipeline, "CHUNK", 2)
    real = pipeline.write_chunk
    calls = []

    def failing(ctx, batch_id, prepared, seen, record):
        calls.append(prepared.last_row)
        if len(calls) == 2:
            raise RuntimeError("the database went away")
        return real(ctx, batch_id, prepared, seen, record)

    rows = [order(f"M{i}") for i in range(5)] + [order("M0")]
    monkeypatch.setattr(pipeline, "write_chunk", failing)
    received = services.batch_receive(
        user=User.objects.get(username="operator"), name="m.json", data=as_json(rows)
    )
    with pytest.raises(RuntimeError):
        services.batch_run(batch_id=received.pk)
    failed = HotlineBatch.objects.get(pk=received.pk)
    assert failed.status == BatchStatus.FAILED and failed.done == 2 and failed.created == 2
    assert HotlineOrder.objects.count() == 2
    resumed = services.batch_run(
        batch_id=services.batch_resume(user=failed.created_by, batch_id=failed.pk).pk
    )
    assert resumed.status == BatchStatus.DONE and resumed.done == 6
    assert resumed.counts() == {"created": 5, "updated": 0, "unchanged": 0, "triaged": 0, "rejected": 1}
    assert HotlineOrder.objects.count() == 5 and Case.objects.filter(channel=Channel.HOTLINE).count() == 5
    # Row 6 repeats row 1's number, committed before the failure: still caught after the resume.
    assert HotlineBatchLine.objects.get(batch=resumed, row=6).code == "duplicate_in_batch"
    assert HotlineBatchLine.objects.filter(batch=resumed).count() == 6


def test_a_finished_batch_is_not_run_twice(hotline):
    batch = run([order("W1")])
    assert services.batch_run(batch_id=batch.pk).counts() == batch.counts()
    with pytest.raises(DomainError) as refused:
        services.batch_resume(user=batch.created_by, batch_id=batch.pk)
    assert refused.value.code == "not_resumable"
    assert Case.objects.filter(channel=Channel.HOTLINE).count() == 1


def test_a_triaged_order_sent_again_with_a_place_is_placed(hotline):
    run([order("TR1", lon="", lat="", address="不详")])
    assert HotlineOrder.objects.get().state == OrderState.TRIAGED
    batch = run([order("TR1", lon="", lat="", address="兰园社区3栋")])
    assert lines(batch)["TR1"] == ("updated", "")
    placed = HotlineOrder.objects.get()
    assert placed.state == OrderState.PLACED and placed.case.community.name.startswith("兰园")
    assert placed.reason_code == "" and Case.objects.filter(channel=Channel.HOTLINE).count() == 1


def test_chinese_headers_are_read(hotline):
    zh = {"external_number": "工单编号", "received_at": "受理时间", "content": "诉求内容", "address": "诉求地址",
          "lon": "经度", "lat": "纬度", "urgency": "紧急程度", "hotline_class": "诉求分类",
          "caller_name": "来电人", "caller_phone": "联系电话"}  # fmt: skip
    row = {zh[k]: v for k, v in order("ZH1", urgency="特急").items()}
    batch = run(as_xlsx([row]), name="工单.xlsx")
    assert batch.created == 1 and HotlineOrder.objects.get().urgency == "emergency"

"""The triage queue (place → case, reject with a reason), the export back to the hotline (and its
round trip), the gazetteer's matching rules and the demo seed."""

from __future__ import annotations

import csv
import io
import json

import pytest
from openpyxl import load_workbook

from civicgrid.audit.models import AuditRecord
from civicgrid.cases.models import Case, CaseEvent, CaseState, Channel
from civicgrid.errors import DomainError
from civicgrid.hotline import demo, exports, selectors, services
from civicgrid.hotline.models import BatchStatus, HotlineBatch, HotlineOrder, Landmark, OrderState
from civicgrid.hotline.places import Gazetteer
from civicgrid.regions import locator
from tests.cases.conftest import actor, worker_for
from tests.cases.steps import do
from tests.hotline.conftest import LANDMARK, as_json, order, run

pytestmark = pytest.mark.django_db


def triaged(number: str = "Q1") -> HotlineOrder:
    run([order(number, lon="", lat="", address="老地方")])
    found = HotlineOrder.objects.get(external_number=number)
    assert found.state == OrderState.TRIAGED
    return found


def a_community() -> str:
    return locator.communities()[0]["communities"][0]["code"]


def test_placing_a_triaged_order_creates_its_case(hotline):
    waiting = triaged()
    code = a_community()
    placed = services.order_place(actor=actor("operator"), order_id=waiting.pk, place=f"community:{code}")
    assert placed.state == OrderState.PLACED and placed.placed_by == f"manual:community:{code}"
    case = placed.case
    assert case.community.code == code and case.channel == Channel.HOTLINE
    assert case.idempotency_key == "hotline:Q1" and case.reporter_name.reveal() == "张三"
    assert CaseEvent.objects.get(case=case, seq=1).data["hotline"]["placed_by"].startswith("manual:")
    assert AuditRecord.objects.filter(action="hotline.place", object_id=str(placed.pk)).exists()
    # A second try finds it placed already: refused, no second case.
    with pytest.raises(DomainError) as again:
        services.order_place(actor=actor("shiftlead"), order_id=waiting.pk, place=f"community:{code}")
    assert again.value.code == "not_in_triage" and again.value.status == 409
    assert Case.objects.filter(channel=Channel.HOTLINE).count() == 1


def test_placing_at_a_landmark_and_at_an_unknown_place(hotline):
    waiting = triaged()
    with pytest.raises(DomainError) as unknown:
        services.order_place(actor=actor("operator"), order_id=waiting.pk, place="community:999")
    assert unknown.value.code == "unknown_place"
    landmark = Landmark.objects.get(name=LANDMARK)
    placed = services.order_place(
        actor=actor("operator"), order_id=waiting.pk, place=f"landmark:{landmark.pk}"
    )
    assert placed.case is not None and placed.placed_by == f"manual:landmark:{landmark.pk}"


def test_rejecting_needs_a_reason_and_is_recorded(hotline):
    waiting = triaged()
    for reason, code in (("", "reason_required"), ("x" * 301, "text_too_long")):
        with pytest.raises(DomainError) as refused:
            services.order_reject(actor=actor("operator"), order_id=waiting.pk, reason=reason)
        assert refused.value.code == code
    rejected = services.order_reject(actor=actor("operator"), order_id=waiting.pk, reason="不属于本区")
    assert rejected.state == OrderState.REJECTED and rejected.reason == "不属于本区"
    assert AuditRecord.objects.filter(action="hotline.reject").count() == 1
    assert not selectors.triage_list(scope=actor("operator").scope).exists()


@pytest.mark.parametrize("username", ["street-320102002", "dept-d01", "resident1", "auditor", "secadmin"])
def test_other_roles_may_not_import_triage_or_read(hotline, username):
    from civicgrid.accounts.models import User

    waiting = triaged()
    who = actor(username)
    with pytest.raises(DomainError) as refused:
        services.batch_receive(
            user=User.objects.get(username=username), name="o.json", data=as_json([order("Z1")])
        )
    assert refused.value.code == "hotline_forbidden" and refused.value.status == 403
    for call in (
        lambda: services.order_place(actor=who, order_id=waiting.pk, place=f"community:{a_community()}"),
        lambda: services.order_reject(actor=who, order_id=waiting.pk, reason="no"),
        lambda: selectors.batch_list(scope=who.scope),
        lambda: selectors.triage_list(scope=who.scope),
    ):
        with pytest.raises(DomainError) as denied:
            call()
        assert denied.value.code == "hotline_forbidden"
    assert HotlineOrder.objects.get(pk=waiting.pk).state == OrderState.TRIAGED
    assert not HotlineOrder.objects.filter(external_number="Z1").exists()
    assert AuditRecord.objects.filter(action="hotline.batch_refused", result="denied").exists()


def test_a_grid_worker_may_not_import_either(hotline):
    run([order("GW1")])
    case = HotlineOrder.objects.get().case
    from civicgrid.accounts.models import User

    with pytest.raises(DomainError) as refused:
        services.batch_receive(
            user=User.objects.get(username=worker_for(case)), name="o.json", data=as_json([order("Z2")])
        )
    assert refused.value.code == "hotline_forbidden"


def _exported(batch, fmt: str) -> list[dict]:
    scope = actor("operator").scope
    content, count = exports.orders_export(selectors.export_query(scope=scope, batch=batch), fmt=fmt)
    if fmt == "json":
        rows = json.loads(content)["orders"]
    elif fmt == "csv":
        rows = list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"))))
    else:
        sheet = load_workbook(io.BytesIO(content)).worksheets[0]
        table = [["" if v is None else v for v in row] for row in sheet.iter_rows(values_only=True)]
        rows = [dict(zip(table[0], row, strict=True)) for row in table[1:]]
    assert len(rows) == count
    return rows


@pytest.mark.parametrize("fmt", ["json", "csv", "xlsx"])
def test_the_export_carries_status_and_result_and_reads_back_as_unchanged(hotline, fmt):
    batch = run([order("E1"), order("E2", lon="", lat="", address="不详"), order("", content="坏行")])
    case = HotlineOrder.objects.get(external_number="E1").case
    do(worker_for(case), case, "verify")
    do("shiftlead", case, "void")
    rows = {r["external_number"]: r for r in _exported(batch, fmt)}
    assert set(rows) == {"E1", "E2"}
    e1, e2 = rows["E1"], rows["E2"]
    assert e1["case_number"] == case.number and e1["case_state"] == str(CaseState.VOIDED.label)
    assert e1["order_state"] == "placed" and e2["order_state"] == "triaged" and e2["reason"]
    assert "caller_phone" not in e1 and "caller_name" not in e1  # personal data stays here
    assert AuditRecord.objects.filter(action="export.hotline").exists()
    # Read back in, the export changes nothing.
    content, _n = exports.orders_export(
        selectors.export_query(scope=actor("operator").scope, batch=batch), fmt=fmt
    )
    again = run(content, name=f"export.{fmt}", again=True)
    assert again.counts() == {"created": 0, "updated": 0, "unchanged": 2, "triaged": 0, "rejected": 0}


def test_the_export_by_date_range_and_its_refusals(hotline):
    run([order("R1"), order("R2", received_at="2026-11-20 10:00")])
    scope = actor("operator").scope
    from datetime import date

    query = selectors.export_query(
        scope=scope, received_from=date(2026, 11, 27), received_to=date(2026, 11, 27)
    )
    assert list(query.values_list("external_number", flat=True)) == ["R1"]
    with pytest.raises(DomainError) as refused:
        selectors.export_query(scope=scope)
    assert refused.value.code == "export_needs_filter"


def test_the_gazetteer_prefers_the_most_specific_and_longest_name(hotline):
    gazetteer = Gazetteer()
    assert gazetteer.match("红山街道某路").kind == "street"
    assert gazetteer.match("红山公园社区").name.startswith("红山公园")
    assert gazetteer.match(f"孝陵卫街道{LANDMARK}旁").kind == "landmark"
    assert gazetteer.match("锁金村街道锁一社区").name.startswith("锁一")
    assert gazetteer.match("") is None and gazetteer.match("北京市朝阳区") is None
    # A name two landmarks share is ambiguous and not used.
    twin = Gazetteer(
        landmarks=[Landmark(pk=1, name="双子楼", lon=1, lat=1), Landmark(pk=2, name="双子楼", lon=2, lat=2)]
    )
    assert twin.match("双子楼") is None


def test_the_demo_seed_is_idempotent(hotline):
    demo.seed(progress=lambda line: None)
    counts = (
        Landmark.objects.count(),
        HotlineOrder.objects.count(),
        Case.objects.count(),
        HotlineBatch.objects.count(),
    )
    batch = HotlineBatch.objects.get(file_name=demo.SAMPLE.name)
    assert batch.status == BatchStatus.DONE and batch.created > 10 and batch.triaged and batch.rejected == 2
    demo.seed(progress=lambda line: None)
    assert (
        Landmark.objects.count(),
        HotlineOrder.objects.count(),
        Case.objects.count(),
        HotlineBatch.objects.count(),
    ) == counts


def test_the_command_imports_with_progress_and_exports(hotline, tmp_path):
    from django.core.management import CommandError, call_command

    path = tmp_path / "orders.json"
    path.write_bytes(as_json([order("CMD1"), order("CMD2", lon="", lat="", address="兰园社区")]))
    out = io.StringIO()
    call_command("hotline", "import", str(path), stdout=out)
    text = out.getvalue()
    assert "orders 2 / 2 (100%)" in text and "created 2" in text and "done" in text
    with pytest.raises(CommandError, match="duplicate_batch"):
        call_command("hotline", "import", str(path), stdout=io.StringIO())
    with pytest.raises(CommandError, match="hotline_forbidden"):
        call_command("hotline", "import", str(path), "--user", "resident1", "--again", stdout=io.StringIO())
    target = tmp_path / "status.csv"
    call_command(
        "hotline",
        "export",
        "-o",
        str(target),
        "--from",
        "2026-11-27",
        "--to",
        "2026-11-27",
        stdout=io.StringIO(),
    )
    assert target.read_bytes().decode("utf-8-sig").count("CMD") == 2

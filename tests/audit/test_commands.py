"""`civicgrid audit verify | purge | export` as an operator uses them."""

from __future__ import annotations

import csv
import json
from datetime import datetime
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import override_settings
from django.utils import translation
from openpyxl import load_workbook

from civicgrid.audit.models import AuditAnchor, AuditRecord, record_hash
from civicgrid.audit.selectors import audit_chain_verify
from civicgrid.audit.services import audit_record

pytestmark = pytest.mark.django_db
TABLE = connection.ops.quote_name(AuditRecord._meta.db_table)


def _run(*args) -> str:
    out = StringIO()
    with translation.override("en"):  # the default language is zh-hans
        call_command("audit", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def _fails(*args) -> str:
    out = StringIO()
    with pytest.raises(CommandError), translation.override("en"):
        call_command("audit", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def _append(n: int, **detail) -> list[AuditRecord]:
    return [audit_record(action="case.register", object_id=f"C{i}", detail=detail) for i in range(n)]


def _sql(statement: str, params=()) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement.format(table=TABLE), params)


@pytest.fixture
def old_and_new(clock):
    """Ten records written 200 days ago and five written now."""
    old = _append(10)
    clock.advance(days=200)
    return old, _append(5)


def test_verify_passes_on_an_intact_chain():
    records = _append(3)
    assert f"#{records[-1].id} {records[-1].hash}" in _run("verify")


def test_verify_fails_and_says_where_a_record_was_edited_or_deleted():
    records = _append(6)
    _sql("UPDATE {table} SET object_id = %s WHERE id = %s", ["C99", records[1].id])
    _sql("DELETE FROM {table} WHERE id = %s", [records[4].id])
    out = _fails("verify", "--batch-size", "2")
    assert f"[edited] record #{records[1].id} " in out
    assert f"[gap] record #{records[5].id} " in out and f"#{records[3].id} " in out


def test_a_checkpoint_catches_a_chain_rewritten_with_fresh_hashes():
    records = _append(4)
    head = f"{records[-1].id}:{records[-1].hash}"
    # Someone with the database edits #2 and recomputes every hash after it: the chain holds…
    prev = records[0].hash
    for record in records[1:]:
        record.prev_hash = prev
        record.object_id = "forged" if record is records[1] else record.object_id
        record.hash = prev = record.compute_hash()
        _sql(
            "UPDATE {table} SET object_id = %s, prev_hash = %s, hash = %s WHERE id = %s",
            [record.object_id, record.prev_hash, record.hash, record.id],
        )
    assert audit_chain_verify().ok
    # …but not the head an operator noted elsewhere.
    assert f"[checkpoint] record #{records[-1].id} " in _fails("verify", "--checkpoint", head)


def test_purge_is_a_dry_run_until_commit(old_and_new):
    _run("purge")
    assert AuditRecord.objects.count() == 15 and not AuditAnchor.objects.exists()


def test_purge_removes_the_old_records_and_the_chain_still_verifies(old_and_new, clock):
    old, new = old_and_new
    _run("purge", "--commit")
    survivors = list(AuditRecord.objects.order_by("id"))
    assert [r.id for r in survivors[:5]] == [r.id for r in new]
    anchor = AuditAnchor.objects.get()
    assert (anchor.through_id, anchor.through_hash, anchor.purged_count) == (old[-1].id, old[-1].hash, 10)
    purge = survivors[-1]
    assert purge.action == "audit.purge" and purge.detail["through_id"] == old[-1].id
    assert purge.detail["via"] == "cli"
    assert audit_chain_verify().ok
    # The chain goes on, and a later purge anchors after the first.
    _append(2)
    clock.advance(days=200)
    _run("purge", "--commit")
    assert AuditAnchor.objects.count() == 2 and AuditRecord.objects.count() == 1
    assert "[" not in _run("verify")


def test_a_forged_anchor_over_deleted_records_is_caught(old_and_new):
    old, new = old_and_new
    # Delete the oldest records and write an anchor that makes the start look legitimate.
    _sql("DELETE FROM {table} WHERE id <= %s", [old[-1].id])
    AuditAnchor.objects.create(
        through_id=old[-1].id,
        through_hash=old[-1].hash,
        through_at=old[-1].at,
        purged_count=10,
        created_at=new[0].at,
    )
    found = audit_chain_verify().breaks
    assert [(b.kind, b.record_id) for b in found] == [("anchor", old[-1].id)]


def test_purge_keeps_at_least_180_days_unless_forced(old_and_new, clock):
    _fails("purge", "--commit", "--before", clock.now.date().isoformat())
    with override_settings(AUDIT_RETENTION_DAYS=30):
        _fails("purge", "--commit")
    assert AuditRecord.objects.count() == 15
    _run("purge", "--commit", "--force", "--before", clock.now.date().isoformat())
    assert AuditRecord.objects.count() == 6  # today's five and the purge record


def test_purge_refuses_to_destroy_the_evidence_of_a_broken_chain(old_and_new):
    old, _new = old_and_new
    _sql("UPDATE {table} SET actor_name = %s WHERE id = %s", ["mallory", old[3].id])
    _fails("purge", "--commit")
    assert AuditRecord.objects.filter(id=old[3].id).exists()


def test_export_csv_can_be_checked_away_from_the_system(tmp_path):
    _append(3, phone="138****5678", 名称="测试")
    path = tmp_path / "audit.csv"
    _run("export", "--format", "csv", "--output", str(path))
    with path.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 3 and rows[0]["prev_hash"] == "0" * 64
    for row in rows:
        fields = {
            **row,
            "at": datetime.fromisoformat(row["at"]),
            "ip": row["ip"] or None,
            "detail": json.loads(row["detail"]),
        }
        assert record_hash(fields) == row["hash"]
    export = AuditRecord.objects.get(action="export.audit_csv")
    assert export.detail["rows"] == 3 and export.detail["via"] == "cli"


def test_export_xlsx_keeps_formulas_as_text_and_filters_by_date(tmp_path, clock):
    audit_record(action="auth.login_failed", result="failure", object_type="user", object_id="=1+2")
    clock.advance(days=3)
    _append(2)
    path = tmp_path / "audit.xlsx"
    _run("export", "--format", "xlsx", "--until", "2025-01-01", "-o", str(path))
    sheet = load_workbook(path).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("id", "at", "actor_name") and len(rows) == 2
    cell = sheet.cell(row=2, column=7)
    assert (cell.value, cell.data_type) == ("=1+2", "s")
    _fails("export", "--format", "xlsx")

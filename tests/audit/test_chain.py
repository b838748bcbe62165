"""The chain: it verifies, it shows edits and deletions with where they are, and it stays
append-only for application code."""

from __future__ import annotations

import itertools
import os
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from django.db import connection, connections

from civicgrid.audit.models import GENESIS, AppendOnlyError, AuditAnchor, AuditRecord
from civicgrid.audit.selectors import audit_chain_verify
from civicgrid.audit.services import audit_record

pytestmark = pytest.mark.django_db
TABLE = AuditRecord._meta.db_table


def _append(n: int, **kwargs) -> list[AuditRecord]:
    return [
        audit_record(action="case.register", object_type="case", object_id=f"C{i}", **kwargs)
        for i in range(n)
    ]


def _sql(statement: str, params=()) -> None:
    # Straight to the database, as a DB superuser would: no model code in the way.
    with connection.cursor() as cursor:
        cursor.execute(statement.format(table=connection.ops.quote_name(TABLE)), params)


def test_it_chains_each_record_onto_the_one_before():
    records = _append(5)
    stored = list(AuditRecord.objects.order_by("id"))
    assert [r.id for r in stored] == [r.id for r in records]
    assert stored[0].prev_hash == GENESIS
    for before, after in itertools.pairwise(stored):
        assert after.prev_hash == before.hash and after.id > before.id
    assert all(len(r.hash) == 64 and r.hash == r.compute_hash() for r in stored)


def test_it_verifies_a_chain_of_many_records_in_small_batches():
    _append(57)
    report = audit_chain_verify(batch_size=10)
    assert report.ok and report.checked == 57
    assert report.head_id == AuditRecord.objects.order_by("-id").first().id


def test_it_verifies_details_that_come_back_changed_from_the_database(auditor):
    # jsonb returns 1e20 as an integer and reorders keys; the hash must not mind.
    audit_record(
        action="pii.reveal",
        actor=auditor,
        object_type="resident",
        object_id="R-1",
        detail={"字段": "身份证号", "z": [1.0, 1e20, 0.1, 1e-7, None, True], "a": {"b": "138****5678"}},
    )
    stored = AuditRecord.objects.get()
    assert stored.detail["字段"] == "身份证号" and stored.actor_name == "shenji"
    assert audit_chain_verify().ok


def test_it_finds_a_record_edited_with_raw_sql_and_names_it():
    records = _append(6)
    victim = records[3]
    _sql("UPDATE {table} SET actor_name = %s WHERE id = %s", ["mallory", victim.id])
    report = audit_chain_verify()
    assert not report.ok and report.break_count == 1
    found = report.breaks[0]
    assert (found.kind, found.record_id, found.at) == ("edited", victim.id, victim.at)


def test_it_finds_an_edit_whose_hash_was_recomputed_at_the_next_link():
    records = _append(4)
    victim = records[1]
    victim.detail = {"rewritten": True}
    _sql(
        "UPDATE {table} SET detail = %s, hash = %s WHERE id = %s",
        ['{"rewritten": true}', victim.compute_hash(), victim.id],
    )
    found = audit_chain_verify().breaks
    assert [(b.kind, b.record_id, b.previous_id) for b in found] == [("gap", records[2].id, victim.id)]


def test_it_finds_a_deleted_middle_record_and_says_between_which():
    records = _append(5)
    _sql("DELETE FROM {table} WHERE id = %s", [records[2].id])
    report = audit_chain_verify()
    assert report.break_count == 1
    found = report.breaks[0]
    assert (found.kind, found.record_id, found.previous_id) == ("gap", records[3].id, records[1].id)
    assert found.at == records[3].at and found.previous_at == records[1].at
    assert f"#{records[3].id}" in found.message and f"#{records[1].id}" in found.message


def test_it_finds_records_deleted_from_the_start():
    records = _append(3)
    _sql("DELETE FROM {table} WHERE id = %s", [records[0].id])
    assert [(b.kind, b.record_id) for b in audit_chain_verify().breaks] == [("start", records[1].id)]


def test_deleting_a_user_keeps_the_chain_and_the_name(staff):
    record = audit_record(action="case.register", actor=staff, object_type="case", object_id="C1")
    staff.delete()
    stored = AuditRecord.objects.get(pk=record.pk)
    assert stored.actor_id is None and stored.actor_name == "wangge"
    assert audit_chain_verify().ok


def test_saving_an_existing_record_is_refused():
    record = _append(1)[0]
    record.actor_name = "mallory"
    with pytest.raises(AppendOnlyError):
        record.save()
    assert AuditRecord.objects.get().actor_name == ""


def test_deleting_a_record_is_refused_one_by_one_and_in_bulk():
    record = _append(1)[0]
    with pytest.raises(AppendOnlyError):
        record.delete()
    with pytest.raises(AppendOnlyError):
        AuditRecord.objects.all().delete()
    with pytest.raises(AppendOnlyError):
        AuditRecord.objects.update(action="x.y")
    assert AuditRecord.objects.filter(pk=record.pk, action="case.register").exists()


def test_a_record_made_outside_the_service_is_refused():
    with pytest.raises(AppendOnlyError):
        AuditRecord.objects.create(action="case.register", result="success", at=None)
    with pytest.raises(AppendOnlyError):
        AuditAnchor.objects.all().delete()
    assert not AuditRecord.objects.exists()


def test_bad_codes_and_results_are_refused():
    with pytest.raises(ValueError):
        audit_record(action="Login")
    with pytest.raises(ValueError):
        audit_record(action="auth.login", result="maybe")
    assert not AuditRecord.objects.exists()


def test_nul_characters_from_strangers_do_not_break_the_write():
    audit_record(action="auth.login_failed", result="failure", detail={"username": "ad\x00min"})
    assert AuditRecord.objects.get().detail == {"username": "admin"}
    assert audit_chain_verify().ok


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_never_fork_the_chain():
    if connection.vendor == "sqlite":
        pytest.skip("SQLite: see test_concurrent_processes_never_fork_a_sqlite_chain")
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            for i in range(15):
                audit_record(action="case.register", object_type="case", object_id=f"{n}-{i}")
        except BaseException as exc:  # reported below; a thread's exception is otherwise lost
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert AuditRecord.objects.count() == 90
    prevs = list(AuditRecord.objects.values_list("prev_hash", flat=True))
    assert len(set(prevs)) == 90  # nobody chained onto a record someone else had chained onto
    assert audit_chain_verify().ok


WRITE_25 = """
from civicgrid.audit.services import audit_record
for i in range(25):
    audit_record(action="case.register", object_type="case", object_id=str(i))
"""


def test_concurrent_processes_never_fork_a_sqlite_chain(tmp_path):
    # The test database is an in-memory shared cache whose table locks are not the app's; this
    # runs real processes on a WAL file opened with the project's settings (BEGIN IMMEDIATE).
    env = {k: v for k, v in os.environ.items() if k != "CIVICGRID_DATABASE_URL"}
    env["CIVICGRID_VAR_DIR"] = str(tmp_path)
    cli = [str(Path(sys.executable).with_name("civicgrid"))]
    subprocess.run([*cli, "migrate", "-v0"], env=env, check=True, capture_output=True)
    writers = [
        subprocess.Popen(
            [*cli, "shell", "-c", WRITE_25], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        for _ in range(4)
    ]
    failures = [w.stderr.read() for w in writers if w.wait(timeout=120) != 0]
    assert failures == []
    check = subprocess.run([*cli, "audit", "verify"], env=env, capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    with sqlite3.connect(tmp_path / "civicgrid.sqlite3") as db:
        count, links = db.execute(f"SELECT COUNT(*), COUNT(DISTINCT prev_hash) FROM {TABLE}").fetchone()
    assert count == links == 100

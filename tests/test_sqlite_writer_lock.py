"""The SQLite writer lock (civicgrid/dbsqlite): transactions on a database file queue on an flock.

The suite's own database is in memory, so every test here runs a child process with the
project's settings on a SQLite file of its own (CIVICGRID_VAR_DIR=tmp_path) and reads back what
the child printed or wrote.
"""

from __future__ import annotations

import fcntl
import itertools
import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

# Prelude of every child: the project's settings on tmp_path's file, a table to write, and a probe
# that tries the writer lock from a descriptor of its own (an flock conflicts across descriptors).
_PRELUDE = """
import fcntl, json, os, sys, time
import django
django.setup()
from django.conf import settings
from django.db import IntegrityError, connection, transaction

LOCK = f"{settings.DATABASES['default']['NAME']}.writer-lock"

def lock_is_free():
    fd = os.open(LOCK, os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        os.close(fd)
    return True

def insert(sql, *params):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)

def count():
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM mark")
        return cursor.fetchone()[0]

insert("CREATE TABLE IF NOT EXISTS mark (pid integer, started integer, ended integer)")
"""

_WRITE = """
for _ in range(int(sys.argv[1])):
    with transaction.atomic():
        started = time.monotonic_ns()
        time.sleep(0.002)  # long enough that two unserialised writers would overlap
        insert("INSERT INTO mark VALUES (%s, %s, %s)", os.getpid(), started, time.monotonic_ns())
print(json.dumps({"engine": settings.DATABASES["default"]["ENGINE"]}))
"""

_RELEASES = """
seen = {"engine": settings.DATABASES["default"]["ENGINE"], "free_before": lock_is_free()}

with transaction.atomic():
    insert("INSERT INTO mark VALUES (1, 0, 0)")
    seen["held_in_atomic"] = not lock_is_free()
    with transaction.atomic():  # a savepoint: no second BEGIN, the lock stays with the outer block
        insert("INSERT INTO mark VALUES (2, 0, 0)")
    seen["held_after_savepoint"] = not lock_is_free()
seen["free_after_commit"] = lock_is_free()

with transaction.atomic():
    insert("INSERT INTO mark VALUES (3, 0, 0)")
    transaction.set_rollback(True)
seen["free_after_rollback"] = lock_is_free()

try:
    with transaction.atomic():
        insert("INSERT INTO mark VALUES (4, 0, 0)")
        raise ValueError("a failure inside the transaction")
except ValueError:
    pass
seen["free_after_exception"] = lock_is_free()

with transaction.atomic():
    insert("INSERT INTO mark VALUES (5, 0, 0)")
    connection.close()  # SQLite rolls the transaction back
    seen["free_after_close_in_atomic"] = lock_is_free()
seen["free_after_closed_block"] = lock_is_free()

# A COMMIT that fails leaves SQLite's transaction open (a deferred foreign key): the lock stays
# until the rollback that follows, as atomic() does it.
insert("CREATE TABLE parent (id integer PRIMARY KEY)")
insert("CREATE TABLE child (parent_id integer REFERENCES parent (id) DEFERRABLE INITIALLY DEFERRED)")
connection.set_autocommit(False, force_begin_transaction_with_broken_autocommit=True)
insert("INSERT INTO child VALUES (99)")
try:
    connection.commit()
    seen["commit_failed"] = False
except IntegrityError:
    seen["commit_failed"] = True
seen["held_after_failed_commit"] = not lock_is_free()
connection.rollback()
connection.set_autocommit(True)
seen["free_after_rollback_of_failed_commit"] = lock_is_free()

try:
    with transaction.atomic():
        insert("INSERT INTO child VALUES (98)")
except IntegrityError:
    seen["atomic_commit_failed"] = True
seen["free_after_failed_atomic_commit"] = lock_is_free()

with transaction.atomic():
    seen["rows"] = sorted(row[0] for row in connection.cursor().execute("SELECT pid FROM mark"))
print(json.dumps(seen))
"""


_THREADS = """
import threading

inside = threading.Event()

def holder():
    with transaction.atomic():
        insert("INSERT INTO mark VALUES (1, 0, 0)")
        inside.set()
        time.sleep(0.5)
    connection.close()

thread = threading.Thread(target=holder)
thread.start()
inside.wait()
insert("PRAGMA busy_timeout = 50")  # SQLite alone gives up long before the holder commits
try:
    with transaction.atomic():
        insert("INSERT INTO mark VALUES (2, 0, 0)")
    waited = "committed"
except Exception as error:
    waited = type(error).__name__
thread.join()
print(json.dumps({"waited": waited, "rows": count()}))
"""


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CIVICGRID_")}
    env.update(DJANGO_SETTINGS_MODULE="civicgrid.settings", CIVICGRID_VAR_DIR=str(tmp_path), **extra)
    return env


def _child(code: str, tmp_path: Path, *args: str, **extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", _PRELUDE + code, *args],
        env=_env(tmp_path, **extra),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _answer(proc: subprocess.Popen) -> dict:
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err[-2000:]
    return json.loads(out.strip().splitlines()[-1])


def _marks(tmp_path: Path) -> list[tuple[int, int, int]]:
    with sqlite3.connect(tmp_path / "civicgrid.sqlite3") as db:
        return db.execute("SELECT pid, started, ended FROM mark ORDER BY started").fetchall()


def test_it_serialises_the_write_transactions_of_two_processes(tmp_path):
    _answer(_child("print('{}')", tmp_path))  # creates the file and the table before the race
    writers = [_child(_WRITE, tmp_path, "40") for _ in range(2)]
    answers = [_answer(proc) for proc in writers]

    assert {a["engine"] for a in answers} == {"civicgrid.dbsqlite"}
    marks = _marks(tmp_path)
    assert len(marks) == 80 and len({pid for pid, _, _ in marks}) == 2
    for (_, _, ended), (_, started, _) in itertools.pairwise(marks):
        assert started >= ended  # no transaction began before the previous one had ended


def test_it_waits_for_the_lock_not_for_sqlite(tmp_path):
    _answer(_child("print('{}')", tmp_path))
    lock = os.open(tmp_path / "civicgrid.sqlite3.writer-lock", os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX)  # SQLite itself stays free: only the flock is held
        writer = _child(_WRITE, tmp_path, "1")
        time.sleep(2.0)
        assert writer.poll() is None and _marks(tmp_path) == []
    finally:
        os.close(lock)  # wakes the writer at once
    _answer(writer)
    assert len(_marks(tmp_path)) == 1


def test_two_threads_of_one_process_queue_on_the_lock_too(tmp_path):
    # Each connection has its own descriptor, so the second thread waits for the first's COMMIT
    # on the flock; without it, SQLite's 50 ms busy timeout would end in "database is locked".
    assert _answer(_child(_THREADS, tmp_path)) == {"waited": "committed", "rows": 2}
    off = _answer(_child(_THREADS, tmp_path / "off", CIVICGRID_SQLITE_WRITER_LOCK="false"))
    assert off == {"waited": "OperationalError", "rows": 1}


def test_it_releases_the_lock_on_every_end_of_a_transaction(tmp_path):
    seen = _answer(_child(_RELEASES, tmp_path))

    assert seen["engine"] == "civicgrid.dbsqlite"
    assert seen["free_before"] and seen["held_in_atomic"] and seen["held_after_savepoint"]
    assert seen["free_after_commit"]
    assert seen["free_after_rollback"] and seen["free_after_exception"]
    assert seen["free_after_close_in_atomic"] and seen["free_after_closed_block"]
    assert seen["commit_failed"] and seen["held_after_failed_commit"]
    assert seen["free_after_rollback_of_failed_commit"]
    assert seen["atomic_commit_failed"] and seen["free_after_failed_atomic_commit"]
    assert seen["rows"] == [1, 2]  # only the committed block's rows


def test_it_can_be_switched_off(tmp_path):
    writer = _child(_WRITE, tmp_path, "3", CIVICGRID_SQLITE_WRITER_LOCK="false")

    assert _answer(writer)["engine"] == "django.db.backends.sqlite3"
    assert len(_marks(tmp_path)) == 3
    assert not (tmp_path / "civicgrid.sqlite3.writer-lock").exists()


def test_the_in_memory_test_database_takes_no_lock(db):
    from django.db import connection, transaction

    if connection.vendor != "sqlite":
        pytest.skip("SQLite only")
    assert connection.is_in_memory_db()
    with transaction.atomic():
        assert not getattr(connection, "_lock_held", False)
        assert getattr(connection, "_lock_fd", None) is None

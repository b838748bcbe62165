"""Django's SQLite backend, with write transactions queued on an OS lock instead of SQLite's.

Why: with several gunicorn workers on one SQLite file (WAL, ``BEGIN IMMEDIATE``), a writer that
finds the write lock held waits in SQLite's busy handler, which sleeps in growing steps (up to
100 ms) instead of waking when the lock frees: the p99 of a busy write burst was ~300 ms against a
p50 of ~9 ms (bench/README.md, Open311). Here every transaction Django starts (the outermost
``atomic()``) first takes ``fcntl.flock`` on ``<database>.writer-lock`` beside the database file,
and gives it back once SQLite's transaction has ended. The kernel wakes a waiter as soon as the
holder unlocks, so SQLite's busy handler is left only for writers outside Django's transactions.

Each connection opens its own descriptor of the lock file: an flock belongs to the open file
description, so two threads of one process (runserver, a threaded Huey worker) exclude each
other as two processes do. A process that dies loses its descriptors and so its lock.

No deadlock: a connection takes the flock only when it is in autocommit, before ``BEGIN``, so it
holds no SQLite write lock while it waits; the holder of the flock can wait on SQLite only for a
writer that never takes the flock (a single autocommit statement, another program), and such a
writer waits on nobody. A reader's open statement does not block a WAL commit. This holds in WAL
mode only, which is why settings.py selects this backend only with WAL (docs/decisions/0008).

Nested ``atomic()`` blocks are savepoints inside the transaction: they never reach the lock.
"""

from __future__ import annotations

import fcntl
import os

from django.db.backends.sqlite3 import base as sqlite3_base


class DatabaseWrapper(sqlite3_base.DatabaseWrapper):
    """The stock SQLite wrapper plus the writer lock around each transaction."""

    _lock_fd: int | None = None
    _lock_pid: int | None = None  # the process that opened _lock_fd (a forked child reopens)
    _lock_held = False

    def _uses_writer_lock(self) -> bool:
        # In-memory databases (the test suite) belong to one process: nothing to queue behind.
        return not self.is_in_memory_db()

    def _lock_path(self) -> str:
        return f"{self.settings_dict['NAME']}.writer-lock"

    def _acquire_writer_lock(self) -> None:
        if self._lock_held or not self._uses_writer_lock():
            return
        if self._lock_fd is None or self._lock_pid != os.getpid():
            # A descriptor inherited through fork() shares its lock with the parent: open our own.
            self._lock_fd = os.open(self._lock_path(), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o666)
            self._lock_pid = os.getpid()
        fcntl.flock(self._lock_fd, fcntl.LOCK_EX)  # blocks; the GIL is released while waiting
        self._lock_held = True

    def _release_writer_lock(self) -> None:
        if self._lock_held:
            self._lock_held = False
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)

    def _release_writer_lock_unless_in_transaction(self) -> None:
        # A failed COMMIT may leave SQLite's transaction open (Django then rolls back); the lock
        # stays held until the transaction has really ended.
        if self.connection is None or not self.connection.in_transaction:
            self._release_writer_lock()

    def _start_transaction_under_autocommit(self):
        self._acquire_writer_lock()
        try:
            super()._start_transaction_under_autocommit()
        except BaseException:
            self._release_writer_lock_unless_in_transaction()
            raise

    def _commit(self):
        try:
            return super()._commit()
        finally:
            self._release_writer_lock_unless_in_transaction()

    def _rollback(self):
        try:
            return super()._rollback()
        finally:
            self._release_writer_lock_unless_in_transaction()

    def _close(self):
        # Closing ends any open transaction (SQLite rolls it back), so the lock goes with it.
        try:
            return super()._close()
        finally:
            self._release_writer_lock()
            if self._lock_fd is not None and self._lock_pid == os.getpid():
                os.close(self._lock_fd)
            self._lock_fd = self._lock_pid = None

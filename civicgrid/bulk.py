"""Writing many rows fast: a lean ``bulk_create`` and secondary indexes built after the load.

Used by the demo year (``demo.cases_year``), whose million-case load must stay within minutes,
and by the 12345 hotline import (``hotline.importer``), whose 100,000 orders must take under three.
"""

from __future__ import annotations

import functools
import json
import logging
import operator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connection, connections, models
from django.utils.functional import cached_property

log = logging.getLogger(__name__)


# Fields whose Python value is already what the driver takes (Django's get_prep_value would only
# call int(), float(), bool() or str() on it again).
_AS_IS = (
    models.AutoField,
    models.BigAutoField,
    models.BooleanField,
    models.CharField,
    models.FloatField,
    models.ForeignKey,
    models.IntegerField,
    models.PositiveIntegerField,
    models.PositiveSmallIntegerField,
    models.TextField,
)


class Table:
    """A lean ``bulk_create``: each value is converted as Django's insert compiler converts it
    (``pre_save`` then ``get_db_prep_save``; for plain and date fields, what those come down to),
    and the rows go to the driver in one go — ``executemany``, or ``COPY`` on PostgreSQL. Django's
    per-value SQL assembly took half the load's time, and row-by-row inserts most of the rest."""

    def __init__(self, model, *, with_pk: bool):
        self.model, self.with_pk = model, with_pk

    @cached_property
    def columns(self) -> list[tuple]:
        db = connections[DEFAULT_DB_ALIAS]
        return [(f, f.attname, self._adapter(f, db)) for f in self._fields]

    @property
    def _fields(self):
        return [f for f in self.model._meta.concrete_fields if self.with_pk or not f.primary_key]

    @cached_property
    def _target(self) -> str:
        """``table (column, …)``"""
        quote = connections[DEFAULT_DB_ALIAS].ops.quote_name
        return f"{quote(self.model._meta.db_table)} ({', '.join(quote(f.column) for f in self._fields)})"

    @staticmethod
    def _adapter(field, db):
        """None: the value as it is; a function of the value; or "field": the field's own methods."""
        kind = type(field)
        if kind in _AS_IS:
            return None
        if kind is models.JSONField:  # as Django saves it (None: SQL NULL), serialised here
            return lambda value: None if value is None else json.dumps(value, cls=field.encoder)
        auto = getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False)
        if kind is models.DateTimeField and db.vendor == "postgresql" and not auto:
            # ISO text with its offset, which timestamptz reads: made in the building process,
            # so that the writing one (the load's bottleneck) only copies text.
            return lambda value: None if value is None else _aware(value).isoformat()
        if kind in (models.DateTimeField, models.DateField) and not auto:
            return (
                db.ops.adapt_datetimefield_value
                if kind is models.DateTimeField
                else db.ops.adapt_datefield_value
            )
        return "field"

    @cached_property
    def _reader(self):
        """Every column's value in one call, and the columns that need converting."""
        names = [name for _field, name, _adapt in self.columns]
        get = operator.attrgetter(*names) if len(names) > 1 else (lambda obj: (getattr(obj, names[0]),))
        converting = [
            (i, field, adapt) for i, (field, _n, adapt) in enumerate(self.columns) if adapt is not None
        ]
        return get, converting

    def rows(self, objs) -> list[tuple]:
        db = connections[DEFAULT_DB_ALIAS]
        get, converting = self._reader
        out = []
        for obj in objs:
            row = list(get(obj))
            for i, field, adapt in converting:
                row[i] = (
                    field.get_db_prep_save(field.pre_save(obj, True), db)
                    if adapt == "field"
                    else adapt(row[i])
                )
            out.append(tuple(row))
        return out

    def insert(self, rows: list[tuple]) -> None:
        if not rows:
            return
        db = connections[DEFAULT_DB_ALIAS]
        with db.cursor() as cursor:
            if db.vendor == "postgresql":  # COPY takes the same values, several times faster
                with cursor.cursor.copy(f"COPY {self._target} FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
            else:
                marks = ", ".join(["%s"] * len(self.columns))
                cursor.executemany(f"INSERT INTO {self._target} VALUES ({marks})", rows)


def skip_reference_checks() -> None:
    """In this transaction, let PostgreSQL skip its per-row foreign-key triggers, as pg_restore
    --disable-triggers does: a million cases carry ~20 million references, and checking them one
    by one was the server's main work during the load. Only for rows whose references were read
    from the database in the same run (the demo year's are: places, classes, users, departments,
    and the case ids of each chunk's own cases). Needs a superuser; otherwise the checks stay."""
    if connection.vendor != "postgresql" or not _superuser():
        return
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")


@functools.lru_cache(maxsize=4)
def _superuser_of(alias_settings: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        row = cursor.fetchone()
    return bool(row and row[0])


def _superuser() -> bool:
    return _superuser_of(f"{connection.settings_dict.get('HOST')}:{connection.settings_dict.get('USER')}")


def _aware(value):
    if value.utcoffset() is None:
        raise ValueError(f"naive datetime in a bulk row: {value!r}")
    return value


def _pending_file() -> Path:
    return Path(settings.VAR_DIR) / f"pending-indexes-{connection.settings_dict['NAME']!s}.json".replace(
        "/", "_"
    )


def secondary_indexes(tables: list[str]) -> list[tuple[str, str, str]]:
    """(table, name, CREATE INDEX statement) of the tables' indexes that enforce nothing."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() "
                "AND tablename = ANY(%s) AND indexdef NOT LIKE 'CREATE UNIQUE %%' ORDER BY indexname",
                [tables],
            )
        else:
            marks = ", ".join(["%s"] * len(tables))
            cursor.execute(
                "SELECT tbl_name, name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
                f"AND sql NOT LIKE 'CREATE UNIQUE %%' AND tbl_name IN ({marks}) ORDER BY name",
                tables,
            )
        return [tuple(row) for row in cursor.fetchall()]


def make_pending_indexes() -> None:
    """Build the indexes an interrupted load left dropped (their statements wait in a file).
    On PostgreSQL the largest table's indexes are built on a second connection meanwhile (a
    server process per connection: both cores work)."""
    path = _pending_file()
    if not path.exists():
        return
    statements = json.loads(path.read_text(encoding="utf-8"))
    existing = {name for _t, name, _s in secondary_indexes(sorted({t for t, _n, _s in statements}))}
    todo = [(table, sql) for table, name, sql in statements if name not in existing]
    if connection.vendor == "postgresql" and len(todo) > 1:
        here, aside = _two_shares(todo)
        with ThreadPoolExecutor(1) as pool:
            other = pool.submit(_build_on_own_connection, aside)
            _build(here)
            other.result()
    else:
        _build([sql for _t, sql in todo])
    path.unlink()


def _two_shares(todo: list[tuple[str, str]]) -> tuple[list[str], list[str]]:
    """Split the builds into two of about equal cost: a table's size, eight times for GIN (whose
    keys come from a function of every row)."""
    sizes = {table: _table_size(table) for table in {t for t, _s in todo}}
    cost = {sql: sizes[t] * (8 if " USING gin " in sql else 1) for t, sql in todo}
    shares: tuple[list[str], list[str]] = ([], [])
    loads = [0, 0]
    for sql in sorted(cost, key=cost.get, reverse=True):
        i = loads.index(min(loads))
        shares[i].append(sql)
        loads[i] += cost[sql]
    return shares


def _build(statements: list[str]) -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET maintenance_work_mem = '512MB'")
        for sql in statements:
            log.debug("building: %s", sql)
            cursor.execute(sql)


def _build_on_own_connection(statements: list[str]) -> None:
    try:
        _build(statements)  # this thread's own connection
    finally:
        connection.close()


def _table_size(table: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_relation_size(%s::regclass)", [table])
        return cursor.fetchone()[0]


@contextmanager
def indexes_deferred(models_: list[type[models.Model]]):
    """Drop the models' non-unique indexes for the block and build them again after it: one
    sorted build costs far less than keeping ~15 indexes up to date row by row. Unique indexes
    stay (they guard the data). The statements are written to a file first, so that a load that
    is killed half-way gets its indexes back on the next run (``make_pending_indexes``)."""
    if connection.in_atomic_block:  # inside a transaction (tests): nothing to gain, keep them
        yield
        return
    make_pending_indexes()
    statements = secondary_indexes([m._meta.db_table for m in models_])
    path = _pending_file()
    path.write_text(json.dumps(statements, ensure_ascii=False), encoding="utf-8")
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        for _table, name, _sql in statements:
            cursor.execute(f"DROP INDEX {quote(name)}")
    try:
        yield
    finally:
        make_pending_indexes()


def analyze(models_: list[type[models.Model]]) -> None:
    """Fresh planner statistics after a bulk load. PostgreSQL: the first model's table is also
    vacuumed, which sets its visibility map so that counts can use index-only scans (the case
    list counts cases, never events)."""
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            for i, model in enumerate(models_):
                cursor.execute(f"{'VACUUM ANALYZE' if i == 0 else 'ANALYZE'} {quote(model._meta.db_table)}")
        elif connection.vendor == "sqlite":
            cursor.execute("PRAGMA analysis_limit = 1000")
            for model in models_:
                cursor.execute(f"ANALYZE {quote(model._meta.db_table)}")

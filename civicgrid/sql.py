"""Names for the few hand-written SQL statements on hot paths, quoted for the database in use.

Used where building the same small ORM query on every request cost more than running it
(``accounts.scopes.scope_for``, ``cases.selectors.stage_owner_ids``)."""

from __future__ import annotations

from django.db import connection


def table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def column(model, field: str) -> str:
    return connection.ops.quote_name(model._meta.get_field(field).column)

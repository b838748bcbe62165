"""Helpers shared by the personal-data tests."""

from django.db import connection


def raw_column(model, column: str) -> list:
    """Values of one column exactly as stored, read with SQL (no field conversion)."""
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {connection.ops.quote_name(column)} FROM {table} ORDER BY id")
        return [row[0] for row in cursor.fetchall()]

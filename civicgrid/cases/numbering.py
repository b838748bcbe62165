"""Case numbers (``320102-20261128-000123``) and the secret tracking codes of follow links."""

from __future__ import annotations

import secrets
from datetime import date

from django.db import IntegrityError, connection, transaction

from civicgrid.cases.models import CaseCounter

CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L: read out over the phone


def next_number(district_code: str, day: date) -> str:
    """``320102-20261128-000123``: district, day, and that day's running number."""
    return next_numbers(district_code, day, 1)[0]


def next_numbers(district_code: str, day: date, n: int) -> list[str]:
    """``n`` consecutive numbers of the day (a bulk import reserves a block at once).

    The counter row stays locked until the caller's transaction commits (that keeps the numbers
    gap-free), so every concurrent intake waits on it: one statement bumps and reads it
    (UPDATE … RETURNING; PostgreSQL, and SQLite from 3.35)."""
    quote = connection.ops.quote_name
    bump = "UPDATE {} SET {} = {} + %s WHERE {} = %s AND {} = %s RETURNING {}".format(
        quote(CaseCounter._meta.db_table), *map(quote, ("last", "last", "district_code", "day", "last"))
    )
    for _attempt in range(3):
        with connection.cursor() as cursor:
            cursor.execute(bump, [n, district_code, connection.ops.adapt_datefield_value(day)])
            row = cursor.fetchone()
        if row is not None:
            return [number_text(district_code, day, i) for i in range(row[0] - n + 1, row[0] + 1)]
        try:
            with transaction.atomic():
                CaseCounter.objects.create(district_code=district_code, day=day, last=n)
            return [number_text(district_code, day, i) for i in range(1, n + 1)]
        except IntegrityError:  # another writer created today's counter first
            continue
    raise RuntimeError(f"no case counter for {district_code} {day} after three attempts")


def number_text(district_code: str, day: date, last: int) -> str:
    return f"{district_code}-{day:%Y%m%d}-{last:06d}"


def tracking_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(10))

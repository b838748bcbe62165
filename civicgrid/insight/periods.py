"""Days, months and quarters in the district's time: what the rollups, warnings, opinion weeks,
indicators and reviews all count by."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.utils import timezone


def day_start(day: date) -> datetime:
    """Local midnight at the start of ``day`` (aware)."""
    return datetime.combine(day, time.min, tzinfo=timezone.get_current_timezone())


def day_span(day: date) -> tuple[datetime, datetime]:
    """[start, end) of ``day`` in local time."""
    return day_start(day), day_start(day + timedelta(days=1))


def month_span(day: date) -> tuple[date, date]:
    """The first and last day of ``day``'s month."""
    start = day.replace(day=1)
    return start, (start + timedelta(days=32)).replace(day=1) - timedelta(days=1)


def quarter_span(day: date) -> tuple[date, date]:
    """The first and last day of ``day``'s quarter."""
    start = date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    return start, month_span(date(start.year, start.month + 2, 1))[1]

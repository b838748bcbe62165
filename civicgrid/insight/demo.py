"""The command centre's part of the demo: rollups built from the demo year, then (each topic
adding its line) the year's warnings, opinion weeks and the archived reviews. Idempotent."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta

from django.utils import timezone

from civicgrid.insight import hotspots, opinion, reviews, rollups, warnings
from civicgrid.insight.models import WatchTerm


def seed(*, progress: Callable[[str], None]) -> None:
    progress("command centre: building the rollups from the event log …")
    result = rollups.rebuild()
    progress(
        f"command centre: {result.cases:,} case facts, {result.days} days of moves ({result.seconds:.1f} s)"
    )
    _warnings(progress)
    _opinion(progress)
    # Warnings of days before the last three are closed, as if handled at the time.
    closed = warnings.alerts_close_before(timezone.localdate() - timedelta(days=3))
    progress(f"command centre: {closed} warnings of past days closed")
    _reviews(progress)


def _warnings(progress: Callable[[str], None]) -> None:
    """The year's spike warnings (the planted bursts among them), today's hotspots and repeat
    places."""
    today = timezone.localdate()
    spikes = warnings.spikes_run(day=today, first=today - timedelta(days=364))
    hot = hotspots.hotspots_raise(last=today)
    repeat = hotspots.repeats_raise(last=today)
    progress(
        f"command centre: {spikes.raised + spikes.updated} spike, {hot.raised + hot.updated} hotspot and "
        f"{repeat.raised + repeat.updated} repeat-place warnings"
    )


# Watched in the demo: emergencies, a crowding sign and the residents' commonest grievance.
DEMO_WATCH_TERMS = (("燃气泄漏", 3), ("火灾", 3), ("高空坠物", 2), ("群租房", 1), ("等了太久", 1))


def _opinion(progress: Callable[[str], None]) -> None:
    """The demo year's opinion weeks, a small watch-list and its alerts over the last two weeks
    (the whole year would bury the warnings page in keyword alerts of days long past)."""
    started = time.perf_counter()
    today = timezone.localdate()
    for term, severity in DEMO_WATCH_TERMS:
        WatchTerm.objects.get_or_create(term=term, defaults={"severity": severity})
    weeks = opinion.opinion_weeks_compute(start=today - timedelta(days=364), end=today)
    scan = opinion.watch_scan(start=today - timedelta(days=13), end=today)
    progress(
        f"command centre: {weeks.weeks} opinion weeks from {weeks.texts:,} residents' texts, "
        f"{scan.alerts} watch-list alerts ({time.perf_counter() - started:.1f} s)"
    )


def _reviews(progress: Callable[[str], None]) -> None:
    """The archive: a monthly review for every month of the demo year that is over and a
    quarterly pack for every quarter that is, as the periodic task would have made them."""
    started, today = time.perf_counter(), timezone.localdate()
    first = today - timedelta(days=364)
    made = 0
    for make in (reviews.month_period, reviews.quarter_period):
        period = make(first)
        if period.start < first:  # the year's first period began before the demo's cases
            period = make(period.end + timedelta(days=1))
        while period.end < today:
            made += reviews.review_generate(period=period)[1]
            period = make(period.end + timedelta(days=1))
    progress(
        f"command centre: {made} monthly reviews and quarterly packs archived ({time.perf_counter() - started:.1f} s)"
    )

"""``civicgrid opinion …`` — opinion monitoring on demand (the worker runs ``refresh`` hourly).

``compute`` recomputes the weeks' figures (after the word lists changed, say); ``scan`` looks for
the watch-list in the days' texts and raises or updates their alerts; ``refresh`` does what the
hourly task does. All are idempotent.
"""

from __future__ import annotations

import time
from datetime import date

from django.core.management.base import BaseCommand
from django.utils import timezone

from civicgrid.insight import opinion


class Command(BaseCommand):
    help = "Opinion monitoring: compute | scan | refresh."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        for name, text in (
            ("compute", "Recompute the ISO weeks from --start to --end."),
            ("scan", "Raise or update the watch-list alerts of the days --start to --end."),
        ):
            p = sub.add_parser(name, help=text)
            p.add_argument("--start", type=date.fromisoformat, help="YYYY-MM-DD (default: today)")
            p.add_argument("--end", type=date.fromisoformat, help="YYYY-MM-DD (default: --start)")
        sub.add_parser("refresh", help="This week's figures and the watch-list over yesterday and today.")

    def handle(self, *args, action, **options):
        started = time.perf_counter()
        if action == "refresh":
            self.stdout.write(f"refresh: {opinion.opinion_refresh()}")
            return
        start = options["start"] or timezone.localdate()
        end = options["end"] or start
        if action == "compute":
            result = opinion.opinion_weeks_compute(start=start, end=end)
            line = f"{result.weeks} weeks, {result.rows} rows from {result.texts:,} texts"
        else:
            scan = opinion.watch_scan(start=start, end=end)
            line = f"{scan.days} days: {scan.alerts} alerts ({scan.created} new)"
        self.stdout.write(f"{action}: {line} in {time.perf_counter() - started:.1f} s")

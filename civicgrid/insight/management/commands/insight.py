"""``civicgrid insight …`` — the command centre's periodic work, on demand.

``rebuild`` makes the rollups again from the event log; ``refresh`` folds in what changed since
the last run (the background worker does this every minute); ``status`` says where they stand.
"""

from __future__ import annotations

from datetime import date, timedelta

from django.core.management.base import BaseCommand
from django.utils import timezone

from civicgrid.insight import rollups


class Command(BaseCommand):
    help = "The command centre's rollups: rebuild | refresh | status."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("rebuild", help="Make the rollups again from the cases and their event log.")
        sub.add_parser("refresh", help="Fold in the moves since the last run (as the worker does).")
        sub.add_parser("status", help="When the rollups were last built and refreshed.")
        warn = sub.add_parser("warnings", help="Raise or update the early warnings (docs/warnings.md).")
        warn.add_argument("--day", type=date.fromisoformat, help="YYYY-MM-DD (default: today)")
        warn.add_argument("--year", action="store_true", help="spikes of every day of the year to --day")

    def handle(self, *args, action, **options):
        if action == "warnings":
            self._warnings(options["day"] or timezone.localdate(), options["year"])
            return
        if action == "status":
            state = rollups.status()
            if state is None:
                self.stdout.write("never built: run `civicgrid insight rebuild`")
                return
            local = timezone.localtime
            self.stdout.write(
                f"events folded in up to id {state.event_id}; {state.facts:,} case facts at the last "
                f"rebuild ({local(state.rebuilt_at):%Y-%m-%d %H:%M}); last refresh "
                f"{local(state.refreshed_at):%Y-%m-%d %H:%M:%S}"
            )
            return
        if action == "rebuild":
            result = rollups.rebuild(progress=lambda line: self.stdout.write(f"  {line}"))
        else:
            result = rollups.refresh()
        self.stdout.write(
            f"{action}: {result.cases:,} case facts, {result.buckets:,} daily rows, "
            f"{result.days:,} days of moves in {result.seconds:.1f} s"
        )

    def _warnings(self, day, year: bool) -> None:
        from civicgrid.insight import hotspots, warnings

        first = day - timedelta(days=364) if year else day
        for name, result in (
            ("spikes", warnings.spikes_run(day=day, first=first)),
            ("hotspots", hotspots.hotspots_raise(last=day)),
            ("repeat places", hotspots.repeats_raise(last=day)),
        ):
            self.stdout.write(f"{name}: {result.raised} raised, {result.updated} updated")

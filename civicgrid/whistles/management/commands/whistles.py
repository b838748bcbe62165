"""``civicgrid whistles sweep`` — flag late report-ins and close whistles whose case is closed,
as the Huey task does every minute (for a machine that runs no consumer, or to catch up now)."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from civicgrid.whistles import sweep


class Command(BaseCommand):
    help = "Whistles: sweep (late report-ins, whistles closed with their case)."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("sweep", help="Flag late report-ins (notifying once) and close finished whistles.")

    def handle(self, *args, action, **options):
        done = sweep.whistle_sweep()
        self.stdout.write(f"late report-ins flagged: {done['late']}, whistles closed: {done['closed']}")

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import translation

from civicgrid.demo.cases_year import DEFAULT_CASES
from civicgrid.demo.loader import DEMO_PASSWORD, demo_load
from civicgrid.demo.xuanwu import DEFAULT_SEED


class Command(BaseCommand):
    help = (
        "Load the Xuanwu demo district (real outline and codes, 615 synthetic grids), demo logins and "
        "a year of simulated cases."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--seed", type=int, default=DEFAULT_SEED, help="Seed for the synthetic boundaries and cases."
        )
        parser.add_argument(
            "--cases",
            type=int,
            default=DEFAULT_CASES,
            help=f"Simulated cases over the past year (default {DEFAULT_CASES:,}; 0: none). "
            "Skipped when demo cases exist.",
        )

    def handle(self, *args, seed, cases, **options):
        translation.activate(settings.LANGUAGE_CODE)  # role names as the district reads them
        result = demo_load(seed=seed, cases=cases, progress=lambda line: self.stdout.write(f"  {line}"))
        verb = "loaded" if result.created else "already loaded"
        self.stdout.write(
            self.style.SUCCESS(
                f"Xuanwu demo {verb}: generation {result.generation.name}, {result.grids} grids"
            )
        )
        year = result.cases
        if year is not None and year.already_loaded:
            self.stdout.write("Demo cases already loaded; none added")
        elif year is not None:
            self.stdout.write(self.style.SUCCESS(f"{year.added:,} demo cases added in {year.seconds:.1f} s"))
        self.stdout.write(f"Demo logins — every demo user's password is {DEMO_PASSWORD}")
        for login in result.logins:
            self.stdout.write(f"  {login.username:<26} {login.role:<30} {login.scope}")

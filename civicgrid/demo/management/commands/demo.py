from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import translation

from civicgrid.demo.loader import DEMO_PASSWORD, demo_load
from civicgrid.demo.xuanwu import DEFAULT_SEED


class Command(BaseCommand):
    help = "Load the Xuanwu demo district (real outline and codes, 615 synthetic grids) and demo logins."

    def add_arguments(self, parser):
        parser.add_argument(
            "--seed", type=int, default=DEFAULT_SEED, help="Seed for the synthetic boundaries."
        )

    def handle(self, *args, seed, **options):
        translation.activate(settings.LANGUAGE_CODE)  # role names as the district reads them
        result = demo_load(seed=seed, progress=lambda line: self.stdout.write(f"  {line}"))
        verb = "loaded" if result.created else "already loaded"
        self.stdout.write(
            self.style.SUCCESS(
                f"Xuanwu demo {verb}: generation {result.generation.name}, {result.grids} grids"
            )
        )
        self.stdout.write(f"Demo logins — every demo user's password is {DEMO_PASSWORD}")
        for login in result.logins:
            self.stdout.write(f"  {login.username:<26} {login.role:<30} {login.scope}")

"""``civicgrid hotline …`` — import a batch of 12345 orders (with progress), resume one, export.

The import writes (it is the point of the command); a file already imported is refused unless
``--again`` is given, and then every unchanged order counts as unchanged.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from civicgrid.accounts.models import User
from civicgrid.errors import DomainError
from civicgrid.hotline import exports, selectors, services
from civicgrid.hotline.formats import format_of


class Command(BaseCommand):
    help = "12345 hotline orders: import FILE, resume BATCH, export."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        imp = sub.add_parser("import", help="Import a .json, .csv or .xlsx file of orders.")
        imp.add_argument("file")
        imp.add_argument("--user", default="operator", help="who imports (an operator or shift lead)")
        imp.add_argument("--again", action="store_true", help="import a file that was imported before")
        res = sub.add_parser("resume", help="Continue a failed batch after its last committed row.")
        res.add_argument("batch", type=int)
        res.add_argument("--user", default="operator")
        exp = sub.add_parser("export", help="Orders with their handling status, as the hotline reads them.")
        exp.add_argument("-o", "--output", required=True, help="file name; .json, .csv or .xlsx")
        exp.add_argument("--batch", type=int)
        exp.add_argument("--from", dest="date_from", type=date.fromisoformat)
        exp.add_argument("--to", dest="date_to", type=date.fromisoformat)
        exp.add_argument("--user", default="operator")
        exp.add_argument("--chinese", action="store_true", help="Chinese column headers")

    def handle(self, *args, action, **options):
        user = User.objects.filter(username=options["user"]).first()
        if user is None:
            raise CommandError(f"no user {options['user']!r}")
        try:
            if action == "import":
                path = Path(options["file"])
                if not path.is_file():
                    raise CommandError(f"no file {path}")
                batch = services.batch_receive(
                    user=user, name=path.name, data=path.read_bytes(), again=options["again"]
                )
                self.stdout.write(f"batch #{batch.pk}: {path.name}")
                return self._run(batch.pk)
            if action == "resume":
                return self._run(services.batch_resume(user=user, batch_id=options["batch"]).pk)
            return self._export(user, options)
        except DomainError as exc:
            raise CommandError(f"{exc.code}: {exc.message}") from None

    def _run(self, batch_id: int):
        batch = services.batch_run(batch_id=batch_id, progress=lambda line: self.stdout.write(line))
        self.stdout.write(f"batch #{batch.pk} {batch.status}")

    def _export(self, user, options):
        scope = services.actor_of(user).scope
        batch = selectors.batch_get(scope=scope, batch_id=options["batch"]) if options["batch"] else None
        query = selectors.export_query(
            scope=scope, batch=batch, received_from=options["date_from"], received_to=options["date_to"]
        )
        output = Path(options["output"])
        content, count = exports.orders_export(query, fmt=format_of(output.name), chinese=options["chinese"])
        output.write_bytes(content)
        self.stdout.write(f"wrote {count:,} orders to {output}")

"""``civicgrid enforcement …`` — the enforcement item list (执法事项清单) in and out of Excel.

The import is a dry run unless given ``--commit`` (like every data-changing command here).
"""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from civicgrid.enforcement.items import items_export, items_import


class Command(BaseCommand):
    help = "The enforcement item list: import FILE (dry run unless --commit), export -o FILE."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        imp = sub.add_parser("import", help="Read the list from .xlsx or .csv (dry run unless --commit).")
        imp.add_argument("file")
        imp.add_argument("--commit", action="store_true", help="write it (default: only check)")
        exp = sub.add_parser("export", help="Write the active list to an Excel file (re-importable).")
        exp.add_argument("-o", "--output", required=True)

    def handle(self, *args, action, **options):
        if action == "export":
            Path(options["output"]).write_bytes(items_export())
            self.stdout.write(f"wrote {options['output']}")
            return
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"{path} is not a file")
        report = items_import(name=path.name, data=path.read_bytes(), commit=options["commit"])
        for error in report.errors:
            where = f"row {error['row']}" + (f", {error['column']}" if error.get("column") else "")
            self.stderr.write(f"{where}: {error['message']}")
        if report.errors:
            raise CommandError(f"{len(report.errors)} problem(s); nothing was written")
        if not report.committed:
            self.stdout.write(f"{report.rows} items checked (dry run; add --commit to write)")
            return
        self.stdout.write(
            f"{report.rows} items written: {report.created} new, {report.updated} updated; "
            f"{report.checkpoints_added} checkpoints added, {report.checkpoints_retired} retired"
        )

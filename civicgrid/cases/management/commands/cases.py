"""``civicgrid cases …`` — the taxonomy in and out of Excel, the SLA sweep, the clock check.

Data-changing subcommands are dry runs unless given ``--commit``.
"""

from __future__ import annotations

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from civicgrid.cases import sla
from civicgrid.cases.models import Case
from civicgrid.cases.replay import case_replay_differences
from civicgrid.cases.taxonomy import taxonomy_export, taxonomy_import, taxonomy_load_default


class Command(BaseCommand):
    help = "Cases: taxonomy export/import/load-default, sla-sweep, verify-clock."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        tax = sub.add_parser("taxonomy", help="The case classes (大类/小类).")
        tax_sub = tax.add_subparsers(dest="taxonomy_action", required=True)
        exp = tax_sub.add_parser("export", help="Write every 小类 to an Excel file.")
        exp.add_argument("-o", "--output", required=True)
        imp = tax_sub.add_parser("import", help="Read classes from Excel or CSV (dry run unless --commit).")
        imp.add_argument("file")
        imp.add_argument("--commit", action="store_true")
        tax_sub.add_parser("load-default", help="Create or update the documented default classes.")
        sub.add_parser("sla-sweep", help="Send the warnings and overdue notices that are due now.")
        ver = sub.add_parser("verify-clock", help="Replay cases from their event logs and compare.")
        ver.add_argument("numbers", nargs="*", help="case numbers (default: a sample)")
        ver.add_argument("--sample", type=int, default=200, help="how many recent cases to check")

    def handle(self, *args, action, **options):
        if action == "taxonomy":
            return self._taxonomy(options)
        if action == "sla-sweep":
            sent = sla.sla_sweep()
            self.stdout.write(f"warnings sent: {sent['warning']}, overdue notices sent: {sent['overdue']}")
            return None
        return self._verify(options["numbers"], options["sample"])

    def _taxonomy(self, options):
        what = options["taxonomy_action"]
        if what == "export":
            Path(options["output"]).write_bytes(taxonomy_export())
            self.stdout.write(f"wrote {options['output']}")
        elif what == "load-default":
            report = taxonomy_load_default()
            self.stdout.write(f"default taxonomy: {report.created} created, {report.updated} updated")
        else:
            path = Path(options["file"])
            if not path.is_file():
                raise CommandError(f"{path} is not a file")
            report = taxonomy_import(name=path.name, data=path.read_bytes(), commit=options["commit"])
            for error in report.errors:
                self.stderr.write(f"row {error['row']}: {error['message']}")
            if report.errors:
                raise CommandError(f"{len(report.errors)} problem(s); nothing was written")
            verb = "written" if options["commit"] else "checked (dry run; add --commit to write)"
            self.stdout.write(f"{report.rows} rows {verb}: {report.created} new, {report.updated} updated")

    def _verify(self, numbers: list[str], sample: int):
        query = Case.objects.filter(number__in=numbers) if numbers else Case.objects.order_by("-id")[:sample]
        checked = bad = 0
        for case in query.select_related("case_class"):
            differences = case_replay_differences(case)
            checked += 1
            if differences:
                bad += 1
                self.stdout.write(
                    f"{case.number}: " + ", ".join(f"{k} {v[0]} ≠ {v[1]}" for k, v in differences.items())
                )
        self.stdout.write(f"{checked} case(s) replayed, {bad} differ")
        if bad:
            sys.exit(1)

"""``civicgrid grids …`` — list, import, validate, activate and export boundary generations.

Data-changing subcommands are dry runs unless given ``--commit`` (MapIt's habit).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from civicgrid.errors import DomainError
from civicgrid.regions import selectors, services
from civicgrid.regions.attributes import attributes_export, attributes_import
from civicgrid.regions.importer import PropertyMap


class Command(BaseCommand):
    help = (
        "Manage boundary generations: list, import, validate, activate, export; grid attributes in and out."
    )

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("list", help="List generations.")

        imp = sub.add_parser("import", help="Import a GeoJSON FeatureCollection as a new generation.")
        imp.add_argument("file")
        imp.add_argument("--name", help="Generation name (default: the file name).")
        imp.add_argument("--description", default="")
        imp.add_argument(
            "--map",
            action="append",
            default=[],
            metavar="FIELD=PROPERTY",
            help="Property names, e.g. --map code=GRID_CODE --map name=MC.",
        )
        imp.add_argument("--commit", action="store_true", help="Write the generation (default: dry run).")
        imp.add_argument("--activate", action="store_true", help="Activate it after writing.")
        imp.add_argument("--json", action="store_true", help="Print the report as JSON.")

        val = sub.add_parser(
            "validate", help="Check coverage: no gap, no overlap, nothing outside its parent."
        )
        val.add_argument("--generation", help="id or name (default: active)")
        val.add_argument("--json", action="store_true")

        act = sub.add_parser("activate", help="Make a generation the one lookups use.")
        act.add_argument("generation")

        exp = sub.add_parser("export", help="Write a generation as GeoJSON.")
        exp.add_argument("--generation", help="id or name (default: active)")
        exp.add_argument("--level", choices=["district", "street", "community", "grid"])
        exp.add_argument("--crs", default="wgs84", choices=["wgs84", "gcj02", "bd09"])
        exp.add_argument("--output", "-o", help="File to write (default: standard output).")

        att = sub.add_parser(
            "attributes", help="Load grid attributes from CSV or Excel (code, population, …)."
        )
        att.add_argument("file")
        att.add_argument("--commit", action="store_true")

        xat = sub.add_parser(
            "export-attributes", help="Write the attributes of every grid as an Excel sheet."
        )
        xat.add_argument("--level", default="grid", choices=["street", "community", "grid"])
        xat.add_argument("--output", "-o", required=True, help="The .xlsx file to write.")

    def handle(self, *args, action, **options):
        try:
            getattr(self, f"_{action.replace('-', '_')}")(**options)
        except DomainError as exc:
            raise CommandError(f"{exc.code}: {exc.message}") from exc

    def _list(self, **options):
        for g in selectors.generation_list():
            self.stdout.write(
                f"{g.id:>4}  {g.state:<8} {g.name}  problems={g.problem_count}  created={g.created_at:%Y-%m-%d}"
            )

    def _print_problems(self, problems):
        for n, p in enumerate(problems, start=1):
            where = f" at {p.lon:.7f},{p.lat:.7f}" if p.lon is not None else ""
            area = f" {p.area_m2:.1f} m²" if p.area_m2 is not None else ""
            feature = f" feature #{p.feature}" if p.feature is not None else ""
            self.stdout.write(f"{n:>4}. [{p.kind}] {','.join(p.codes)}{area}{where}{feature} — {p.message}")

    def _import(self, file, name, description, map, commit, activate, json: bool, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"no such file: {file}")
        try:
            mapping = PropertyMap.from_pairs(map)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        report = services.generation_import(
            data=path.read_bytes(),
            name=name or path.stem,
            mapping=mapping,
            commit=commit,
            activate=activate,
            description=description,
            source=path.name,
        )
        if json:
            self.stdout.write(_json(report.as_dict()))
        else:
            self.stdout.write(
                f"features: {report.features}  by level: {report.by_level}  "
                f"taken from the active generation: {report.copied_from_base or '-'}  "
                f"new grid codes: {len(report.new_grids)}"
            )
            self._print_problems(report.problems)
        if not report.ok:
            raise CommandError(f"{len(report.problems)} problems; nothing was written.")
        if report.committed:
            state = "and activated" if activate else "as a draft"
            self.stdout.write(self.style.SUCCESS(f"written {state}: generation {report.generation_id}"))
        else:
            self.stdout.write(self.style.WARNING("dry run: nothing written (use --commit to write)"))

    def _validate(self, generation, json: bool, **options):
        gen = selectors.generation_get(generation)
        problems = services.generation_validate(generation=gen)
        if json:
            self.stdout.write(
                _json(
                    {"generation": gen.name, "ok": not problems, "problems": [p.as_dict() for p in problems]}
                )
            )
        else:
            self._print_problems(problems)
        if problems:
            raise CommandError(f"{gen.name}: {len(problems)} coverage problems")
        self.stdout.write(
            self.style.SUCCESS(f"{gen.name}: coverage is clean ({gen.boundaries.count()} boundaries)")
        )

    def _activate(self, generation, **options):
        gen = services.generation_activate(generation=selectors.generation_get(generation))
        self.stdout.write(self.style.SUCCESS(f"{gen.name} is now active"))

    def _export(self, generation, level, crs, output, **options):
        text = selectors.generation_geojson_text(
            generation=selectors.generation_get(generation), level=level, crs=crs
        )
        if output:
            Path(output).write_text(text, encoding="utf-8")
            self.stderr.write(f"written {output}")
        else:
            sys.stdout.write(text + "\n")

    def _attributes(self, file, commit, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"no such file: {file}")
        report = attributes_import(name=path.name, data=path.read_bytes(), commit=commit)
        for error in report.errors:
            self.stdout.write(f"row {error['row']}: {error['message']}")
        self.stdout.write(f"rows: {report.rows}  updated: {report.updated}")
        if report.errors:
            raise CommandError(f"{len(report.errors)} bad rows; nothing was written.")
        if not commit:
            self.stdout.write(self.style.WARNING("dry run: nothing written (use --commit to write)"))

    def _export_attributes(self, level, output, **options):
        Path(output).write_bytes(attributes_export(level=level))
        self.stdout.write(self.style.SUCCESS(f"written {output}"))


def _json(data) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2)

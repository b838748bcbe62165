"""``civicgrid audit …`` — verify the chain, purge past retention, export for auditors.

``purge`` is a dry run unless given ``--commit``. Exports and purges are put on the trail with
the operating-system user who ran them: in a 三权分立 setup the system administrator holds the
server, and the auditor can see when they used it to read or trim the trail.
"""

from __future__ import annotations

import getpass
from datetime import date, datetime, time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from civicgrid.audit import selectors
from civicgrid.audit.exports import FORMATS, audit_export
from civicgrid.audit.services import MIN_RETENTION_DAYS, audit_purge, retention_cutoff
from civicgrid.errors import DomainError


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(_("Not a date (YYYY-MM-DD): %(value)s") % {"value": value}) from exc


def _when(value) -> str:
    return timezone.localtime(value).isoformat(timespec="seconds") if value else "-"


def _context() -> dict:
    try:
        os_user = getpass.getuser()
    except (KeyError, OSError):  # no passwd entry in some containers
        os_user = ""
    return {"via": "cli", "os_user": os_user}


def _describe(found: selectors.ChainBreak) -> str:
    where = _("record #%(id)s at %(at)s") % {"id": found.record_id, "at": _when(found.at)}
    if found.previous_id is not None:
        where += " " + _("(after record #%(id)s at %(at)s)") % {
            "id": found.previous_id,
            "at": _when(found.previous_at),
        }
    return f"[{found.kind}] {where}: {found.message}"


class _TextOut:
    """Lets csv.writer stream through the command's stdout without extra newlines."""

    def __init__(self, wrapper):
        self.wrapper = wrapper

    def write(self, text: str) -> None:
        self.wrapper.write(text, ending="")


class Command(BaseCommand):
    help = "Audit trail: verify the hash chain, purge records past retention, export for auditors."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)

        ver = sub.add_parser("verify", help="Walk the chain and report every edited or deleted record.")
        ver.add_argument("--batch-size", type=int, default=selectors.VERIFY_BATCH_SIZE)
        ver.add_argument(
            "--checkpoint",
            action="append",
            default=[],
            metavar="ID:HASH",
            help="A record id and hash noted earlier off this database; it must be unchanged.",
        )

        pur = sub.add_parser("purge", help="Remove records older than the retention period (dry run).")
        pur.add_argument("--before", help="Purge records before this date (default: retention setting).")
        pur.add_argument("--commit", action="store_true", help="Really remove them (default: dry run).")
        pur.add_argument(
            "--force",
            action="store_true",
            help=f"Allow less than {MIN_RETENTION_DAYS} days, or purging a chain that does not verify.",
        )

        exp = sub.add_parser("export", help="Write records as CSV or Excel, in chain order.")
        exp.add_argument("--since", help="From this date (YYYY-MM-DD), inclusive.")
        exp.add_argument("--until", help="To this date (YYYY-MM-DD), inclusive.")
        exp.add_argument("--format", default="csv", choices=FORMATS)
        exp.add_argument("--output", "-o", help="File to write (default: standard output; csv only).")

    def handle(self, *args, action, **options):
        try:
            getattr(self, f"_{action}")(**options)
        except DomainError as exc:
            raise CommandError(f"{exc.code}: {exc.message}") from exc

    def _verify(self, batch_size, checkpoint, **options):
        report = selectors.ChainReport()
        with selectors.chain_snapshot():
            for found in selectors.iter_chain_breaks(batch_size=batch_size, progress=report):
                report.break_count += 1
                self.stdout.write(self.style.ERROR(_describe(found)))
        for item in checkpoint:
            record_id, _sep, expected = item.partition(":")
            if not record_id.isdigit() or not selectors.audit_checkpoint_matches(
                record_id=int(record_id), expected_hash=expected
            ):
                report.break_count += 1
                self.stdout.write(
                    self.style.ERROR(
                        "[checkpoint] "
                        + _("record #%(id)s no longer has the hash noted for it.") % {"id": record_id}
                    )
                )
        self.stdout.write(
            ngettext(
                "checked %(n)d record; head #%(id)s %(hash)s",
                "checked %(n)d records; head #%(id)s %(hash)s",
                report.checked,
            )
            % {"n": report.checked, "id": report.head_id or "-", "hash": report.head_hash or "-"}
        )
        if not report.ok:
            raise CommandError(
                ngettext(
                    "The audit chain is broken in %(n)d place.",
                    "The audit chain is broken in %(n)d places.",
                    report.break_count,
                )
                % {"n": report.break_count}
            )
        self.stdout.write(self.style.SUCCESS(_("The audit chain is intact.")))

    def _purge(self, before, commit, force, **options):
        days = settings.AUDIT_RETENTION_DAYS
        if days < MIN_RETENTION_DAYS and not force:
            raise CommandError(
                _("AUDIT_RETENTION_DAYS is %(days)d; audit records must be kept at least %(min)d days.")
                % {"days": days, "min": MIN_RETENTION_DAYS}
            )
        if before:
            cutoff = timezone.make_aware(datetime.combine(_date(before), time.min))
        else:
            cutoff = retention_cutoff(days=days)
        if commit and not force:
            # Purging a broken chain would destroy the evidence of what broke it.
            report = selectors.audit_chain_verify(keep=1)
            if not report.ok:
                raise CommandError(
                    ngettext(
                        "The audit chain does not verify (%(n)d break); run `audit verify` first.",
                        "The audit chain does not verify (%(n)d breaks); run `audit verify` first.",
                        report.break_count,
                    )
                    % {"n": report.break_count}
                )
        result = audit_purge(before=cutoff, commit=commit, force=force, context=_context())
        if not result.count:
            self.stdout.write(_("Nothing to purge before %(at)s.") % {"at": _when(cutoff)})
            return
        summary = ngettext(
            "%(n)d record before %(at)s (#%(first)d … #%(last)d)",
            "%(n)d records before %(at)s (#%(first)d … #%(last)d)",
            result.count,
        ) % {
            "n": result.count,
            "at": _when(cutoff),
            "first": result.first_id,
            "last": result.last_id,
        }
        if result.committed:
            self.stdout.write(self.style.SUCCESS(_("purged %(summary)s") % {"summary": summary}))
        else:
            self.stdout.write(
                _("dry run: would purge %(summary)s; nothing removed (add --commit).") % {"summary": summary}
            )

    def _export(self, since, until, format, output, **options):
        if format == "xlsx" and not output:
            raise CommandError(_("An Excel export needs --output FILE."))
        records = selectors.audit_operator_records(
            since=_date(since) if since else None, until=_date(until) if until else None
        )
        context = {**_context(), "filters": {"since": since, "until": until}}
        if output:
            # utf-8-sig: Excel opens a CSV with Chinese names correctly only with the BOM.
            mode = (
                {"mode": "w", "newline": "", "encoding": "utf-8-sig"} if format == "csv" else {"mode": "wb"}
            )
            with open(output, **mode) as fh:
                count = audit_export(records=records, fmt=format, out=fh, context=context)
            self.stderr.write(
                ngettext("%(n)d record written to %(file)s", "%(n)d records written to %(file)s", count)
                % {"n": count, "file": output}
            )
        else:
            audit_export(records=records, fmt=format, out=_TextOut(self.stdout), context=context)

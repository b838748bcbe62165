"""``civicgrid pii …`` — key status, rotation, re-encryption sweeps and key retirement.

Data-changing subcommands are dry runs unless given ``--commit`` (MapIt's habit); a dry run
still decrypts every value it would touch, so it proves the real run would succeed.
docs/personal-data.md walks through the procedures.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from civicgrid.pii import keys, rotation


class Command(BaseCommand):
    help = "Personal-data keys: status, add-key, rotate-key, reencrypt, retire-key."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("status", help="Keys in the key file and how many stored values use each.")

        sub.add_parser(
            "add-key",
            help="Add a new key without using it yet (with several hosts: copy the file to all first).",
        )

        rot = sub.add_parser("rotate-key", help="Make a new key current and re-encrypt every value.")
        rot.add_argument("--commit", action="store_true", help="Write the key file and the data.")
        rot.add_argument("--use", metavar="KEYID", help="Use a key added earlier with add-key.")
        rot.add_argument(
            "--new-index-key",
            action="store_true",
            help="Also replace the blind-index key and recompute every index (maintenance window).",
        )
        rot.add_argument("--batch-size", type=int, default=rotation.BATCH_SIZE)

        sweep = sub.add_parser(
            "reencrypt", help="Re-encrypt values not under the current key (resume, or sweep after restart)."
        )
        sweep.add_argument("--commit", action="store_true")
        sweep.add_argument("--reindex", action="store_true", help="Recompute every blind index too.")
        sweep.add_argument(
            "--adopt-plaintext",
            action="store_true",
            help="Encrypt values stored before the column became an EncryptedTextField.",
        )
        sweep.add_argument("--batch-size", type=int, default=rotation.BATCH_SIZE)

        retire = sub.add_parser("retire-key", help="Remove a key that no stored value uses any more.")
        retire.add_argument("key_id", metavar="KEYID")
        retire.add_argument("--commit", action="store_true")

    def handle(self, *args, action, **options):
        self.verbosity = options["verbosity"]
        try:
            getattr(self, f"_{action.replace('-', '_')}")(**options)
        except keys.KeyFileError as exc:
            raise CommandError(str(exc)) from exc

    def _progress(self, line: str) -> None:
        if self.verbosity >= 1:
            self.stdout.write(f"  {line}")

    def _status(self, **options):
        ring = keys.keyring()
        self.stdout.write(f"key file: {keys.key_file_path()}")
        for key_id in sorted(ring.keys):
            mark = "  (current)" if key_id == ring.current_id else ""
            self.stdout.write(f"  key {key_id}  created {ring.created.get(key_id) or '?'}{mark}")
        self.stdout.write(f"  index key created {ring.index_key_created or '?'}")
        entries = rotation.census()
        if not entries:
            self.stdout.write("no installed model has an EncryptedTextField")
        for entry in entries:
            counts = ", ".join(f"{key_id}={n}" for key_id, n in sorted(entry.by_key.items())) or "no values"
            warning = f", NOT ENCRYPTED={entry.plaintext}" if entry.plaintext else ""
            self.stdout.write(f"{entry.label}: {counts}{warning}")

    def _add_key(self, **options):
        key_id = rotation.key_add()
        self.stdout.write(
            self.style.SUCCESS(f"added key {key_id} (not current). Copy the key file to every host, then:")
        )
        self.stdout.write(f"  civicgrid pii rotate-key --use {key_id} --commit")

    def _report(self, reports, *, commit: bool) -> None:
        verb = "" if commit else "would be "
        failed = 0
        if not reports:
            self.stdout.write("no installed model has an EncryptedTextField")
        for r in reports:
            line = (
                f"{r.label}: examined {r.examined}, {verb}re-encrypted {r.reencrypted}, "
                f"{verb}reindexed {r.reindexed}, {verb}newly encrypted {r.adopted}"
            )
            if r.plaintext_left:
                line += f", NOT ENCRYPTED {r.plaintext_left} (use --adopt-plaintext)"
            self.stdout.write(line)
            for failure in r.failures:
                self.stderr.write(f"  cannot decrypt {failure}")
            failed += r.failed
        if failed:
            raise CommandError(f"{failed} values could not be decrypted; they were left as they are.")
        if not commit:
            self.stdout.write("dry run: nothing was written (add --commit).")

    def _rotate_key(self, commit, use, new_index_key, batch_size, **options):
        key_id, reports = rotation.key_rotate(
            commit=commit,
            use_key_id=use,
            new_index_key=new_index_key,
            batch_size=batch_size,
            progress=self._progress,
        )
        self._report(reports, commit=commit)
        if key_id:
            self.stdout.write(
                self.style.SUCCESS(
                    f"current key is now {key_id}. Back up the key file, restart the app processes, "
                    "then run `civicgrid pii reencrypt --commit` to sweep values they wrote meanwhile."
                )
            )

    def _reencrypt(self, commit, reindex, adopt_plaintext, batch_size, **options):
        reports = rotation.sweep(
            commit=commit,
            reindex=reindex,
            adopt_plaintext=adopt_plaintext,
            batch_size=batch_size,
            progress=self._progress,
        )
        self._report(reports, commit=commit)

    def _retire_key(self, key_id, commit, **options):
        users = rotation.key_retire(key_id, commit=commit)
        if users:
            for label, count in users.items():
                self.stdout.write(f"{label}: {count} values still use {key_id}")
            raise CommandError(f"key {key_id} is still in use; run `civicgrid pii reencrypt --commit` first.")
        if commit:
            self.stdout.write(
                self.style.SUCCESS(
                    f"removed key {key_id}. Database backups made before the rotation need the old "
                    "key file to be read."
                )
            )
        else:
            self.stdout.write(f"no stored value uses {key_id}; dry run: add --commit to remove it.")

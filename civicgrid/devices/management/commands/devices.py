"""``civicgrid devices …`` — fire a signed test alarm, load the default alarm types, export the
registry. For operators testing an installation end to end (device → webhook → case).

``fire`` reads the device's secret from the database (it runs on the server, next to it), signs
the alarm exactly as a device must, posts it over HTTP to the running site and prints the answer;
reading the secret is audited. Give ``--secret`` to sign with another secret (to see a refusal).
"""

from __future__ import annotations

import base64
import json
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from civicgrid.audit.services import audit_record
from civicgrid.devices import signing
from civicgrid.devices.exports import devices_import, devices_xlsx
from civicgrid.devices.models import Device
from civicgrid.devices.services import alarm_types_load_default
from civicgrid.tables import xlsx_bytes

DEFAULT_URL = "http://127.0.0.1:8000/devices/alarms"


class Command(BaseCommand):
    help = "Devices: fire a signed test alarm, load-types, import, export."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        fire = sub.add_parser("fire", help="Sign and post one alarm as the device would.")
        fire.add_argument("device_id")
        fire.add_argument("type", help="alarm type code, e.g. smoke or illegal_parking")
        fire.add_argument("--url", default=DEFAULT_URL, help=f"the webhook (default {DEFAULT_URL})")
        fire.add_argument("--alarm-id", default="", help="the device's alarm id (default: a new one)")
        fire.add_argument("--text", default="")
        fire.add_argument("--lon", type=float)
        fire.add_argument("--lat", type=float)
        fire.add_argument("--snapshot", help="a JPEG or PNG file to send with it")
        fire.add_argument("--secret", help="sign with this secret instead of the registered one")
        sub.add_parser("load-types", help="Add the default alarm types whose 小类 exists.")
        exp = sub.add_parser("export", help="Write the registry to an Excel file (no secrets).")
        exp.add_argument("-o", "--output", required=True)
        imp = sub.add_parser("import", help="Read devices from Excel or CSV (dry run unless --commit).")
        imp.add_argument("file")
        imp.add_argument("--commit", action="store_true")
        imp.add_argument("--secrets-out", help="with --commit: the Excel file for the new devices' secrets")

    def handle(self, *args, action, **options):
        if action == "load-types":
            made = alarm_types_load_default()
            self.stdout.write(f"{len(made)} alarm types added: {', '.join(t.code for t in made) or '—'}")
        elif action == "import":
            self._import(options)
        elif action == "export":
            Path(options["output"]).write_bytes(devices_xlsx(Device.objects.all()))
            self.stdout.write(f"written {options['output']}")
        else:
            self._fire(options)

    def _import(self, options) -> None:
        if options["commit"] and not options["secrets_out"]:
            raise CommandError("--commit needs --secrets-out: new devices' secrets are written there, once.")
        path = Path(options["file"])
        report = devices_import(name=path.name, data=path.read_bytes(), commit=options["commit"])
        for error in report.errors:
            self.stdout.write(f"row {error['row']}: {error['message']}")
        if report.errors:
            raise CommandError(f"{len(report.errors)} problems; nothing was written.")
        if not options["commit"]:
            self.stdout.write(f"{report.rows} rows are good (dry run: give --commit to write).")
            return
        if report.secrets:
            out = Path(options["secrets_out"])
            out.touch(mode=0o600)
            out.chmod(0o600)  # readable by whoever runs the command, nobody else (before writing)
            out.write_bytes(xlsx_bytes("密钥", ["设备编号", "共享密钥"], report.secrets)[0])
            self.stdout.write(f"the new devices' secrets are in {out}; hand them over and delete the file")
        self.stdout.write(f"{report.rows} rows: {report.created} created, {report.updated} updated.")

    def _fire(self, options) -> None:
        device = Device.objects.filter(external_id=options["device_id"]).first()
        if device is None and not options["secret"]:
            raise CommandError(f"There is no device {options['device_id']}; give --secret to fire anyway.")
        secret = options["secret"]
        if not secret:
            secret = device.secret.reveal()
            audit_record(
                action="devices.secret_use",
                object_type="devices.device",
                object_id=device.external_id,
                detail={"purpose": "devices fire", "url": options["url"]},
            )
        alarm = {
            "alarm_id": options["alarm_id"] or f"test-{uuid.uuid4().hex[:12]}",
            "type": options["type"],
            "time": int(time.time()),
        }
        if options["text"]:
            alarm["text"] = options["text"]
        if options["lon"] is not None and options["lat"] is not None:
            alarm["lon"], alarm["lat"] = options["lon"], options["lat"]
        if options["snapshot"]:
            alarm["snapshot"] = base64.b64encode(Path(options["snapshot"]).read_bytes()).decode("ascii")
        body = json.dumps(alarm, ensure_ascii=False).encode("utf-8")
        stamp = str(int(time.time()))
        request = urllib.request.Request(
            options["url"],
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json",
                "X-Device-Id": options["device_id"],
                "X-Timestamp": stamp,
                "X-Signature": signing.sign(secret, stamp, body),
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                status, answer = response.status, response.read()
        except urllib.error.HTTPError as exc:
            status, answer = exc.code, exc.read()
        except urllib.error.URLError as exc:
            raise CommandError(f"Cannot reach {options['url']}: {exc.reason}") from None
        self.stdout.write(f"{status} {answer.decode('utf-8', 'replace')}")
        if status >= 400:
            raise CommandError(f"refused with HTTP {status}")

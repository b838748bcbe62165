"""Taking an alarm in: check who sent it and when, then make a case or fold it into the open one.

Order of the checks: the device (401 unknown, 403 inactive) → the timestamp window (401) → the
signature (401) → the body (400) → under the device's row lock, a replayed signature (409) or a
re-sent alarm id (answered with what the first copy did). Every refusal leaves an ``Alarm`` row
with its reason and an audit record, written after the refused work rolled back.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from civicgrid.audit.models import AuditResult
from civicgrid.audit.services import audit_record
from civicgrid.cases.models import AttachmentPurpose, Case, Channel
from civicgrid.cases.services import CaseInput, Upload, case_create, case_move
from civicgrid.cases.uploads import clean_upload
from civicgrid.cases.workflow import Action
from civicgrid.devices import signing
from civicgrid.devices.models import ACCEPTED, TYPE_CODE_PATTERN, Alarm, AlarmOutcome, AlarmType, Device
from civicgrid.devices.services import intake_actor
from civicgrid.errors import DomainError
from civicgrid.regions.selectors import grid_locate
from civicgrid.throttle import throttle_allows

SNAPSHOT_TYPES = ("image/jpeg", "image/png")
ALARM_ID_PATTERN = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
TEXT_MAX = 500


def window_seconds() -> int:
    """How far X-Timestamp may lie from the server's clock (setting DEVICES_CLOCK_WINDOW, ±300 s)."""
    return settings.DEVICES_CLOCK_WINDOW


def body_max_bytes() -> int:
    # A base64 snapshot is 4/3 of the image; 64 KiB for the rest of the JSON.
    return settings.UPLOAD_MAX_BYTES * 4 // 3 + 64 * 1024


@dataclass
class Request:
    device_id: str
    timestamp: str
    signature: str
    body: bytes
    ip: str | None = None


@dataclass
class Taken:
    """What the webhook answers: the status and the alarm as stored."""

    status: int
    alarm: Alarm

    def as_dict(self) -> dict:
        case = self.alarm.case
        return {
            "alarm": self.alarm.pk,
            "outcome": self.alarm.outcome,
            "case": case.number if case else None,
        }


@dataclass
class Parsed:
    external_id: str
    alarm_type: AlarmType
    occurred_at: datetime
    lon: float
    lat: float
    crs: str
    text: str
    snapshot: bytes | None
    snapshot_sha256: str


class Refused(DomainError):
    """A refusal, with what was known of the alarm when it was refused (for its Alarm row)."""

    def __init__(self, code: str, message: str, status: int, detail: dict | None = None, **known):
        super().__init__(code, message, detail, status=status)
        self.known = known


def alarm_receive(request: Request) -> Taken:
    """Check and take one alarm. Raises ``Refused`` (already recorded) when it is not taken."""
    now = timezone.now()
    if _blocked(request.ip):
        # Not recorded: a flood of junk must not flood the alarm table and the audit chain.
        raise Refused(
            "too_many_refusals", _("Too many refused alarms from this address; wait a minute."), 429
        )
    device = None
    try:
        device = _device(request)
        _check_time(request, now)
        _check_signature(device, request)
        parsed = _parse(device, request.body, now)
        return _take(device, request, parsed, now)
    except DomainError as exc:
        refused = exc if isinstance(exc, Refused) else Refused(exc.code, exc.message, exc.status, exc.detail)
        _record_refusal(refused, request, device, now)
        raise refused from None


def _device(request: Request) -> Device:
    claimed = request.device_id.strip()
    if not claimed:
        raise Refused("device_id_missing", _("Say which device sends the alarm (X-Device-Id)."), 401)
    device = Device.objects.filter(external_id=claimed[:64]).first()
    if device is None:
        raise Refused("unknown_device", _("There is no device %(id)s.") % {"id": claimed[:64]}, 401)
    if not device.active:
        raise Refused("device_inactive", _("This device is switched off in the registry."), 403)
    return device


def _check_time(request: Request, now: datetime) -> None:
    value = request.timestamp.strip()
    if not value.isdigit() or len(value) > 12:
        raise Refused("bad_timestamp", _("X-Timestamp must be the time in unix seconds."), 401)
    skew = abs(now.timestamp() - int(value))
    if skew > window_seconds():
        raise Refused(
            "stale_timestamp",
            _("X-Timestamp is too far from the server's clock; check the device's clock (NTP)."),
            401,
            {"window_seconds": window_seconds(), "server_time": int(now.timestamp())},
        )


def _check_signature(device: Device, request: Request) -> None:
    if not request.signature.strip():
        raise Refused("signature_missing", _("The alarm is not signed (X-Signature)."), 401)
    if not signing.signature_matches(
        device.secret.reveal(), request.timestamp.strip(), request.body, request.signature
    ):
        raise Refused("bad_signature", _("The signature does not match."), 401)


def _field_error(field: str, message: str) -> Refused:
    return Refused("bad_alarm", message, 400, {"field": field})


def _parse(device: Device, body: bytes, now: datetime) -> Parsed:
    if len(body) > body_max_bytes():
        raise Refused("too_large", _("The alarm is too large."), 413, {"max_bytes": body_max_bytes()})
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise Refused("malformed_body", _("The body must be a JSON object in UTF-8."), 400) from None
    if not isinstance(data, dict):
        raise Refused("malformed_body", _("The body must be a JSON object in UTF-8."), 400)
    external_id = data.get("alarm_id")
    if not isinstance(external_id, str) or not ALARM_ID_PATTERN.match(external_id):
        raise _field_error("alarm_id", _("alarm_id: 1–64 letters, digits or . _ : -"))
    code = data.get("type")
    if not isinstance(code, str) or not re.match(TYPE_CODE_PATTERN, code):
        raise _field_error("type", _("type: the alarm type's code."))
    alarm_type = AlarmType.objects.filter(code=code, active=True).select_related("case_class").first()
    if alarm_type is None:
        raise Refused(
            "unknown_alarm_type",
            _("Unknown alarm type %(t)s.") % {"t": code},
            400,
            {"type": code},
            type_code=code,
        )
    occurred_at = _alarm_time(data.get("time"), now)
    lon, lat, crs = _place(device, data)
    text = data.get("text", "")
    if not isinstance(text, str) or len(text) > TEXT_MAX:
        raise _field_error("text", _("text: at most %(n)d characters.") % {"n": TEXT_MAX})
    snapshot, digest = _snapshot(data.get("snapshot"))
    return Parsed(external_id, alarm_type, occurred_at, lon, lat, crs, text.strip(), snapshot, digest)


def _alarm_time(value, now: datetime) -> datetime:
    """Unix seconds, or ISO 8601 (without an offset: the server's time zone, as devices in China send)."""
    at = None
    if isinstance(value, int | float) and not isinstance(value, bool) and 0 < value < 1e11:
        at = datetime.fromtimestamp(value, tz=UTC)
    elif isinstance(value, str) and len(value) <= 40:
        try:
            at = parse_datetime(value)
        except ValueError:
            at = None
        if at is not None and timezone.is_naive(at):
            at = timezone.make_aware(at)
    if at is None:
        raise _field_error("time", _("time: unix seconds or an ISO 8601 date and time."))
    if at > now + timedelta(seconds=window_seconds()):
        raise _field_error("time", _("time lies in the future; check the device's clock."))
    return at


def _place(device: Device, data: dict) -> tuple[float, float, str]:
    lon, lat = data.get("lon"), data.get("lat")
    if lon is None and lat is None:
        return device.lon, device.lat, "wgs84"
    numbers = all(isinstance(v, int | float) and not isinstance(v, bool) for v in (lon, lat))
    crs = data.get("crs", "wgs84")
    if not numbers or not isinstance(crs, str):
        raise _field_error("lon", _("lon and lat: numbers, both or neither."))
    try:
        place = grid_locate(lon=lon, lat=lat, crs=crs)
    except DomainError as exc:
        raise Refused(exc.code, exc.message, 400, exc.detail) from None
    return place["wgs84"]["lon"], place["wgs84"]["lat"], "wgs84"


def _snapshot(value) -> tuple[bytes | None, str]:
    if value in (None, ""):
        return None, ""
    if not isinstance(value, str):
        raise Refused("bad_snapshot", _("snapshot: a base64 JPEG or PNG."), 400)
    if value.startswith("data:") and "," in value:
        value = value.split(",", 1)[1]  # a data: URL, as some cameras send it
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise Refused("bad_snapshot", _("snapshot: not valid base64."), 400) from None
    try:
        clean = clean_upload("snapshot.jpg", raw, max_bytes=settings.UPLOAD_MAX_BYTES)
    except DomainError as exc:
        raise Refused("bad_snapshot", exc.message, 400, {"reason": exc.code}) from None
    if clean.content_type not in SNAPSHOT_TYPES:
        raise Refused("bad_snapshot", _("snapshot: a JPEG or PNG image."), 400, {"type": clean.content_type})
    # The raw bytes go on to the case, which cleans them the same way and keeps the EXIF position
    # for staff; the clean copy's hash is what the case's attachment will be named by.
    return raw, clean.sha256


def _take(device: Device, request: Request, parsed: Parsed, now: datetime) -> Taken:
    signature = request.signature.strip().lower()
    try:
        with transaction.atomic():
            # One device's alarms are taken one at a time: two of a burst arriving together must
            # not both see "no open case" and make two (SQLite serialises writers anyway).
            Device.objects.select_for_update().filter(pk=device.pk).get()
            if Alarm.objects.filter(device=device, signature=signature).exists():
                raise _replayed()
            alarm = Alarm(
                received_at=now,
                device=device,
                claimed_device=device.external_id,
                external_id=parsed.external_id,
                alarm_type=parsed.alarm_type,
                type_code=parsed.alarm_type.code,
                occurred_at=parsed.occurred_at,
                lon=parsed.lon,
                lat=parsed.lat,
                text=parsed.text,
                snapshot_sha256=parsed.snapshot_sha256,
                signature=signature,
                ip=request.ip,
            )
            first = (
                Alarm.objects.filter(device=device, external_id=parsed.external_id, outcome__in=ACCEPTED)
                .select_related("case")
                .first()
            )
            if first is not None:
                # The device sent this alarm again (it did not hear our answer): answer the same.
                alarm.outcome, alarm.status, alarm.case = AlarmOutcome.REPEATED, 200, first.case
            else:
                _fold_or_create(device, alarm, parsed, now)
            alarm.save(force_insert=True)
            Device.objects.filter(pk=device.pk).update(last_seen=now)
    except IntegrityError:
        # The signature's unique index caught a copy racing past the check above.
        raise _replayed() from None
    return Taken(alarm.status, alarm)


def _replayed() -> Refused:
    return Refused("replayed", _("This signed alarm was received already."), 409)


def _open_case_for(device: Device, alarm_type: AlarmType, now: datetime) -> Case | None:
    """The case this device's alarms of this type are folding into, if the burst is still on."""
    last = (
        Alarm.objects.filter(device=device, alarm_type=alarm_type, outcome__in=ACCEPTED)
        .order_by("-received_at", "-id")
        .select_related("case")
        .first()
    )
    if last is None or last.case is None:
        return None
    if now - last.received_at > timedelta(minutes=alarm_type.fold_minutes):
        return None
    case = last.case
    if case.master_id is not None:  # merged as a duplicate: the master carries the matter now
        case = Case.objects.get(pk=case.master_id)
    return case if case.is_open else None


def _fold_or_create(device: Device, alarm: Alarm, parsed: Parsed, now: datetime) -> None:
    case = _open_case_for(device, parsed.alarm_type, now)
    files = []
    if parsed.snapshot is not None:
        files = [Upload(name="snapshot.jpg", data=parsed.snapshot, purpose=AttachmentPurpose.REPORT)]
    # Cases are written in the site's language, whatever the device's Accept-Language said.
    with translation.override(settings.LANGUAGE_CODE):
        if case is None:
            alarm.case = case_create(
                actor=intake_actor(device.district_id),
                data=_case_input(device, parsed, files),
                idempotency_key="device-alarm-"
                + hashlib.sha256(f"{device.pk}:{parsed.external_id}".encode()).hexdigest()[:40],
                submitted_by=f"device:{device.external_id}",
            ).case
            alarm.outcome, alarm.status, alarm.noted = AlarmOutcome.CREATED, 201, True
            return
        alarm.case, alarm.outcome, alarm.status = case, AlarmOutcome.FOLDED, 200
        last_note = Alarm.objects.filter(case=case, noted=True).order_by("-received_at").first()
        since = last_note.received_at if last_note else case.created_at
        if now - since < timedelta(minutes=parsed.alarm_type.note_minutes):
            return  # noted recently: the alarm is on the device's list, not on the timeline
        folded = (
            Alarm.objects.filter(case=case, outcome=AlarmOutcome.FOLDED, received_at__gt=since).count() + 1
        )
        total = Alarm.objects.filter(case=case, outcome__in=ACCEPTED).count() + 1
        note = _(
            "%(count)d more alarm(s) “%(type)s” from device %(device)s since %(since)s (%(total)d in all)."
        ) % {
            "count": folded,
            "type": parsed.alarm_type.name,
            "device": device.external_id,
            "since": timezone.localtime(since).strftime("%H:%M"),
            "total": total,
        }
        # Only now the service account is needed (most folded alarms write nothing on the case).
        actor = intake_actor(device.district_id)
        case_move(actor=actor, number=case.number, action=Action.NOTE, version=None, note=note, files=files)
        alarm.noted = True


def _case_input(device: Device, parsed: Parsed, files: list[Upload]) -> CaseInput:
    alarm_type = parsed.alarm_type
    description = _("Alarm “%(type)s” from %(kind)s %(device)s (%(name)s) at %(time)s.") % {
        "type": alarm_type.name,
        "kind": device.get_kind_display(),
        "device": device.external_id,
        "name": device.name,
        "time": timezone.localtime(parsed.occurred_at).strftime("%Y-%m-%d %H:%M:%S"),
    }
    if parsed.text:
        description += "\n" + parsed.text
    return CaseInput(
        channel=Channel.SENSOR,
        title=f"{alarm_type.name} · {device.name}"[:100],
        description=description,
        lon=parsed.lon,
        lat=parsed.lat,
        crs=parsed.crs,
        address=device.address,
        case_class=alarm_type.case_class.code,
        urgency=alarm_type.urgency,
        files=files,
    )


def refusals_per_minute() -> int:
    """Refusals one address may cause a minute before it is ignored for the rest of the minute
    (setting DEVICES_REFUSALS_PER_MINUTE, default 600; 0: no limit). High, because a whole street's
    cameras may sit behind one NAT address and one of them may be misconfigured."""
    return settings.DEVICES_REFUSALS_PER_MINUTE


def _blocked(ip: str | None) -> bool:
    return refusals_per_minute() > 0 and cache.get(f"devices-blocked:{ip or 'unknown'}") is not None


def _count_refusal(ip: str | None) -> None:
    key = ip or "unknown"
    if not throttle_allows(f"devices-refused:{key}", limit=refusals_per_minute(), seconds=60):
        cache.set(f"devices-blocked:{key}", 1, timeout=60)
        audit_record(
            action="devices.alarms_blocked",
            result=AuditResult.DENIED,
            object_type="ip",
            object_id=key,
            detail={"refusals_per_minute": refusals_per_minute()},
        )


def _record_refusal(refused: Refused, request: Request, device: Device | None, now: datetime) -> None:
    """Keep the refusal: an Alarm row (what was known) and, for the device owner, an audit record."""
    _count_refusal(request.ip)
    Alarm.objects.create(
        received_at=now,
        device=device,
        claimed_device=request.device_id.strip()[:64],
        type_code=str(refused.known.get("type_code", ""))[:32],
        outcome=AlarmOutcome.REFUSED,
        reason=refused.code[:48],
        status=refused.status,
        ip=request.ip,
    )
    audit_record(
        action="devices.alarm_refused",
        result=AuditResult.DENIED if refused.status in (401, 403, 409) else AuditResult.FAILURE,
        object_type="devices.device",
        object_id=request.device_id.strip()[:64],
        detail={"reason": refused.code, "status": refused.status},
    )

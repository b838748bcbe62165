"""One row of a hotline file checked and normalised: an ``OrderRow``, or a ``Rejection`` saying why.

Pure functions of the row (and the clock), so a whole batch is checked before anything is written.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from civicgrid.cases.models import Urgency
from civicgrid.geo.crs import CRS_CHOICES
from civicgrid.hotline.models import EXTERNAL_NUMBER_MAX, LimitKind
from civicgrid.pii import crypto
from civicgrid.pii.kinds import PIIKind

CONTENT_MAX, ADDRESS_MAX, CLASS_MAX, NAME_MAX, PHONE_MAX = 4000, 200, 100, 64, 32
# A clock a little ahead at the hotline is tolerated; an order from the future is not.
FUTURE_SLACK = timedelta(minutes=10)

URGENCIES = {
    "": Urgency.NORMAL,
    "normal": Urgency.NORMAL,
    "一般": Urgency.NORMAL,
    "普通": Urgency.NORMAL,
    "urgent": Urgency.URGENT,
    "紧急": Urgency.URGENT,
    "加急": Urgency.URGENT,
    "emergency": Urgency.EMERGENCY,
    "特急": Urgency.EMERGENCY,
    "特别紧急": Urgency.EMERGENCY,
}
LIMIT_KINDS = {
    **{k: k for k in LimitKind.values},
    "紧急": LimitKind.EMERGENCY,
    "紧急类": LimitKind.EMERGENCY,
    "水电气热": LimitKind.UTILITIES,
    "一般": LimitKind.ORDINARY,
    "普通": LimitKind.ORDINARY,
    "复杂": LimitKind.COMPLEX,
    "疑难复杂": LimitKind.COMPLEX,
}
CRS_SPELLINGS = {"wgs-84": "wgs84", "gcj-02": "gcj02", "bd-09": "bd09", "": "wgs84"}


@dataclass
class Rejection:
    code: str
    message: str
    external_number: str = ""


@dataclass
class OrderRow:
    external_number: str
    received_at: datetime
    content: str
    address: str
    lon: float | None
    lat: float | None
    crs: str
    hotline_class: str
    urgency: str
    feedback_by: datetime | None
    limit_kind: str  # as given ("" when the file does not say)
    # None: the file has no caller columns (the stored caller stays).
    caller_name: str | None
    caller_phone: str | None
    # The non-personal fields as one text; with the resolved feedback kind it makes the order's
    # fingerprint (``fingerprint``), so an export read back in is unchanged.
    facts: str
    caller_fingerprint: str | None

    @property
    def has_point(self) -> bool:
        return self.lon is not None

    def fingerprint(self, kind: str) -> str:
        return hashlib.sha256(f"{self.facts}\x1f{kind}".encode()).hexdigest()


def _time(text: str) -> datetime | None:
    """ISO 8601 or "YYYY-MM-DD HH:MM[:SS]" (also with slashes); without an offset: Beijing time."""
    text = text.strip().replace("/", "-").replace("T", " ", 1)
    try:
        value = parse_datetime(text)
    except ValueError:
        return None
    if value is None:
        return None
    if timezone.is_naive(value):
        value = timezone.make_aware(value, timezone.get_default_timezone())
    return value


def _number(text: str) -> float | None:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(text)
    return value


def _too_long(name: str, limit: int, number: str) -> Rejection:
    return Rejection(
        "text_too_long",
        _("%(field)s is longer than %(n)d characters.") % {"field": name, "n": limit},
        number,
    )


def caller_fingerprint(name: str, phone: str) -> str:
    """A keyed hash (the PII blind-index key): equal callers give equal values, and the value
    reveals nothing without the key."""
    if not name and not phone:
        return ""
    return crypto.blind_index(f"{name}\x1f{phone}", kind=PIIKind.NAME)


def parse_row(raw: dict, *, now: datetime) -> OrderRow | Rejection:
    """Check one row. Every refusal names the field, so the batch report says what to fix."""
    if raw.get("_bad"):
        return Rejection("bad_row", _("The row is not an object with order fields."))
    get = lambda key: str(raw.get(key) or "").strip()  # noqa: E731
    number = get("external_number")
    if not number:
        return Rejection("missing_number", _("The order number (external_number) is missing."))
    if len(number) > EXTERNAL_NUMBER_MAX or not number.isprintable():
        return Rejection(
            "bad_number", _("The order number is too long or holds control characters."), number[:64]
        )
    received = _time(get("received_at"))
    if received is None:
        return Rejection("bad_time", _("received_at is missing or not a date and time."), number)
    if received > now + FUTURE_SLACK:
        return Rejection("bad_time", _("received_at lies in the future."), number)
    content = get("content")
    if not content:
        return Rejection("missing_content", _("The caller's words (content) are missing."), number)
    if len(content) > CONTENT_MAX:
        return _too_long("content", CONTENT_MAX, number)
    address = get("address")
    if len(address) > ADDRESS_MAX:
        return _too_long("address", ADDRESS_MAX, number)
    hotline_class = get("hotline_class")
    if len(hotline_class) > CLASS_MAX:
        return _too_long("hotline_class", CLASS_MAX, number)
    urgency = URGENCIES.get(get("urgency").lower())
    if urgency is None:
        return Rejection(
            "bad_urgency",
            _("Unknown urgency %(u)s; use normal/urgent/emergency (一般/紧急/特急).")
            % {"u": get("urgency")[:20]},
            number,
        )
    kind_text = get("limit_kind").lower()
    limit_kind = LIMIT_KINDS.get(kind_text, None) if kind_text else ""
    if limit_kind is None:
        return Rejection(
            "bad_limit_kind",
            _("Unknown feedback kind %(k)s; use emergency, utilities, ordinary or complex.")
            % {"k": kind_text[:20]},
            number,
        )
    crs_text = get("crs").lower()
    crs = CRS_SPELLINGS.get(crs_text, crs_text)
    if crs not in CRS_CHOICES:
        return Rejection(
            "bad_crs",
            _("Unknown coordinate system %(crs)s; use wgs84, gcj02 or bd09.") % {"crs": crs[:20]},
            number,
        )
    lon_text, lat_text = get("lon"), get("lat")
    lon = lat = None
    if lon_text or lat_text:
        try:
            lon, lat = _number(lon_text), _number(lat_text)
        except ValueError:
            return Rejection("bad_coordinates", _("Longitude and latitude must both be numbers."), number)
        if not (-180 <= lon <= 180 and -90 <= lat <= 90):
            return Rejection(
                "bad_coordinates", _("Longitude must be within ±180 and latitude within ±90."), number
            )
        if lon == 0 and lat == 0:  # hotline systems write 0,0 for "no coordinates"
            lon = lat = None
    feedback_text = get("feedback_by")
    feedback_by = None
    if feedback_text:
        feedback_by = _time(feedback_text)
        if feedback_by is None or feedback_by <= received:
            return Rejection("bad_time", _("feedback_by must be a date and time after received_at."), number)
    has_caller = "caller_name" in raw or "caller_phone" in raw
    name, phone = get("caller_name"), get("caller_phone")
    if len(name) > NAME_MAX or len(phone) > PHONE_MAX:
        return _too_long("caller", NAME_MAX, number)
    facts = [
        received.timestamp(),
        content,
        address,
        lon,
        lat,
        crs,
        hotline_class,
        urgency,
        feedback_by.timestamp() if feedback_by else None,
    ]
    return OrderRow(
        external_number=number,
        received_at=received,
        content=content,
        address=address,
        lon=lon,
        lat=lat,
        crs=crs,
        hotline_class=hotline_class,
        urgency=urgency,
        feedback_by=feedback_by,
        limit_kind=limit_kind,
        caller_name=name if has_caller else None,
        caller_phone=phone if has_caller else None,
        facts=json.dumps(facts, ensure_ascii=False),
        caller_fingerprint=caller_fingerprint(name, phone) if has_caller else None,
    )

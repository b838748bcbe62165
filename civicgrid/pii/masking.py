"""Server-side masking of personal data by kind, and a logging filter that masks what slips through.

GB/T 35273 §7.2 asks systems to de-identify personal data shown on screens and paper; masking
here, on the server, means pages, the API, exports and logs all carry the same masked form.
The patterns (ID 前6后4, phone 3****4) are industry convention; docs/personal-data.md lists them.
"""

from __future__ import annotations

import logging
import re

from civicgrid.pii.kinds import PIIKind
from civicgrid.pii.validators import normalise_id_number, normalise_mobile, normalise_text

TAGS_MASK = "***"
SECRET_MASK = "******"
ADDRESS_MASK = "****"
# Characters of an address kept when no house number can be found in it (about 市+区).
ADDRESS_FALLBACK_KEEP = 6
# Where the house-number part of an address starts: the first digit, or a Chinese numeral
# followed by a unit word (三号, 五栋, 二单元, 十二室).
_HOUSE_NUMBER_RE = re.compile(r"\d|[一二三四五六七八九十百零〇两]+(?:号|栋|幢|座|单元|室|楼|层|弄)")


def mask_id_number(value: str) -> str:
    number = normalise_id_number(value)
    # 18-digit numbers (and the old 15-digit ones) keep the region (6) and the last 4;
    # anything shorter is malformed and keeping 10 characters of it would reveal too much.
    if len(number) < 15:
        return "*" * len(number)
    return number[:6] + "*" * (len(number) - 10) + number[-4:]


def mask_phone(value: str) -> str:
    number = normalise_mobile(value)
    length = len(number)
    if length >= 11:
        return number[:3] + "*" * (length - 7) + number[-4:]
    if length >= 8:
        # Local fixed-line numbers: the first three digits plus the last four would leave almost
        # nothing hidden, so keep only the last four.
        return "*" * (length - 4) + number[-4:]
    return "*" * length


def mask_name(value: str) -> str:
    # Keep exactly the first character: 张三 → 张*, 张三丰 → 张**, 欧阳修 → 欧**. A fixed rule needs
    # no list of compound surnames and never shows more than the first character of the surname.
    name = normalise_text(value)
    if len(name) <= 1:
        return "*" * len(name)
    return name[0] + "*" * (len(name) - 1)


def mask_address(value: str) -> str:
    # Keep the part before the house number (province … road or compound), hide the rest.
    address = normalise_text(value)
    if not address:
        return ""
    match = _HOUSE_NUMBER_RE.search(address)
    # Without a house number, keep the first few characters but never half the address or more.
    cut = match.start() if match else min(ADDRESS_FALLBACK_KEEP, len(address) // 2)
    return address[:cut].rstrip() + ADDRESS_MASK


def mask_tags(value: str) -> str:
    # Even the number of special-population tags says something about a person.
    return TAGS_MASK if normalise_text(value) else ""


def mask_secret(value: str) -> str:
    # A fixed mask: not even a secret's length is shown.
    return SECRET_MASK if value else ""


_MASKERS = {
    PIIKind.ID_NUMBER: mask_id_number,
    PIIKind.PHONE: mask_phone,
    PIIKind.NAME: mask_name,
    PIIKind.ADDRESS: mask_address,
    PIIKind.TAGS: mask_tags,
    PIIKind.SECRET: mask_secret,
}


def mask(value: str | None, kind: str) -> str:
    """The masked form of ``value`` for a kind of personal data; empty for None or ''."""
    try:
        masker = _MASKERS[PIIKind(kind)]
    except ValueError:
        raise ValueError(f"unknown kind of personal data: {kind!r}") from None
    return masker(str(value)) if value else ""


# An 18-character ID number with a plausible birth date (1800–2099), not inside a longer token.
_ID_IN_TEXT_RE = re.compile(
    r"(?<![0-9A-Za-z])([1-9]\d{5})(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])"
    r"(\d{3}[0-9Xx])(?![0-9A-Za-z])"
)
# A mainland mobile number, optionally after +86/0086/86, with optional spaces or hyphens.
_MOBILE_IN_TEXT_RE = re.compile(
    r"(?<![0-9])(?:(?:\+|00)?86[\s-]?)?(1[3-9]\d)[\s-]?\d{4}[\s-]?(\d{4})(?![0-9])"
)


def mask_text(text: str) -> str:
    """Mask every ID number and mobile number found in free text (log lines, notes)."""
    text = _ID_IN_TEXT_RE.sub(lambda m: f"{m[1]}********{m[2]}", text)
    return _MOBILE_IN_TEXT_RE.sub(lambda m: f"{m[1]}****{m[2]}", text)


class PIIMaskingFilter(logging.Filter):
    """Masks ID and mobile numbers in log records; attach it to handlers, not loggers.

    A filter on a logger does not see records propagated from its children, while a filter on
    a handler sees everything that handler writes. The message is formatted here, once, so the
    arguments cannot bring an unmasked value back later; tracebacks are masked too.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:
            # A broken format string is the logging module's error to report, not ours.
            return True
        record.msg, record.args = mask_text(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_text(record.exc_text)
        if record.stack_info:
            record.stack_info = mask_text(record.stack_info)
        return True

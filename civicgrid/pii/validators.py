"""Validators and normalisers for resident ID numbers (身份证号) and mainland mobile numbers.

Normalisers never raise: they give the canonical spelling that masking and blind indexes use,
so "+86 138-0013-8000" and "13800138000" index alike. Validators normalise, then check.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

# GB 11643-1999: weights of the 17 body digits and the check character for each sum mod 11
# (ISO 7064 MOD 11-2).
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK_CHARS = "10X98765432"
ID_NUMBER_RE = re.compile(r"^[1-9]\d{16}[\dX]$")
# Mainland mobile numbers: 11 digits, 13x–19x (MIIT numbering plan).
MOBILE_RE = re.compile(r"^1[3-9]\d{9}$")
_SEPARATORS_RE = re.compile(r"[\s\-()]+")
_COUNTRY_PREFIX_RE = re.compile(r"^(?:\+86|0086|86)(?=\d{11}$)")
# People born before this are not expected among living residents; earlier dates are typos.
EARLIEST_BIRTH_YEAR = 1880


def _nfkc(value: str) -> str:
    # NFKC turns full-width digits and letters (１２３Ｘ, common from Chinese IMEs) into ASCII.
    return unicodedata.normalize("NFKC", value)


def normalise_id_number(value: str) -> str:
    """Canonical ID number: ASCII, upper-case X, without spaces or hyphens."""
    return _SEPARATORS_RE.sub("", _nfkc(value or "")).upper()


def normalise_mobile(value: str) -> str:
    """Canonical mobile number: 11 digits, without +86, spaces, hyphens or brackets."""
    compact = _SEPARATORS_RE.sub("", _nfkc(value or ""))
    return _COUNTRY_PREFIX_RE.sub("", compact)


def normalise_text(value: str) -> str:
    """Canonical free text (names, addresses, tags): NFKC with runs of white space collapsed."""
    return " ".join(_nfkc(value or "").split())


def id_check_char(body: str) -> str:
    """The GB 11643 check character for the first 17 digits."""
    total = sum(int(digit) * weight for digit, weight in zip(body, ID_WEIGHTS, strict=True))
    return ID_CHECK_CHARS[total % 11]


def id_birth_date(number: str) -> date | None:
    """The birth date encoded in characters 7–14 of a normalised ID number, or None if not a date."""
    try:
        return date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return None


def validate_id_number(value: str) -> None:
    number = normalise_id_number(value)
    if len(number) != 18:
        raise ValidationError(
            _("An ID number has 18 characters; this one has %(length)d."),
            code="id_number_length",
            params={"length": len(number)},
        )
    if not ID_NUMBER_RE.match(number):
        raise ValidationError(
            _("An ID number is 17 digits followed by a digit or X, and does not start with 0."),
            code="id_number_format",
        )
    born = id_birth_date(number)
    if born is None or born.year < EARLIEST_BIRTH_YEAR:
        raise ValidationError(
            _("The birth date in this ID number (%(date)s) is not a valid date."),
            code="id_number_birth_date",
            params={"date": number[6:14]},
        )
    if born > date.today():
        raise ValidationError(
            _("The birth date in this ID number (%(date)s) is in the future."),
            code="id_number_birth_date",
            params={"date": number[6:14]},
        )
    if id_check_char(number[:17]) != number[17]:
        raise ValidationError(
            _("The last character (check digit) of this ID number does not match; check for a typo."),
            code="id_number_check_digit",
        )


def validate_mobile(value: str) -> None:
    if not MOBILE_RE.match(normalise_mobile(value)):
        raise ValidationError(
            _(
                "Enter a mainland mobile number: 11 digits starting with 13 to 19, "
                "optionally after +86 (spaces and hyphens are fine)."
            ),
            code="mobile",
        )

"""Query parameters the apps' selectors share, refused in the one error shape."""

from __future__ import annotations

from datetime import date

from django.utils.translation import gettext as _

from civicgrid.errors import DomainError


def parse_day(value, field: str | None = None) -> date | None:
    """A day given as ``YYYY-MM-DD`` (or a ``date``); empty → None; anything else → 400 bad_date."""
    if isinstance(value, date) or value is None:
        return value
    value = str(value).strip()
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        if field:
            message = _("Give %(field)s as YYYY-MM-DD.") % {"field": field}
        else:
            message = _("Give dates as YYYY-MM-DD.")
        raise DomainError("bad_date", message) from None

"""Links from the command centre's figures to the case list behind them."""

from __future__ import annotations

from datetime import date
from urllib.parse import urlencode

CASE_LIST = "/cases/list/"  # the filtered case list (cases.urls "case-list"; /cases/ is the to-do page)


def case_list_url(**filters) -> str:
    """The case list filtered by ``filters`` (None and "" left out; dates as ISO; lists joined)."""
    params = {}
    for key, value in filters.items():
        if value is None or value == "":
            continue
        if isinstance(value, date):
            value = value.isoformat()
        elif isinstance(value, (list, tuple)):
            value = ",".join(str(v) for v in value)
        params[key] = str(value)
    return CASE_LIST + (f"?{urlencode(params, safe=',')}" if params else "")

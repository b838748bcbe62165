"""Grid codes: built and parsed from one configurable format.

The default is the CJ/T 213 unit-grid rule — 6-digit county + 3-digit street + 3-digit
community + 2-digit sequence = 14 digits — and Beijing's DB11/T 2157 (3-digit sequence,
15 digits) is one setting away: ``CIVICGRID_GRID_CODE_FORMAT="{county}{street}{community}{seq:03d}"``.
County + street + community are exactly the community's 12-digit statistical code.
"""

from __future__ import annotations

import re
import string
from functools import lru_cache

from django.conf import settings

_FIELD_WIDTH = {"county": 6, "street": 3, "community": 3}


def grid_code(community_code: str, seq: int, fmt: str | None = None) -> str:
    """The grid code for sequence ``seq`` inside the community with 12-digit code ``community_code``."""
    fmt = fmt or settings.GRID_CODE_FORMAT
    return fmt.format(
        county=community_code[:6], street=community_code[6:9], community=community_code[9:12], seq=seq
    )


@lru_cache(maxsize=8)
def _pattern(fmt: str) -> re.Pattern[str]:
    parts = []
    for literal, name, spec, _conv in string.Formatter().parse(fmt):
        parts.append(re.escape(literal))
        if name is None:
            continue
        if name in _FIELD_WIDTH:
            parts.append(rf"(?P<{name}>\d{{{_FIELD_WIDTH[name]}}})")
        elif name == "seq":
            width = int(re.sub(r"\D", "", spec) or "1")
            parts.append(rf"(?P<seq>\d{{{width}}})")
        else:
            raise ValueError(f"unknown field {{{name}}} in grid code format {fmt!r}")
    return re.compile("".join(parts) + r"\Z")


def parse_grid_code(code: str, fmt: str | None = None) -> tuple[str, int] | None:
    """(community 12-digit code, sequence) of a grid code, or None if it does not fit the format."""
    match = _pattern(fmt or settings.GRID_CODE_FORMAT).match(code)
    if not match:
        return None
    return match["county"] + match["street"] + match["community"], int(match["seq"])

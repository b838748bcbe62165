"""Typed helpers that read settings from ``CIVICGRID_*`` environment variables.

Settings come only from the environment (twelve-factor, as healthchecks does); every helper
takes the name without the prefix. A ``NAME_FILE`` variable, when set, is read instead of
``NAME`` so secrets can live in files mounted by the operator.
"""

from __future__ import annotations

import os
from pathlib import Path

PREFIX = "CIVICGRID_"


def envstr(name: str, default: str = "") -> str:
    file_path = os.environ.get(f"{PREFIX}{name}_FILE")
    if file_path:
        return Path(file_path).read_text(encoding="utf-8").strip()
    return os.environ.get(f"{PREFIX}{name}", default)


def envbool(name: str, default: bool) -> bool:
    value = os.environ.get(f"{PREFIX}{name}")
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def envint(name: str, default: int) -> int:
    value = os.environ.get(f"{PREFIX}{name}")
    return default if value in (None, "") else int(value)


def envfloat(name: str, default: float) -> float:
    value = os.environ.get(f"{PREFIX}{name}")
    return default if value in (None, "") else float(value)


def envlist(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(f"{PREFIX}{name}")
    if not value:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]

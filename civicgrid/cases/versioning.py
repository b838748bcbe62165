"""Optimistic concurrency on cases: every change names the version its writer saw, and the loser
of a race is told to reload. One place for the check and the guarded write, used by the case
moves, merging and the 四级四事 tier moves alike."""

from __future__ import annotations

from django.utils.translation import gettext as _

from civicgrid.cases.models import Case
from civicgrid.errors import DomainError


def stale_version(case: Case | None = None) -> DomainError:
    detail = {"version": case.version} if case is not None else None
    return DomainError(
        "stale_version", _("Someone else changed this case meanwhile; reload it."), detail, status=409
    )


def check_version(case: Case, version: int | None) -> None:
    """Refuse a change made from an older view of the case (``None``: the caller saw no version)."""
    if version is not None and version != case.version:
        raise stale_version(case)


def write_versioned(case: Case, seen: int, fields: dict) -> None:
    """Write ``fields`` only if the case is still at version ``seen``."""
    if not Case.objects.filter(pk=case.pk, version=seen).update(**fields):
        raise stale_version()

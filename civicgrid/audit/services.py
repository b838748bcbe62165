"""Writes to the audit trail: append one record, purge the oldest past retention.

Every append takes the chain lock, reads the hash of the last record and seals the new one onto
it, all in one transaction, so two writers (threads, processes or machines) never chain onto the
same predecessor.
"""

from __future__ import annotations

import ipaddress
import json
import re
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from civicgrid.audit.models import GENESIS, AuditAnchor, AuditRecord, AuditResult
from civicgrid.errors import DomainError

# 等保 2.0 level 3 keeps audit records for at least six months.
MIN_RETENTION_DAYS = 180
# Key of the PostgreSQL advisory lock that serialises appends and purges ("audi" in ASCII).
CHAIN_LOCK_KEY = 0x61756469
ACTION_PATTERN = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$")
# Set on a request whose refusal is on the trail already, so outer layers do not add another.
DENIAL_RECORDED = "_audit_denial_recorded"


def _lock_chain() -> None:
    """Hold the chain for the rest of the current transaction. Call inside ``transaction.atomic()``.

    PostgreSQL: the advisory lock comes first. ``SELECT … ORDER BY id DESC LIMIT 1 FOR UPDATE``
    alone would not do: a writer waiting on the last row gets that same row back once the first
    writer commits (the LIMIT is not re-evaluated) and forks the chain, and an empty table has no
    row to lock at all. After the advisory lock, each statement in READ COMMITTED (Django's
    default) sees the rows committed by the writer before.

    SQLite: the project opens write transactions with BEGIN IMMEDIATE, so the whole transaction
    already holds the database's single write lock; a second process waits (busy_timeout) before
    it can read the last row.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [CHAIN_LOCK_KEY])


def _chain_head_hash() -> str:
    # FOR UPDATE as well, belt and braces: it holds the row we chain onto against a DELETE from
    # any path that did not take the advisory lock. SQLite ignores FOR UPDATE.
    last = AuditRecord._base_manager.select_for_update().order_by("-id").values_list("hash", flat=True)[:1]
    for value in last:
        return value
    anchor = AuditAnchor.objects.order_by("-through_id").values_list("through_hash", flat=True).first()
    return anchor or GENESIS


def client_ip(request) -> str | None:
    """The client's address: REMOTE_ADDR, or X-Forwarded-For behind TRUSTED_PROXY_COUNT proxies.

    Each trusted proxy appends the address it received from, so with N proxies the client is the
    N-th entry from the right; anything further left was written by the client and may be a lie.
    """
    meta = request.META
    candidate = meta.get("REMOTE_ADDR")
    proxies = int(getattr(settings, "TRUSTED_PROXY_COUNT", 0) or 0)
    if proxies > 0:
        forwarded = [part.strip() for part in meta.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        if forwarded:
            candidate = forwarded[max(len(forwarded) - proxies, 0)]
    try:
        return str(ipaddress.ip_address((candidate or "").strip()))
    except ValueError:
        return None


def _text(value: Any, limit: int) -> str:
    # PostgreSQL text and jsonb refuse NUL; attempted usernames come from strangers.
    return str(value or "").replace("\x00", "")[:limit]


def _scrub(value: Any) -> Any:
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, dict):
        return {_scrub(str(k)): _scrub(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub(v) for v in value]
    return value


def _jsonable(detail: dict[str, Any] | None) -> dict[str, Any]:
    # Round-trip now so the value sealed is exactly the value the database gives back
    # (dates become strings, tuples lists, Decimals strings).
    if detail is None:
        return {}
    if not isinstance(detail, dict):
        raise TypeError("audit detail must be a dict")
    return _scrub(json.loads(json.dumps(detail, cls=DjangoJSONEncoder, allow_nan=False)))


# The request being served, set by AuditDeniedMiddleware for the duration of the request.
current_request: ContextVar = ContextVar("civicgrid_audit_request", default=None)


def audit_record(
    *,
    action: str,
    result: str = AuditResult.SUCCESS,
    actor=None,
    request=None,
    object_type: str = "",
    object_id: Any = "",
    detail: dict[str, Any] | None = None,
) -> AuditRecord:
    """Append one record to the trail and return it.

    ``action`` is a short dotted code ("auth.login", "export.geojson", "pii.reveal"). The actor
    and IP come from ``request`` unless ``actor`` is given. ``detail`` is for context and must
    hold no secrets: pass masked values (a phone as 138****5678), never passwords or tokens.
    Call it inside the caller's transaction when the write it records may roll back, so both
    go or stay together; a denial should be recorded outside any transaction that rolls back.
    """
    if not ACTION_PATTERN.match(action):
        raise ValueError(f"audit action must be a dotted lower-case code, got {action!r}")
    result = AuditResult(result)
    if request is None:
        # Services do not take the request; the middleware lends it so "from where" is known.
        request = current_request.get()
    if actor is None and request is not None:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            actor = user
    record = AuditRecord(
        actor=actor,
        actor_name=_text(actor.get_username() if actor is not None else "", 150),
        ip=client_ip(request) if request is not None else None,
        action=action,
        object_type=_text(object_type, 64),
        object_id=_text(object_id, 128),
        result=result.value,
        detail=_jsonable(detail),
    )
    with transaction.atomic():
        _lock_chain()
        record.prev_hash = _chain_head_hash()
        # Taken under the lock so times never go backwards along the chain (on one clock).
        record.at = timezone.now()
        record.save(force_insert=True)
        # The id is part of what is sealed and the database assigns it on insert, so the hash
        # is written in a second statement of the same transaction; nobody sees the row unsealed.
        record.hash = record.compute_hash()
        AuditRecord._base_manager.filter(pk=record.pk).update(hash=record.hash)
    return record


def audit_record_denial(
    *, request, object_type: str = "url", object_id: str = "", detail: dict[str, Any] | None = None
) -> AuditRecord | None:
    """Record that ``request`` was refused, once per request however many layers refuse it."""
    if getattr(request, DENIAL_RECORDED, False):
        return None
    setattr(request, DENIAL_RECORDED, True)
    return audit_record(
        action="access.denied",
        result=AuditResult.DENIED,
        request=request,
        object_type=object_type,
        object_id=object_id or request.path,
        detail={"method": request.method, **(detail or {})},
    )


@dataclass(frozen=True)
class PurgeReport:
    before: datetime
    count: int
    first_id: int | None
    last_id: int | None
    last_at: datetime | None
    committed: bool


def retention_cutoff(*, days: int | None = None, now: datetime | None = None) -> datetime:
    days = settings.AUDIT_RETENTION_DAYS if days is None else days
    return (now or timezone.now()) - timedelta(days=days)


def audit_purge(
    *,
    before: datetime,
    commit: bool = False,
    force: bool = False,
    actor=None,
    context: dict[str, Any] | None = None,
) -> PurgeReport:
    """Remove the records older than ``before``; a dry run unless ``commit``.

    The chain stays verifiable: an ``AuditAnchor`` keeps the last purged record's id and hash,
    and an ``audit.purge`` record appended in the same transaction names them too. ``context``
    (how it was run) goes into that record.
    """
    if before > retention_cutoff(days=MIN_RETENTION_DAYS) and not force:
        raise DomainError(
            "retention_too_short",
            _("Audit records must be kept at least %(days)d days.") % {"days": MIN_RETENTION_DAYS},
            {"before": before.isoformat(), "minimum_days": MIN_RETENTION_DAYS},
        )
    with transaction.atomic():
        if commit:
            _lock_chain()
        base = AuditRecord._base_manager
        # `at` is taken under the chain lock, so the records older than `before` are a prefix of
        # the chain in id order; purging by id keeps it a prefix even if a clock stepped back.
        last = base.filter(at__lt=before).order_by("-id").values("id", "hash", "at").first()
        if last is None:
            return PurgeReport(before, 0, None, None, None, committed=False)
        doomed = base.filter(id__lte=last["id"])
        count = doomed.count()
        first_id = doomed.order_by("id").values_list("id", flat=True).first()
        if not commit:
            return PurgeReport(before, count, first_id, last["id"], last["at"], committed=False)
        anchor = AuditAnchor.objects.create(
            through_id=last["id"],
            through_hash=last["hash"],
            through_at=last["at"],
            purged_count=count,
            created_at=timezone.now(),
        )
        doomed.delete()
        audit_record(
            action="audit.purge",
            actor=actor,
            object_type="audit.anchor",
            object_id=anchor.pk,
            detail={
                "through_id": last["id"],
                "through_hash": last["hash"],
                "through_at": last["at"],
                "count": count,
                "before": before,
                **(context or {}),
            },
        )
    return PurgeReport(before, count, first_id, last["id"], last["at"], committed=True)

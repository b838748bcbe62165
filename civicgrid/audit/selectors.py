"""Reads of the audit trail: who is an auditor, search, and the chain check.

Separation of duties (三权分立): only auditors read the trail. Superusers and system
administrators are not auditors unless they hold the role, and to everybody else the trail
does not exist (404), so its existence does not leak.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.db import connection, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from civicgrid.audit.models import GENESIS, SEALED_FIELDS, AuditAnchor, AuditRecord, record_hash
from civicgrid.errors import NotFound

AUDITOR_ROLE = "auditor"
VERIFY_BATCH_SIZE = 5000


def is_auditor(user) -> bool:
    """Does ``user`` hold the auditor role today?"""
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    # Imported here: accounts owns roles and may import audit to record its own writes.
    from civicgrid.accounts.models import RoleAssignment

    today = timezone.localdate()
    return (
        RoleAssignment.objects.filter(user=user, role=AUDITOR_ROLE, valid_from__lte=today)
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gte=today))
        .exists()
    )


def _require_auditor(user) -> None:
    if not is_auditor(user):
        raise NotFound("not_found", _("Not found."))


def _moment(value: date | datetime, *, end: bool) -> datetime:
    # A bare date means the whole day in the district's time zone: `until` includes that day.
    if isinstance(value, datetime):
        return value if timezone.is_aware(value) else timezone.make_aware(value)
    day = value + timedelta(days=1) if end else value
    return timezone.make_aware(datetime.combine(day, time.min))


def audit_search(
    *,
    user,
    q: str | None = None,
    action: str | None = None,
    actor: str | None = None,
    since: date | datetime | None = None,
    until: date | datetime | None = None,
) -> QuerySet[AuditRecord]:
    """Records matching the filters, newest first; raises NotFound unless ``user`` is an auditor.

    ``q`` is an IP address, or text found in the actor, action or object; ``action`` is a code
    or a prefix such as ``auth.*``; ``actor`` is the username as recorded (it survives the user's
    deletion); ``since`` is inclusive and ``until`` exclusive (a date includes its whole day).
    """
    _require_auditor(user)
    return audit_filter(
        AuditRecord.objects.order_by("-id"), q=q, action=action, actor=actor, since=since, until=until
    )


def audit_operator_records(
    *, since: date | datetime | None = None, until: date | datetime | None = None
) -> QuerySet[AuditRecord]:
    """Records for ``civicgrid audit export`` on the server, which needs no auditor check:
    whoever runs commands there already holds the database. The export itself is recorded."""
    return audit_filter(AuditRecord.objects.order_by("-id"), since=since, until=until)


def audit_filter(records, *, q=None, action=None, actor=None, since=None, until=None):
    """Narrow a queryset of records; the checks on who may read are the callers'."""
    if q:
        q = q.strip()
        try:
            records = records.filter(ip=str(ipaddress.ip_address(q)))
        except ValueError:
            records = records.filter(
                Q(actor_name__icontains=q)
                | Q(action__icontains=q)
                | Q(object_type__icontains=q)
                | Q(object_id__icontains=q)
            )
    if action:
        if action.endswith(".*"):
            records = records.filter(action__startswith=action[:-1])
        else:
            records = records.filter(action=action)
    if actor:
        records = records.filter(actor_name=actor)
    if since:
        records = records.filter(at__gte=_moment(since, end=False))
    if until:
        records = records.filter(at__lt=_moment(until, end=True))
    return records


@dataclass(frozen=True)
class ChainBreak:
    """One place where the chain does not hold. ``kind``: edited, gap, start or anchor."""

    kind: str
    record_id: int | None
    at: datetime | None
    message: str
    previous_id: int | None = None
    previous_at: datetime | None = None

    def as_dict(self) -> dict:
        return {
            "kind": self.kind,
            "record_id": self.record_id,
            "at": self.at.isoformat() if self.at else None,
            "previous_id": self.previous_id,
            "previous_at": self.previous_at.isoformat() if self.previous_at else None,
            "message": self.message,
        }


@dataclass
class ChainReport:
    checked: int = 0
    head_id: int | None = None
    head_hash: str | None = None
    break_count: int = 0
    breaks: list[ChainBreak] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.break_count == 0

    def as_dict(self) -> dict:
        return {
            "ok": self.ok,
            "checked": self.checked,
            "head_id": self.head_id,
            "head_hash": self.head_hash,
            "break_count": self.break_count,
            "breaks": [b.as_dict() for b in self.breaks],
        }


def _stream(batch_size: int) -> Iterator[dict]:
    # Keyset pages in id order: memory stays flat however long the trail is.
    after = 0
    columns = (*SEALED_FIELDS, "hash")
    while True:
        rows = list(
            AuditRecord._base_manager.filter(id__gt=after).order_by("id").values(*columns)[:batch_size]
        )
        yield from rows
        if len(rows) < batch_size:
            return
        after = rows[-1]["id"]


def _recomputed_hash(row: dict) -> str | None:
    try:
        return record_hash(row)
    except (ValueError, TypeError, KeyError):
        return None  # a value no writer could have stored (say, a bad IP on SQLite): edited


def iter_chain_breaks(
    *, batch_size: int = VERIFY_BATCH_SIZE, progress: ChainReport | None = None
) -> Iterator[ChainBreak]:
    """Walk the chain from its start (genesis or the latest purge anchor) and yield each break.

    An edited record's stored hash differs from its recomputed one. A deleted record leaves a
    gap: the next record's ``prev_hash`` is not the hash of the record before it. ``progress``,
    when given, is updated with the count and the head as the walk goes.
    """
    anchor = AuditAnchor.objects.order_by("-through_id").first()
    expected = anchor.through_hash if anchor else GENESIS
    anchor_confirmed = anchor is None
    previous = None
    for row in _stream(batch_size):
        if row["prev_hash"] != expected:
            if previous is None:
                yield ChainBreak(
                    "start",
                    row["id"],
                    row["at"],
                    _(
                        "The first record #%(id)d does not follow the start of the chain: records before it were deleted."
                    )
                    % {"id": row["id"]},
                )
            else:
                yield ChainBreak(
                    "gap",
                    row["id"],
                    row["at"],
                    _(
                        "Record #%(id)d does not follow record #%(prev)d: records between them were deleted, "
                        "or #%(prev)d was rewritten together with its hash."
                    )
                    % {"id": row["id"], "prev": previous["id"]},
                    previous["id"],
                    previous["at"],
                )
        if _recomputed_hash(row) != row["hash"]:
            yield ChainBreak(
                "edited",
                row["id"],
                row["at"],
                _("Record #%(id)d was changed after it was written.") % {"id": row["id"]},
            )
        if anchor and row["action"] == "audit.purge" and not anchor_confirmed:
            detail = row["detail"] if isinstance(row["detail"], dict) else {}
            anchor_confirmed = (
                detail.get("through_id") == anchor.through_id
                and detail.get("through_hash") == anchor.through_hash
            )
        # Link to the stored hash: an edit is then reported once, at the edited record.
        expected = row["hash"]
        previous = row
        if progress is not None:
            progress.checked += 1
            progress.head_id, progress.head_hash = row["id"], row["hash"]
    if not anchor_confirmed:
        yield ChainBreak(
            "anchor",
            anchor.through_id,
            anchor.through_at,
            _("The purge anchor at record #%(id)d is not confirmed by an audit.purge record in the chain.")
            % {"id": anchor.through_id},
        )


@contextmanager
def chain_snapshot():
    """One consistent view of anchor and records for a whole walk.

    PostgreSQL: a REPEATABLE READ, READ ONLY transaction, so a purge committing half-way through
    the walk does not look like deleted records. Not on SQLite, where the project's BEGIN
    IMMEDIATE would hold the write lock for the whole walk; each batch there is its own read.
    Not inside an outer transaction either, whose isolation is already fixed.
    """
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        yield
        return
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        yield


def audit_chain_verify(*, batch_size: int = VERIFY_BATCH_SIZE, keep: int = 100) -> ChainReport:
    """Check the whole chain; the report keeps the first ``keep`` breaks and counts them all."""
    report = ChainReport()
    with chain_snapshot():
        for found in iter_chain_breaks(batch_size=batch_size, progress=report):
            report.break_count += 1
            if len(report.breaks) < keep:
                report.breaks.append(found)
    return report


def audit_checkpoint_matches(*, record_id: int, expected_hash: str) -> bool:
    """Is the record an operator noted earlier (id and hash kept off this database) unchanged?

    A plain hash chain cannot stop someone who rewrites every hash after an edit; comparing with
    a head noted elsewhere does.
    """
    stored = AuditRecord._base_manager.filter(id=record_id).values_list("hash", flat=True).first()
    return stored is not None and stored == expected_hash.strip().lower()

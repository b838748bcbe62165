"""The audit trail: append-only records chained by SHA-256 so an edit or a deletion shows.

Canonical form (what ``AuditRecord.hash`` seals)
------------------------------------------------
A record's hash is ``sha256(canonical).hexdigest()`` where ``canonical`` is the UTF-8 encoding of::

    json.dumps(
        {
            "id": 17,                                    # integer
            "at": "2025-06-01T02:03:04.123456+00:00",    # UTC, isoformat(timespec="microseconds")
            "actor_name": "zhangsan",                    # username snapshot, "" when nobody
            "ip": "10.1.2.3",                            # str(ipaddress.ip_address(ip)) or null
            "action": "auth.login",
            "object_type": "user",
            "object_id": "42",
            "result": "success",                         # success | failure | denied
            "detail": {...},                             # floats with no fraction written as ints
            "prev_hash": "<64 hex digits>",
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )

Every stored field is covered except ``hash`` itself and the ``actor`` foreign key: deleting a
user sets ``actor`` to NULL (a legitimate change), so the sealed identity is ``actor_name``.
Integral floats are written as integers because PostgreSQL's jsonb gives ``1e+20`` back as
``100000000000000000000``; without that rule a re-read record would look edited.

The first record's ``prev_hash`` is 64 zeros (``GENESIS``). After a purge, the chain starts at
the latest ``AuditAnchor``: the first surviving record's ``prev_hash`` is the anchor's hash.

``detail`` must never hold secrets: callers pass masked values (``138****5678``), never
passwords, tokens or full ID numbers; the trail is readable by auditors and is exported.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

GENESIS = "0" * 64
# Fields sealed by the hash, in the order exports list them.
SEALED_FIELDS = (
    "id",
    "at",
    "actor_name",
    "ip",
    "action",
    "object_type",
    "object_id",
    "result",
    "detail",
    "prev_hash",
)


class AppendOnlyError(Exception):
    """Application code tried to change or remove audit history."""


class AuditResult(models.TextChoices):
    SUCCESS = "success", _("success")
    FAILURE = "failure", _("failure")
    DENIED = "denied", _("denied")


def _canonical_json_value(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {str(k): _canonical_json_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_canonical_json_value(v) for v in value]
    return value


def canonical_ip(value: str | None) -> str | None:
    return str(ipaddress.ip_address(value)) if value else None


def canonical_at(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def record_hash(fields: dict[str, Any]) -> str:
    """SHA-256 of the canonical form of ``fields`` (a dict holding every name in SEALED_FIELDS)."""
    data = {
        "id": int(fields["id"]),
        "at": canonical_at(fields["at"]),
        "actor_name": fields["actor_name"],
        "ip": canonical_ip(fields["ip"]),
        "action": fields["action"],
        "object_type": fields["object_type"],
        "object_id": fields["object_id"],
        "result": str(AuditResult(fields["result"]).value),
        "detail": _canonical_json_value(fields["detail"]),
        "prev_hash": fields["prev_hash"],
    }
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class AuditRecordQuerySet(models.QuerySet):
    """Refuses bulk changes: history is written only by ``services.audit_record``.

    Django's deletion collector uses ``_base_manager`` (a plain manager), so deleting a user still
    sets ``actor`` to NULL; purge goes through the base manager on purpose, too.
    """

    def update(self, **kwargs):
        raise AppendOnlyError(gettext("Audit records cannot be changed."))

    def delete(self):
        raise AppendOnlyError(gettext("Audit records cannot be deleted; old ones are purged by retention."))

    def bulk_create(self, *args, **kwargs):
        raise AppendOnlyError(gettext("Audit records are written one at a time by audit_record()."))

    def bulk_update(self, *args, **kwargs):
        raise AppendOnlyError(gettext("Audit records cannot be changed."))


class AuditRecord(models.Model):
    """One thing that happened: who, when, from where, what, to what, with what result."""

    id = models.BigAutoField(primary_key=True)
    at = models.DateTimeField(_("at"), db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    actor_name = models.CharField(_("actor name"), max_length=150, blank=True)
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    action = models.CharField(_("action"), max_length=64)
    object_type = models.CharField(_("object type"), max_length=64, blank=True)
    object_id = models.CharField(_("object id"), max_length=128, blank=True)
    result = models.CharField(_("result"), max_length=16, choices=AuditResult.choices)
    detail = models.JSONField(_("detail"), default=dict, blank=True)
    prev_hash = models.CharField(_("previous hash"), max_length=64)
    hash = models.CharField(_("hash"), max_length=64)

    objects = AuditRecordQuerySet.as_manager()

    class Meta:
        verbose_name = _("audit record")
        verbose_name_plural = _("audit records")
        ordering = ["-id"]
        indexes = [
            # Auditors ask "what did this person do" and "who touched this object".
            models.Index(fields=["actor_name", "at"], name="audit_actor_at"),
            models.Index(fields=["action", "at"], name="audit_action_at"),
            models.Index(fields=["object_type", "object_id"], name="audit_object"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(result__in=AuditResult.values), name="audit_record_result_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.id} {self.action} {self.actor_name or '-'} {self.result}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError(gettext("Audit records cannot be changed."))
        if not self.prev_hash:
            raise AppendOnlyError(
                gettext(
                    "Write audit records with civicgrid.audit.services.audit_record(), which chains them."
                )
            )
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError(gettext("Audit records cannot be deleted; old ones are purged by retention."))

    def sealed_fields(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in SEALED_FIELDS}

    def compute_hash(self) -> str:
        return record_hash(self.sealed_fields())


class AuditAnchorQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError(gettext("Purge anchors cannot be changed."))

    def delete(self):
        raise AppendOnlyError(gettext("Purge anchors cannot be deleted."))


class AuditAnchor(models.Model):
    """Where the chain starts after a purge: the id, hash and time of the last purged record.

    Each purge also appends an ``audit.purge`` record naming the same id and hash, so a forged
    anchor (records deleted from the head and an anchor written to cover it) does not verify.
    """

    through_id = models.BigIntegerField(_("purged through record"), unique=True)
    through_hash = models.CharField(_("hash of that record"), max_length=64)
    through_at = models.DateTimeField(_("time of that record"))
    purged_count = models.PositiveIntegerField(_("records purged"))
    created_at = models.DateTimeField(_("purged at"))

    objects = AuditAnchorQuerySet.as_manager()

    class Meta:
        verbose_name = _("audit purge anchor")
        verbose_name_plural = _("audit purge anchors")
        ordering = ["-through_id"]

    def __str__(self) -> str:
        return f"≤ #{self.through_id} ({self.purged_count})"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError(gettext("Purge anchors cannot be changed."))
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError(gettext("Purge anchors cannot be deleted."))

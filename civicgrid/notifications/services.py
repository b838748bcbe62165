"""Send messages: always to the in-app centre, and to outside channels for the kinds that matter."""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from civicgrid.accounts.models import User
from civicgrid.notifications.channels import channels, log
from civicgrid.notifications.models import Delivery, Notification


def notify(
    *, user_ids: Iterable[int], kind: str, title: str, body: str = "", link: str = "", case=None
) -> list[Notification]:
    """One message per user. Outside channels run after the commit, so a rollback sends nothing."""
    rows = [
        Notification(user_id=uid, kind=kind, title=title[:200], body=body, link=link, case=case)
        for uid in sorted(set(user_ids))
    ]
    Notification.objects.bulk_create(rows)
    if rows and kind in settings.NOTIFY_EXTERNAL_KINDS:
        ids = [n.pk for n in rows if n.pk is not None]
        transaction.on_commit(lambda: deliver(ids))
    return rows


def deliver(notification_ids: list[int]) -> None:
    """Hand messages to every configured channel and record each outcome (never raises)."""
    found = Notification.objects.filter(pk__in=notification_ids).select_related("user")
    deliveries = []
    for notification in found:
        for channel in channels():
            try:
                ok, detail = channel.send(notification.user, notification)
            except Exception as exc:  # a broken gateway must not break the move that sent it
                log.exception("channel %s failed", channel.name)
                ok, detail = False, type(exc).__name__
            deliveries.append(
                Delivery(notification=notification, channel=channel.name, ok=ok, detail=detail[:200])
            )
    Delivery.objects.bulk_create(deliveries)


def notification_mark_read(*, user: User, ids: list[int] | None = None) -> int:
    """Mark the user's messages read (all unread ones when ``ids`` is None)."""
    query = Notification.objects.filter(user=user, read_at__isnull=True)
    if ids is not None:
        query = query.filter(pk__in=ids)
    return query.update(read_at=timezone.now())

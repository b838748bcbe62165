"""A person reads only their own messages."""

from __future__ import annotations

from django.db.models import QuerySet

from civicgrid.notifications.models import Notification


def notification_list(*, user, unread_only: bool = False) -> QuerySet[Notification]:
    query = Notification.objects.filter(user=user)
    if unread_only:
        query = query.filter(read_at__isnull=True)
    return query.select_related("case")


def notification_unread_count(*, user) -> int:
    if not getattr(user, "is_authenticated", False):
        return 0
    return Notification.objects.filter(user=user, read_at__isnull=True).count()

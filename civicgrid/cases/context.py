"""The top bar's case links: the unread-message badge and whether "new case" is offered.

Registered as a template context processor, so it runs on every page: it costs nothing for
anonymous visitors and one query, on first use, for a signed-in person (no scope computation,
which walks the whole region tree).
"""

from __future__ import annotations

from django.db.models import Count, Exists, IntegerField, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.functional import cached_property

from civicgrid.accounts.models import GridStaffing, RoleAssignment, User
from civicgrid.cases.services import CHANNEL_ROLES
from civicgrid.notifications.models import Notification

BADGE_MAX = 99


class CaseNav:
    def __init__(self, user):
        self._user = user

    @cached_property
    def _row(self) -> dict:
        today = timezone.localdate()
        unread = (
            Notification.objects.filter(user=OuterRef("pk"), read_at__isnull=True)
            .order_by()
            .values("user")
            .annotate(n=Count("id"))
            .values("n")
        )
        roles = sorted({role for roles in CHANNEL_ROLES.values() for role in roles})
        assigned = RoleAssignment.objects.filter(
            Q(valid_until__isnull=True) | Q(valid_until__gte=today),
            user=OuterRef("pk"),
            role__in=roles,
            valid_from__lte=today,
        )
        # A current grid post makes a grid worker without a role row (as in ``scope_for``).
        posted = GridStaffing.objects.filter(
            Q(end__isnull=True) | Q(end__gte=today), user=OuterRef("pk"), start__lte=today
        )
        row = (
            User.objects.filter(pk=self._user.pk)
            .annotate(
                unread=Coalesce(Subquery(unread, output_field=IntegerField()), Value(0)),
                assigned=Exists(assigned),
                posted=Exists(posted),
            )
            .values("unread", "assigned", "posted")
            .first()
        )
        return row or {"unread": 0, "assigned": False, "posted": False}

    @property
    def unread(self) -> int:
        return self._row["unread"]

    @property
    def unread_label(self) -> str:
        return f"{BADGE_MAX}+" if self.unread > BADGE_MAX else str(self.unread)

    @property
    def may_create(self) -> bool:
        return bool(self._row["assigned"] or self._row["posted"])


def case_nav(request) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"case_nav": CaseNav(user)}

"""The top bar's links: the unread-message badge, whether "new case" is offered, and the
channel and coordination pages (whistles, hotline, devices, tiers, patrols, enforcement, the
phone app) a person's roles open.

Registered as a template context processor, so it runs on every page: it costs nothing for
anonymous visitors and one query, on first use, for a signed-in person (no scope computation,
which walks the whole region tree). The pages themselves check the scope again.
"""

from __future__ import annotations

from django.db.models import Count, Exists, IntegerField, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.functional import cached_property

from civicgrid.accounts.models import COMMAND_ROLES, TIER_ROLES, GridStaffing, Role, RoleAssignment, User
from civicgrid.cases.services import CHANNEL_ROLES, PAGE_CHANNELS
from civicgrid.notifications.models import Notification

BADGE_MAX = 99
# Which roles see which link in the top bar.
NAV_ROLES = {
    "command": set(COMMAND_ROLES),
    "whistles": {
        Role.OPERATOR,
        Role.SHIFT_LEAD,
        Role.STREET_OPERATOR,
        Role.COMMUNITY_STAFF,
        Role.DEPARTMENT_HANDLER,
    },
    "hotline": {Role.OPERATOR, Role.SHIFT_LEAD},
    "devices": {Role.OPERATOR, Role.SHIFT_LEAD, Role.STREET_OPERATOR, Role.GRID_CHIEF},
    "routing": set(TIER_ROLES),
    # The phone app (/m/): also for anyone with a current grid post (see ``links``).
    "mobile": {Role.GRID_WORKER, Role.GRID_CHIEF, Role.ENFORCEMENT_OFFICER},
    "patrols": {Role.OPERATOR, Role.SHIFT_LEAD, Role.STREET_OPERATOR, Role.COMMUNITY_STAFF, Role.GRID_CHIEF},
    "enforcement": {
        Role.OPERATOR,
        Role.SHIFT_LEAD,
        Role.STREET_OPERATOR,
        Role.DEPARTMENT_HANDLER,
        Role.ENFORCEMENT_OFFICER,
    },
}


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
        roles = sorted({role for channel in PAGE_CHANNELS for role in CHANNEL_ROLES[channel]})
        current = RoleAssignment.objects.filter(
            Q(valid_until__isnull=True) | Q(valid_until__gte=today),
            user=OuterRef("pk"),
            valid_from__lte=today,
        )
        assigned = current.filter(role__in=roles)
        links = {f"link_{name}": Exists(current.filter(role__in=sorted(r))) for name, r in NAV_ROLES.items()}
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
                **links,
            )
            .values("unread", "assigned", "posted", *links)
            .first()
        )
        return row or {"unread": 0, "assigned": False, "posted": False, **dict.fromkeys(links, False)}

    @property
    def unread(self) -> int:
        return self._row["unread"]

    @property
    def unread_label(self) -> str:
        return f"{BADGE_MAX}+" if self.unread > BADGE_MAX else str(self.unread)

    @property
    def may_create(self) -> bool:
        return bool(self._row["assigned"] or self._row["posted"])

    @property
    def links(self) -> dict[str, bool]:
        """{"whistles": True, …}: the top bar's links for this person's current roles."""
        links = {name: self._row[f"link_{name}"] for name in NAV_ROLES}
        links["mobile"] = links["mobile"] or self._row["posted"]
        return links


def case_nav(request) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"case_nav": CaseNav(user)}

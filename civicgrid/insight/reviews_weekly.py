"""周提醒: once a week every responsible person gets one message counting their overdue and
near-due items, with a link to their to-do list.

"Responsible" is who a case's stage waits for, exactly as ``cases.selectors.stage_owner_ids``
decides it for one case (its tests check the two agree). That function costs a query per case;
at 100k open cases this module instead counts the open clocks grouped by what decides their
owners (stage, tier, grid, community, street, district, department) — a few thousand groups —
and resolves each group from the day's role assignments and grid posts read once.

The run is idempotent per week: a ``Review`` of kind weekly (unique per Monday) is written in the
same transaction as the messages, so a second run, or a second worker, sends nothing.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from civicgrid.accounts.models import GridPost, GridStaffing, Role, RoleAssignment
from civicgrid.cases.models import Case, Stage, Tier
from civicgrid.cases.selectors import STAGE_STATES
from civicgrid.insight.models import InsightSettings, Review, ReviewKind
from civicgrid.insight.reviews import title_of
from civicgrid.notifications.services import notify

KIND = "insight.weekly"
GROUP = ("stage", "tier", "grid_id", "community_id", "street_id", "district_id", "department_id")


class _Owners:
    """The day's role holders and grid posts, read once, answering "who owns this group"."""

    def __init__(self, day):
        active = Q(valid_from__lte=day) & (Q(valid_until__isnull=True) | Q(valid_until__gte=day))
        self.by_region: dict[tuple[str, int], set[int]] = defaultdict(set)
        self.by_department: dict[int, set[int]] = defaultdict(set)
        for role, region, department, user in RoleAssignment.objects.filter(active).values_list(
            "role", "region_id", "department_id", "user_id"
        ):
            if region:
                self.by_region[(role, region)].add(user)
            if department and role == Role.DEPARTMENT_HANDLER:
                self.by_department[department].add(user)
        self.grid_posts: dict[int, set[int]] = defaultdict(set)
        posts = GridStaffing.objects.filter(
            Q(start__lte=day),
            Q(end__isnull=True) | Q(end__gte=day),
            post__in=[GridPost.FULL_TIME, GridPost.PART_TIME],
        )
        for grid, user in posts.values_list("grid_id", "user_id"):
            self.grid_posts[grid].add(user)

    def _held(self, roles, regions) -> set[int]:
        return set().union(*(self.by_region.get((r, g), set()) for r in roles for g in regions if g))

    def of(self, g: dict) -> set[int]:
        """Mirrors ``stage_owner_ids`` (and ``routing.selectors.tier_owner_ids``) for a group."""
        from civicgrid.routing.config import routing  # routing reads the cases app, as we do

        stage = g["stage"]
        if stage == Stage.HANDLE and g["tier"] != Tier.STREET:
            roles = routing().conf(g["tier"]).owner_roles
            places = (g["grid_id"], g["community_id"], g["street_id"], g["district_id"])
            users = self._held(roles, places)
            if Role.GRID_WORKER in roles:
                users |= self.grid_posts.get(g["grid_id"], set())
            return users
        if stage in (Stage.VERIFY, Stage.CHECK):
            return set(self.grid_posts.get(g["grid_id"], set()))
        if stage in (Stage.ACCEPT, Stage.HANDLE) and g["department_id"]:
            return set(self.by_department.get(g["department_id"], set()))
        leads = (
            (Role.SHIFT_LEAD,) if stage in (Stage.REGISTER, Stage.CLOSE) else (Role.OPERATOR, Role.SHIFT_LEAD)
        )
        return self._held(leads, (g["district_id"],)) | self._held((Role.STREET_OPERATOR,), (g["street_id"],))


def weekly_counts(
    *, now: datetime | None = None, near_hours: int | None = None
) -> dict[int, tuple[int, int]]:
    """Each responsible person's (overdue, near-due) count: running clocks past their deadline,
    and those due within ``near_hours`` (the setting by default). Counted as /cases/list/?overdue=1
    counts: a paused clock is neither."""
    now = now or timezone.now()
    hours = InsightSettings.current().near_due_hours if near_hours is None else near_hours
    clocks = Case.objects.filter(
        state__in=sorted(STAGE_STATES),
        stage_deadline__isnull=False,
        paused_at__isnull=True,
        stage_deadline__lt=now + timedelta(hours=hours),
    )
    groups = clocks.values(*GROUP).annotate(
        overdue=Count("id", filter=Q(stage_deadline__lt=now)),
        near=Count("id", filter=Q(stage_deadline__gte=now)),
    )
    owners = _Owners(timezone.localdate(now))
    counts: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for g in groups.order_by():
        for user in owners.of(g):
            counts[user][0] += g["overdue"]
            counts[user][1] += g["near"]
    return {user: (o, n) for user, (o, n) in counts.items() if o or n}


def _message(overdue: int, near: int, hours: int) -> tuple[str, str]:
    with translation.override(settings.LANGUAGE_CODE):  # no request: the installation's language
        title = _("Weekly reminder: %(overdue)s overdue, %(near)s due within %(hours)s hours") % {
            "overdue": overdue,
            "near": near,
            "hours": hours,
        }
        body = _(
            "Items waiting for you: %(overdue)s past their deadline and %(near)s due within "
            "%(hours)s hours. Your to-do list shows them; the case list filtered to overdue "
            "cases is at /cases/list/?overdue=1."
        ) % {"overdue": overdue, "near": near, "hours": hours}
    return title, body


def weekly_remind(*, now: datetime | None = None, force: bool = False) -> Review | None:
    """Send this week's reminders, once. Without ``force`` it acts only on the configured weekday
    from the configured hour on (the task runs hourly, so a missed hour is caught up that day).
    Returns the week's new ``Review`` row, or None when nothing was due or it was done already."""
    now = now or timezone.now()
    conf = InsightSettings.current()
    local = timezone.localtime(now)
    if not force and (local.weekday() != conf.weekly_weekday or local.hour < conf.weekly_hour):
        return None
    monday = local.date() - timedelta(days=local.weekday())
    try:
        with transaction.atomic():
            # The row first: a concurrent run blocks on its unique key and then finds it taken.
            review, made = Review.objects.get_or_create(
                kind=ReviewKind.WEEKLY,
                period_start=monday,
                defaults={
                    "period_end": monday + timedelta(days=6),
                    "title": _title(monday),
                    "generated_at": now,
                },
            )
            if not made:
                return None
            counts = weekly_counts(now=now, near_hours=conf.near_due_hours)
            # People with the same counts share one notify() call (one bulk insert each).
            alike: dict[tuple[int, int], list[int]] = defaultdict(list)
            for user, pair in counts.items():
                alike[pair].append(user)
            link = reverse("case-inbox")
            for (overdue, near), users in sorted(alike.items()):
                title, body = _message(overdue, near, conf.near_due_hours)
                notify(user_ids=users, kind=KIND, title=title, body=body, link=link)
            review.payload = {
                "week": monday.isoformat(),
                "sent_at": now.isoformat(),
                "people": len(counts),
                "overdue": sum(o for o, _n in counts.values()),
                "near_due": sum(n for _o, n in counts.values()),
                "near_due_hours": conf.near_due_hours,
            }
            review.save(update_fields=["payload"])
    except IntegrityError:
        return None
    return review


def _title(monday) -> str:
    with translation.override(settings.LANGUAGE_CODE):
        return title_of(ReviewKind.WEEKLY, monday.isoformat(), "")

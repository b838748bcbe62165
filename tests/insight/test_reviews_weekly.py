"""周提醒: one message per responsible person with their overdue and near-due counts, none for
people without items, once a week, on the configured day and hour; the batched owner lookup
agrees with ``stage_owner_ids`` case by case."""

from __future__ import annotations

import io
import re
from collections import defaultdict
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from civicgrid.accounts.models import User
from civicgrid.cases.models import Case
from civicgrid.cases.selectors import STAGE_STATES, stage_owner_ids
from civicgrid.insight.models import InsightSettings, Review, ReviewKind
from civicgrid.insight.reviews_weekly import KIND, weekly_counts, weekly_remind
from civicgrid.notifications.models import Notification

from ..cases.conftest import local
from ..cases.steps import GRID_A, GRID_A2, GRID_B, GW_B, Frozen, S, handler_of, walk

# Monday 9 March 2026, 09:00 in Nanjing (the default: Mondays from 08:00).
MONDAY = local(2026, 3, 9, 9, 0)


@pytest.fixture
def items(idemo, monkeypatch):
    """Open cases made the week before: in street A one being handled (1 working day, so overdue
    by Monday), one dispatched with days to go, one verifying (a resident's); in street B one
    awaiting dispatch. And a suspended case, whose clock is paused (not counted); and one
    dispatched an hour before Monday's run, not yet due."""
    clock = Frozen(monkeypatch, local(2026, 3, 3, 10, 0))
    made = {
        "handling": walk(S.HANDLING, grid=GRID_A),
        "dispatched": walk(S.DISPATCHED, grid=GRID_A2, case_class="E0101"),
        "verifying": walk(S.VERIFYING, grid=GRID_A),
        "registered": walk(S.REGISTERED, grid=GRID_B),
        "suspended": walk(S.SUSPENDED, grid=GRID_B),
    }
    clock.to(MONDAY - timedelta(hours=1))
    made["fresh"] = walk(S.DISPATCHED, grid=GRID_A2, case_class="E0101")  # due within days: near
    clock.to(MONDAY)
    return made | {"clock": clock}


def _reference(now, hours: int) -> dict[int, tuple[int, int]]:
    """The same counts the slow way: every open clock's owners, one case at a time."""
    counts: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    clocks = Case.objects.filter(
        state__in=sorted(STAGE_STATES),
        stage_deadline__isnull=False,
        paused_at__isnull=True,
        stage_deadline__lt=now + timedelta(hours=hours),
    )
    for case in clocks:
        for user in stage_owner_ids(case):
            counts[user][0 if case.stage_deadline < now else 1] += 1
    return {u: (o, n) for u, (o, n) in counts.items()}


@pytest.mark.parametrize("hours", [48, 24 * 30])
def test_the_batched_counts_agree_with_stage_owner_ids_case_by_case(items, hours):
    now = timezone.now()
    counts = weekly_counts(now=now, near_hours=hours)
    assert counts and counts == _reference(now, hours)
    assert any(o for o, _n in counts.values()) and any(n for _o, n in counts.values())


def test_each_responsible_person_gets_one_message_with_their_counts(items):
    handler = User.objects.get(username=handler_of(items["handling"]))
    expected = weekly_counts(now=timezone.now())
    review = weekly_remind()
    assert (
        review is not None and review.kind == ReviewKind.WEEKLY and str(review.period_start) == "2026-03-09"
    )
    sent = Notification.objects.filter(kind=KIND)
    assert sorted(sent.values_list("user_id", flat=True)) == sorted(expected)  # one each
    assert expected[handler.pk][0] >= 1  # the late handling case is theirs
    for note in sent:
        overdue, near = expected[note.user_id]
        assert re.findall(r"\d+", note.title)[:2] == [str(overdue), str(near)]
        assert note.link == "/cases/"
    assert review.payload["people"] == len(expected)
    assert review.payload["overdue"] == sum(o for o, _n in expected.values())


def test_people_without_items_get_nothing(items):
    weekly_remind()
    told = set(Notification.objects.filter(kind=KIND).values_list("user__username", flat=True))
    assert GW_B not in told  # GRID_B's worker: nothing there waits for a grid worker
    assert "resident1" not in told and "auditor" not in told
    assert len(told) == len(weekly_counts(now=timezone.now()))


def test_it_runs_once_a_week_on_the_configured_day_and_hour(items):
    clock = items["clock"]
    clock.to(local(2026, 3, 9, 7, 59))
    assert weekly_remind() is None  # before the hour
    clock.to(local(2026, 3, 9, 8, 0))
    first = weekly_remind()
    sent = Notification.objects.filter(kind=KIND).count()
    assert first is not None and sent > 0
    clock.to(local(2026, 3, 9, 15, 0))
    assert weekly_remind() is None and weekly_remind(force=True) is None  # the same week: nothing
    clock.to(local(2026, 3, 12, 9, 0))
    assert weekly_remind() is None  # a Thursday
    assert Notification.objects.filter(kind=KIND).count() == sent
    clock.to(local(2026, 3, 16, 8, 30))
    assert weekly_remind() is not None  # the next Monday
    assert Review.objects.filter(kind=ReviewKind.WEEKLY).count() == 2


def test_the_weekday_and_hour_are_settings(items):
    InsightSettings.objects.update_or_create(pk=1, defaults={"weekly_weekday": 2, "weekly_hour": 17})
    clock = items["clock"]
    assert weekly_remind() is None  # Monday 09:00 is no longer it
    clock.to(local(2026, 3, 11, 17, 5))
    assert weekly_remind() is not None


def test_the_periodic_tasks_and_the_command_call_the_services(items):
    from civicgrid.insight import tasks

    review = tasks.weekly_reminder_hourly.call_local()
    assert review is not None and Notification.objects.filter(kind=KIND).exists()
    assert tasks.weekly_reminder_hourly.call_local() is None
    out = io.StringIO()
    call_command("reviews", "weekly", stdout=out)
    assert "already" in out.getvalue()
    items["clock"].to(local(2026, 4, 1, 3, 20))
    made = tasks.reviews_daily.call_local()
    assert Review.objects.filter(pk__in=made).count() == 2  # March and the first quarter

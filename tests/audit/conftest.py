"""Personas for the audit trail (三权分立): an auditor, a system administrator who is a
superuser but no auditor, a member of staff with no role, and a controllable clock."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.utils import timezone

from civicgrid.accounts.models import RoleAssignment, User

PASSWORD = "Correct-Horse-7781"


@pytest.fixture
def auditor(db):
    # Staff status lets the auditor into the admin; the role is what opens the trail.
    user = User.objects.create_user("shenji", password=PASSWORD, is_staff=True)
    RoleAssignment.objects.create(user=user, role="auditor", valid_from=date(2020, 1, 1))
    return user


@pytest.fixture
def sysadmin(db):
    user = User.objects.create_superuser("xitong", password=PASSWORD)
    RoleAssignment.objects.create(user=user, role="system_admin", valid_from=date(2020, 1, 1))
    return user


@pytest.fixture
def staff(db):
    return User.objects.create_user("wangge", password=PASSWORD, is_staff=True)


class Clock:
    def __init__(self, start: datetime):
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock(monkeypatch):
    """timezone.now() under the test's control, starting 2025-01-01 09:00 UTC."""
    fixed = Clock(datetime(2025, 1, 1, 9, 0, tzinfo=UTC))
    monkeypatch.setattr(timezone, "now", fixed)
    return fixed

"""Lockout after repeated failed logins, per account and per address.

Enforced in the authentication backend, so the public login page, the admin login and any
other path through ``authenticate()`` obey it alike. A security admin unlocks by clearing the
failures (``lockout_clear``); nothing unlocks by itself before the window has passed.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.utils import timezone

from civicgrid.accounts.models import LoginAttempt
from civicgrid.audit.services import audit_record
from civicgrid.audit.services import client_ip as audit_client_ip


def client_ip(request) -> str | None:
    """The address the audit trail records for ``request`` (X-Forwarded-For only behind declared
    proxies). Behind a proxy REMOTE_ADDR is the proxy itself: counting failures against it would
    let one attacker lock everybody out."""
    return audit_client_ip(request) if request is not None else None


def _recent_failures():
    since = timezone.now() - timedelta(minutes=settings.LOCKOUT_WINDOW_MINUTES)
    return LoginAttempt.objects.filter(success=False, cleared=False, at__gte=since)


def is_locked(*, username: str | None, ip: str | None) -> bool:
    limit = settings.LOCKOUT_FAILURES
    failures = _recent_failures()
    if username and failures.filter(username=username).count() >= limit:
        return True
    return bool(ip) and failures.filter(ip=ip).count() >= limit


def attempt_record(*, username: str, ip: str | None, success: bool) -> None:
    LoginAttempt.objects.create(username=username[:150], ip=ip, success=success)


def lockout_clear(*, username: str, by=None) -> int:
    """Unlock an account: its failures stop counting. Returns how many were cleared."""
    cleared = LoginAttempt.objects.filter(username=username, success=False, cleared=False).update(
        cleared=True
    )
    audit_record(
        action="auth.unlock", actor=by, object_type="user", object_id=username, detail={"cleared": cleared}
    )
    return cleared


class LockoutBackend(ModelBackend):
    """ModelBackend that refuses any login while the account or the address is locked."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if is_locked(username=username, ip=client_ip(request)):
            audit_record(
                action="auth.login_locked",
                result="denied",
                request=request,
                object_type="user",
                object_id=username or "",
            )
            return None  # a failure like any other: the signal records it too
        return super().authenticate(request, username=username, password=password, **kwargs)

"""Signal receivers that put logins, failed logins and logouts on the audit trail.

Connected in ``AuditConfig.ready()``. A failed login stores the username that was tried and
nothing else from the credentials: Django masks the password in the signal, and we do not keep
even the mask.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model

from civicgrid.audit.models import AuditResult
from civicgrid.audit.services import audit_record


def _client(request) -> dict:
    if request is None:
        return {}
    agent = request.META.get("HTTP_USER_AGENT", "")
    return {"user_agent": agent[:200]} if agent else {}


def login_succeeded(sender, request, user, **kwargs) -> None:
    audit_record(
        action="auth.login",
        actor=user,
        request=request,
        object_type="user",
        object_id=user.pk,
        detail=_client(request),
    )


def login_failed(sender, credentials, request=None, **kwargs) -> None:
    field = get_user_model().USERNAME_FIELD
    attempted = credentials.get(field) or credentials.get("username") or ""
    audit_record(
        action="auth.login_failed",
        result=AuditResult.FAILURE,
        request=request,
        object_type="user",
        detail={"username": str(attempted)[:150], **_client(request)},
    )


def logged_out(sender, request, user, **kwargs) -> None:
    if user is None:
        return  # logging out an anonymous session changes nothing worth recording
    audit_record(action="auth.logout", actor=user, request=request, object_type="user", object_id=user.pk)

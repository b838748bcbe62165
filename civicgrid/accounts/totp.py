"""The optional second factor: time-based one-time codes (TOTP, RFC 6238) from a phone app.

A person may turn it on for themselves; a role marked in ``SecondFactorPolicy`` must have it.
The seed is encrypted at rest (``EncryptedTextField(kind="secret")``) and read with
``.reveal()`` only here. A wrong code at login counts as a failed login for the lockout.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyotp
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from civicgrid.accounts.lockout import attempt_record, client_ip
from civicgrid.accounts.models import User
from civicgrid.accounts.selectors import second_factor_required
from civicgrid.audit.models import AuditResult
from civicgrid.audit.services import audit_record
from civicgrid.errors import DomainError

# Accept the code of the previous and the next 30-second step too (pyotp's valid_window=1):
# phone clocks drift and people type slowly.
VALID_WINDOW = 1
ISSUER = "CivicGrid"
# How long a login whose password was right waits for its code before it must start over.
PENDING_SECONDS = 5 * 60


@dataclass(frozen=True)
class TotpSetup:
    """What a person needs to add the account to their authenticator app."""

    uri: str
    secret_groups: str


def _totp(user: User) -> pyotp.TOTP:
    return pyotp.TOTP(user.totp_secret.reveal())


def _matching_step(user: User, code: str) -> int | None:
    """The time step ``code`` belongs to, within the window and after the last one used."""
    code = (code or "").strip().replace(" ", "")
    if not user.totp_secret or len(code) != 6 or not code.isdigit():
        return None
    totp = _totp(user)
    now_step = totp.timecode(timezone.now())
    for step in range(now_step - VALID_WINDOW, now_step + VALID_WINDOW + 1):
        if user.totp_last_step is not None and step <= user.totp_last_step:
            continue  # a code already accepted (or an older one) is never accepted again
        if pyotp.utils.strings_equal(totp.generate_otp(step), code):
            return step
    return None


def _code_accept(*, user: User, code: str) -> bool:
    """Check ``code`` and, if right, burn its step so the same code cannot be replayed."""
    with transaction.atomic():
        # The row lock stops two requests with the same code both passing in the same instant.
        locked = User.objects.select_for_update().get(pk=user.pk)
        step = _matching_step(locked, code)
        if step is None:
            return False
        User.objects.filter(pk=user.pk).update(totp_last_step=step)
    user.totp_last_step = step
    return True


def _failure_audit(*, user: User, request, stage: str) -> None:
    audit_record(
        action="auth.totp_failed",
        result=AuditResult.DENIED,
        request=request,
        actor=user,
        object_type="user",
        object_id=user.get_username(),
        detail={"stage": stage},
    )


def totp_setup_begin(*, user: User) -> TotpSetup:
    """A seed for ``user`` to scan (created once and kept until confirmed or turned off)."""
    if user.has_second_factor:
        raise DomainError("totp_already_enabled", _("The second factor is already on."))
    if not user.totp_secret:
        user.totp_secret = pyotp.random_base32()
        user.totp_last_step = None
        user.save(update_fields=["totp_secret", "totp_last_step"])
    secret = user.totp_secret.reveal()
    uri = pyotp.TOTP(secret).provisioning_uri(name=user.get_username(), issuer_name=ISSUER)
    groups = " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))
    return TotpSetup(uri=uri, secret_groups=groups)


def totp_enable(*, user: User, code: str, request=None) -> None:
    """Turn the second factor on once the person proves their app shows the right codes."""
    if user.has_second_factor:
        raise DomainError("totp_already_enabled", _("The second factor is already on."))
    if not _code_accept(user=user, code=code):
        _failure_audit(user=user, request=request, stage="setup")
        raise DomainError("totp_code_wrong", _("That code is not right. Try the newest one."))
    user.totp_confirmed_at = timezone.now()
    user.save(update_fields=["totp_confirmed_at"])
    audit_record(
        action="auth.totp_enabled", request=request, actor=user, object_type="user", object_id=user.username
    )


def totp_disable(*, user: User, code: str, request=None) -> None:
    """Turn the second factor off; a current code is asked so a borrowed session cannot."""
    if second_factor_required(user=user):
        raise DomainError(
            "totp_required", _("Your role requires a second factor: it cannot be turned off."), status=403
        )
    if not user.has_second_factor:
        raise DomainError("totp_not_enabled", _("The second factor is not on."))
    if not _code_accept(user=user, code=code):
        _failure_audit(user=user, request=request, stage="disable")
        raise DomainError("totp_code_wrong", _("That code is not right. Try the newest one."))
    user.totp_secret = ""
    user.totp_confirmed_at = None
    user.totp_last_step = None
    user.save(update_fields=["totp_secret", "totp_confirmed_at", "totp_last_step"])
    audit_record(
        action="auth.totp_disabled", request=request, actor=user, object_type="user", object_id=user.username
    )


def totp_login_check(*, user: User, code: str, request) -> bool:
    """The second login step: a wrong code is audited and counts toward the lockout."""
    if _code_accept(user=user, code=code):
        return True
    attempt_record(username=user.get_username(), ip=client_ip(request), success=False)
    _failure_audit(user=user, request=request, stage="login")
    return False

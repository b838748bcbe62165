"""API tokens for integrations: hashed at rest, scoped, expiring, revocable, shown once.

A token reads ``cg_<prefix>_<secret>``. Its API scopes name what it may call (e.g.
``generations:write``); on top of that it acts as its user, so the user's region scope applies
to every read, as for a person.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta

from django.utils import timezone
from django.utils.translation import gettext as _
from ninja.security import HttpBearer

from civicgrid.accounts.models import ApiToken
from civicgrid.audit.services import audit_record
from civicgrid.errors import DomainError

API_SCOPES = {
    "generations:write": "import and activate boundary generations",
    "people:read": "read the people of grids in the user's scope",
    "cases:read": "read cases in the user's scope",
    "cases:write": "report cases and make moves on them as the user",
    "patrol:read": "read patrols, check-ins and coverage in the user's scope",
    "patrol:write": "patrol, send track points and check in as the user",
    "insight:read": "read the command centre's figures, indicators, warnings and reviews in the user's scope",
}
MAX_DAYS = 366
LAST_USED_EVERY = timedelta(minutes=1)


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def api_token_create(*, user, name: str, scopes: list[str], days: int = 90) -> tuple[ApiToken, str]:
    """Create a token; returns the row and the plaintext, which is never stored or shown again."""
    unknown = sorted(set(scopes) - set(API_SCOPES))
    if unknown:
        raise DomainError("bad_scope", _("Unknown API scopes: %(s)s") % {"s": ", ".join(unknown)})
    if not 1 <= days <= MAX_DAYS:
        raise DomainError("bad_expiry", _("A token lives between 1 and %(n)d days.") % {"n": MAX_DAYS})
    prefix = secrets.token_hex(4)
    secret = secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user,
        name=name,
        prefix=prefix,
        key_hash=_hash(secret),
        scopes=sorted(set(scopes)),
        expires_at=timezone.now() + timedelta(days=days),
    )
    audit_record(action="token.create", object_type="api_token", object_id=prefix,
                 detail={"user": user.get_username(), "scopes": token.scopes, "days": days})  # fmt: skip
    return token, f"cg_{prefix}_{secret}"


def api_token_revoke(*, token: ApiToken) -> ApiToken:
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit_record(action="token.revoke", object_type="api_token", object_id=token.prefix)
    return token


def token_check(plaintext: str, *, scope: str) -> ApiToken:
    """The live token behind ``plaintext`` if it may use ``scope``; a DomainError otherwise."""
    parts = plaintext.split("_", 2)
    token = None
    if len(parts) == 3 and parts[0] == "cg":
        # get(), not first(): the prefix is unique, and first() sorts by the model's ordering,
        # which makes Django hash every selected column of the token and its user per request.
        try:
            token = ApiToken.objects.select_related("user").get(prefix=parts[1])
        except ApiToken.DoesNotExist:
            pass
    # Constant-time comparison, so response timing does not reveal a near-miss.
    if token is None or not hmac.compare_digest(token.key_hash, _hash(parts[2])):
        raise DomainError("bad_token", _("The API token is not valid."), status=401)
    if token.revoked_at is not None:
        raise DomainError("token_revoked", _("The API token has been revoked."), status=401)
    if token.expires_at <= timezone.now():
        raise DomainError("token_expired", _("The API token has expired."), status=401)
    if not token.user.is_active:
        raise DomainError("bad_token", _("The API token is not valid."), status=401)
    if scope not in token.scopes:
        # A 403: AuditDeniedMiddleware puts it on the audit trail.
        raise DomainError(
            "token_scope", _("The API token may not do this (needs %(s)s).") % {"s": scope}, status=403
        )
    # Once a minute is precise enough for "last used", and spares a write (a commit; SQLite's
    # single write lock) on every request an integration makes.
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_EVERY:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token


class TokenAuth(HttpBearer):
    """django-ninja auth: ``Authorization: Bearer cg_…`` with the given API scope."""

    def __init__(self, scope: str):
        super().__init__()
        self.scope = scope

    def authenticate(self, request, token):
        found = token_check(token, scope=self.scope)
        # The request now acts as the token's user, so scopes and audit see who it is.
        request.user = found.user
        request.api_token = found
        return found


def token_user(request, *, scope: str) -> None:
    """For endpoints open to sessions: a bearer token, when one is sent, must be valid for ``scope``."""
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        TokenAuth(scope).authenticate(request, header[7:].strip())

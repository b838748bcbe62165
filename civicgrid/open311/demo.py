"""The demo's Open311 integration: a user for it (a street operator, the least of the intake roles
that may take Open311 reports in) and an API key everyone can read in docs/open311.md, so an
Open311 client can be pointed at a demo server at once. Idempotent.

Called by the demo loader after the year of cases (nothing in the product imports this module).
DEMO DATABASES ONLY: the key is published; never run this against a real database.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from civicgrid.accounts.models import ApiToken, Role, User
from civicgrid.accounts.services import role_grant
from civicgrid.accounts.tokens import MAX_DAYS, _hash
from civicgrid.audit.services import audit_record
from civicgrid.regions.models import Level, Region

DEMO_USERNAME = "open311-demo"
DEMO_PREFIX = "o311demo"
DEMO_SECRET = "xuanwu-open311-demo-key"
DEMO_KEY = f"cg_{DEMO_PREFIX}_{DEMO_SECRET}"


def seed(progress: Callable[[str], None] = print) -> None:
    if ApiToken.objects.filter(prefix=DEMO_PREFIX).exists():
        progress(f"Open311 demo api_key (demo only): {DEMO_KEY}")
        return
    street = Region.objects.filter(level=Level.STREET, statistical_only=False).order_by("code").first()
    if street is None:
        return
    with transaction.atomic():
        user = User.objects.filter(username=DEMO_USERNAME).first()
        if user is None:
            user = User.objects.create_user(username=DEMO_USERNAME, display_name="Open311 演示接入")
            user.set_unusable_password()  # it signs in by API key only
            user.save(update_fields=["password"])
            role_grant(user=user, role=Role.STREET_OPERATOR, region=street)
        ApiToken.objects.create(
            user=user,
            name="Open311 demo (published key, demo only)",
            prefix=DEMO_PREFIX,
            key_hash=_hash(DEMO_SECRET),
            scopes=["cases:write"],
            expires_at=timezone.now() + timedelta(days=MAX_DAYS),
        )
        audit_record(action="token.create", object_type="api_token", object_id=DEMO_PREFIX,
                     detail={"user": DEMO_USERNAME, "scopes": ["cases:write"], "days": MAX_DAYS})  # fmt: skip
    progress(f"Open311 demo api_key (demo only): {DEMO_KEY}")

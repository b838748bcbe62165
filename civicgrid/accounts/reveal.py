"""Revealing personal data: only for roles whose work needs it, with a stated reason, audited.

Everything personal is masked on the server (``civicgrid.pii``); this is the one door through
which a plaintext value leaves, and every pass through it is on the audit trail. The three
administrators of 三权分立 never pass: the system admin, the security admin and the auditor.
"""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext as _

from civicgrid.accounts.models import Department
from civicgrid.accounts.scopes import Scope
from civicgrid.audit.services import audit_record
from civicgrid.errors import DomainError, NotFound, OutOfScope

MIN_REASON = 4


def _may_reveal(scope: Scope) -> bool:
    return scope.has_role(*settings.PII_REVEAL_ROLES)


def pii_reveal(*, scope: Scope, user, obj, field: str, reason: str) -> str:
    """The plaintext of ``obj.field`` for ``user``, recorded with the reason given."""
    reason = (reason or "").strip()
    if len(reason) < MIN_REASON:
        raise DomainError(
            "reason_required",
            _("Say why you need to see this (at least %(n)d characters).") % {"n": MIN_REASON},
        )
    if not _may_reveal(scope):
        raise DomainError("reveal_not_allowed", _("Your role may not reveal personal data."), status=403)
    value = getattr(obj, field, None)
    if not hasattr(value, "reveal"):
        raise DomainError("not_personal_data", _("%(field)s is not a protected field.") % {"field": field})
    audit_record(
        action="pii.reveal",
        actor=user,
        object_type=f"{obj._meta.label_lower}.{field}",
        object_id=obj.pk,
        detail={"reason": reason[:200], "masked": str(value)},
    )
    return value.reveal()


def department_for_reveal(*, scope: Scope, code: str) -> Department:
    """A department the reader may see, or 404 (out of scope answers like absent)."""
    department = Department.objects.filter(code=code).first()
    message = _("Department %(code)s does not exist.") % {"code": code}
    if department is None:
        raise NotFound("department_not_found", message)
    if department.region_id not in scope.region_ids and department.pk not in scope.department_ids:
        raise OutOfScope("department_not_found", message, object_type="department", object_id=code)
    return department

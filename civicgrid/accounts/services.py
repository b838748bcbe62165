"""Writes to people and roles; every one is on the audit trail."""

from __future__ import annotations

from datetime import date

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from civicgrid.accounts.models import DEPARTMENT_ROLES, UNSCOPED_ROLES, Department, Role, RoleAssignment
from civicgrid.audit.services import audit_record
from civicgrid.errors import DomainError
from civicgrid.regions.models import Region


def role_grant(
    *, user, role: str, region: Region | None = None, department: Department | None = None, by=None,
    valid_from: date | None = None,
) -> RoleAssignment:  # fmt: skip
    """Give ``user`` a role over a region (its subtree) or a department, from today."""
    if role not in Role.values:
        raise DomainError("bad_role", _("Unknown role %(role)s.") % {"role": role})
    if role in DEPARTMENT_ROLES and (department is None or region is not None):
        raise DomainError("bad_scope", _("A department role is held over a department."))
    if role in UNSCOPED_ROLES and (department is not None or region is not None):
        raise DomainError("bad_scope", _("This role is held over nothing."))
    if role not in DEPARTMENT_ROLES | UNSCOPED_ROLES and (region is None or department is not None):
        raise DomainError("bad_scope", _("This role is held over a region."))
    with transaction.atomic():
        assignment = RoleAssignment.objects.create(
            user=user,
            role=role,
            region=region,
            department=department,
            valid_from=valid_from or timezone.localdate(),
        )
        audit_record(
            action="role.grant",
            actor=by,
            object_type="user",
            object_id=user.get_username(),
            detail={
                "role": role,
                "region": region.code if region else None,
                "department": department.code if department else None,
            },
        )
    return assignment


def role_revoke(*, assignment: RoleAssignment, by=None) -> RoleAssignment:
    """End a role assignment today; the row stays as history."""
    with transaction.atomic():
        assignment.valid_until = timezone.localdate()
        assignment.save(update_fields=["valid_until"])
        audit_record(
            action="role.revoke",
            actor=by,
            object_type="user",
            object_id=assignment.user.get_username(),
            detail={"role": assignment.role, "assignment": assignment.pk},
        )
    return assignment

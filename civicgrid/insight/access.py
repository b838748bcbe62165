"""Who may open the command centre: one rule for the big screen, indicators, warnings and reviews."""

from __future__ import annotations

from civicgrid.accounts.models import COMMAND_ROLES
from civicgrid.accounts.scopes import Scope


def may_use(scope: Scope) -> bool:
    """The command centre's roles (``COMMAND_ROLES``) with a territory or a department to look at;
    residents, auditors, the administrators and grid workers (their phone app) are refused."""
    return scope.has_role(*COMMAND_ROLES) and (
        scope.everything or bool(scope.anchors) or bool(scope.department_ids)
    )

"""API for departments (and, later, people): scoped lists, masked personal data, audited reveals."""

from __future__ import annotations

from ninja import Field, Router, Schema

from civicgrid.accounts.reveal import department_for_reveal, pii_reveal
from civicgrid.accounts.scopes import request_scope
from civicgrid.accounts.selectors import department_list

accounts_router = Router(tags=["departments"])


class DepartmentOut(Schema):
    code: str
    name: str
    kind: str
    contact_name: str
    contact_phone: str = Field(description="masked (138****5678); reveal it with a reason")
    case_classes: list


class RevealIn(Schema):
    field: str = Field(description="the protected field, e.g. contact_phone")
    reason: str = Field(description="why you need to see it; recorded on the audit trail", max_length=500)


class RevealOut(Schema):
    field: str
    value: str


def _out(department) -> dict:
    return {
        "code": department.code,
        "name": department.name,
        "kind": department.kind,
        "contact_name": department.contact_name,
        "contact_phone": str(department.contact_phone or ""),
        "case_classes": department.case_classes,
    }


@accounts_router.get("/departments", response=list[DepartmentOut], summary="Departments in your scope")
def departments(request):
    return [_out(d) for d in department_list(scope=request_scope(request))]


@accounts_router.post(
    "/departments/{code}/reveal", response=RevealOut, summary="Reveal a protected field (audited)"
)
def department_reveal(request, code: str, payload: RevealIn):
    scope = request_scope(request)
    department = department_for_reveal(scope=scope, code=code)
    value = pii_reveal(
        scope=scope, user=request.user, obj=department, field=payload.field, reason=payload.reason
    )
    return {"field": payload.field, "value": value}

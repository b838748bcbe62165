"""API for auditors: search the trail and check its chain. Everybody else gets 404.

Mounted in civicgrid/api.py as ``api.add_router("/audit", audit_router)``.
"""

from django.utils.translation import gettext as _
from ninja import Query, Router
from ninja.pagination import PageNumberPagination, paginate

from civicgrid.audit import selectors
from civicgrid.audit.schemas import AuditFilters, AuditRecordOut, ChainOut
from civicgrid.audit.services import audit_record_denial
from civicgrid.errors import NotFound

audit_router = Router(tags=["audit"])


def _auditor_or_404(request) -> None:
    if selectors.is_auditor(request.user):
        return
    # Recorded as a denial although the answer is 404: the auditor should see who looked.
    audit_record_denial(request=request, object_type="audit.trail")
    raise NotFound("not_found", _("Not found."))


@audit_router.get("/records", response=list[AuditRecordOut], summary="Search the audit trail (auditors)")
@paginate(PageNumberPagination, page_size=50, max_page_size=500)
def records(request, filters: Query[AuditFilters]):
    _auditor_or_404(request)
    return selectors.audit_search(user=request.user, **filters.model_dump())


@audit_router.get("/verify", response=ChainOut, summary="Check the hash chain (auditors)")
def verify(request):
    _auditor_or_404(request)
    return selectors.audit_chain_verify().as_dict()

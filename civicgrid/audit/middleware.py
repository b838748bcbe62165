"""Put every refused request (HTTP 403) on the audit trail, wherever the refusal came from,
and lend the request to ``audit_record`` so services that do not take it still record the
address and user it came from.

A permission check in a view, a DomainError with status 403 and a CSRF failure all end as a 403
response, so one place after the view sees them all. Not installed by default: add
``"civicgrid.audit.middleware.AuditDeniedMiddleware"`` to MIDDLEWARE right after
AuthenticationMiddleware (it needs ``request.user``).
"""

from __future__ import annotations

from civicgrid.audit.services import audit_record_denial, current_request


class AuditDeniedMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = current_request.set(request)
        try:
            response = self.get_response(request)
            if response.status_code == 403:
                audit_record_denial(request=request)
        finally:
            current_request.reset(token)
        return response

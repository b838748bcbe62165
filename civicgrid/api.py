"""The REST API at /api/v1/: one NinjaAPI, one router per app, one error shape."""

from __future__ import annotations

import logging

from django.http import Http404
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.renderers import JSONRenderer

from civicgrid import __version__
from civicgrid.audit.services import audit_record_denial
from civicgrid.errors import STATUS_CODES, DomainError, OutOfScope, error_body

log = logging.getLogger(__name__)


class Utf8JSONRenderer(JSONRenderer):
    # Chinese names stay readable, and a third shorter, when not written as \u escapes.
    json_dumps_params = {"ensure_ascii": False}


api = NinjaAPI(
    renderer=Utf8JSONRenderer(),
    title="CivicGrid API",
    version="1",
    description='网格化社会治理平台 REST API. Every error is `{"error": {"code", "message", "detail"}}`.',
    urls_namespace="api-v1",
)


@api.exception_handler(DomainError)
def _domain_error(request, exc: DomainError):
    if isinstance(exc, OutOfScope):
        audit_record_denial(request=request, object_type=exc.object_type, object_id=exc.object_id)
    return api.create_response(request, exc.as_dict(), status=exc.status)


@api.exception_handler(ValidationError)
def _validation_error(request, exc: ValidationError):
    errors = [
        {
            "loc": [str(part) for part in e.get("loc", [])],
            "msg": str(e.get("msg", "")),
            "type": e.get("type", ""),
        }
        for e in exc.errors
    ]
    body = error_body("invalid_input", _("The request is not valid."), {"errors": errors})
    return api.create_response(request, body, status=422)


@api.exception_handler(AuthenticationError)
def _auth_error(request, exc):
    return api.create_response(request, error_body("unauthenticated", _("Log in first.")), status=401)


@api.exception_handler(HttpError)
def _http_error(request, exc: HttpError):
    code = STATUS_CODES.get(exc.status_code, "http_error")
    return api.create_response(request, error_body(code, str(exc)), status=exc.status_code)


@api.exception_handler(Http404)
def _not_found(request, exc):
    return api.create_response(request, error_body("not_found", _("Not found.")), status=404)


@api.exception_handler(Exception)
def _unexpected(request, exc):
    log.exception("unhandled error in %s", request.path)
    body = error_body("internal_error", _("Something went wrong on the server; it has been logged."))
    return api.create_response(request, body, status=500)


@api.get("/health", tags=["system"], summary="Liveness and version")
def health(request):
    return {"status": "ok", "version": __version__}


from civicgrid.accounts.api import accounts_router  # noqa: E402  (routers come after the handlers)
from civicgrid.audit.api import audit_router  # noqa: E402
from civicgrid.cases.api import router as cases_router  # noqa: E402
from civicgrid.devices.api import router as devices_router  # noqa: E402
from civicgrid.enforcement.api import router as enforcement_router  # noqa: E402
from civicgrid.hotline.api import router as hotline_router  # noqa: E402
from civicgrid.insight.api import insight_router  # noqa: E402
from civicgrid.patrol.api import router as patrol_router  # noqa: E402
from civicgrid.patrol.assessment_api import router as assessment_router  # noqa: E402
from civicgrid.regions.api import geo_router, regions_router  # noqa: E402
from civicgrid.routing.api import router as routing_router  # noqa: E402
from civicgrid.whistles.api import router as whistles_router  # noqa: E402

api.add_router("/geo", geo_router)
api.add_router("/regions", regions_router)
api.add_router("/audit", audit_router)
api.add_router("/cases", cases_router)
api.add_router("/hotline", hotline_router)
api.add_router("/devices", devices_router)
api.add_router("/whistles", whistles_router)
api.add_router("/routing", routing_router)
api.add_router("/patrol", patrol_router)
api.add_router("/assessment", assessment_router)
api.add_router("/enforcement", enforcement_router)
api.add_router("/insight", insight_router)
api.add_router("", accounts_router)

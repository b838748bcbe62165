"""One error shape everywhere: the API's JSON, and a page with the same code and message."""

from __future__ import annotations

from django.http import JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from civicgrid.errors import STATUS_CODES, DomainError, OutOfScope, error_body

API_PREFIXES = ("/api/", "/open311/")
_MESSAGES = {
    400: gettext_noop("The request is not valid."),
    401: gettext_noop("Log in first."),
    403: gettext_noop("Not allowed."),
    404: gettext_noop("Not found."),
    405: gettext_noop("This method is not allowed here."),
    413: gettext_noop("The request is too large."),
}


class ErrorShapeMiddleware:
    """Render DomainErrors raised by pages, and give Django's own API failures our shape."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.status_code < 400 or not request.path.startswith(API_PREFIXES):
            return response
        if response.get("Content-Type", "").startswith(("application/json", "text/xml")):
            # Ours already: every JSON failure is built with error_body; Open311's XML errors
            # are the GeoReport spec's <errors> list (civicgrid/open311/render.py).
            return response
        code = STATUS_CODES.get(response.status_code, "http_error")
        message = _MESSAGES.get(response.status_code, gettext_noop("The request failed."))
        return JsonResponse(error_body(code, _(message)), status=response.status_code)

    def process_exception(self, request, exception):
        if not isinstance(exception, DomainError):
            return None
        if isinstance(exception, OutOfScope):
            from civicgrid.audit.services import audit_record_denial

            audit_record_denial(
                request=request, object_type=exception.object_type, object_id=exception.object_id
            )
        if request.path.startswith(API_PREFIXES):
            return JsonResponse(exception.as_dict(), status=exception.status)
        return render(request, "error.html", {"error": exception}, status=exception.status)


def _tile_origin(url: str) -> str:
    """The origin of a Leaflet tile URL template, with {s} subdomains as a wildcard."""
    from urllib.parse import urlsplit

    parts = urlsplit(url.replace("{s}", "*"))
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


class SecurityHeadersMiddleware:
    """A Content-Security-Policy for every response (Django 5.2 has none built in).

    Scripts only from our own origin (no inline script runs anywhere: data islands are JSON);
    styles may be inline because Leaflet and Swagger UI position elements with style attributes;
    images from us, data: URLs and the configured tile server; nobody may frame our pages.
    """

    def __init__(self, get_response):
        from django.conf import settings

        tiles = _tile_origin(settings.TILE_URL) if settings.TILE_URL else ""
        self.policy = "; ".join(
            [
                "default-src 'self'",
                "script-src 'self'",
                "style-src 'self' 'unsafe-inline'",
                f"img-src 'self' data: blob: {tiles}".strip(),
                "connect-src 'self'",
                "font-src 'self' data:",
                "object-src 'none'",
                "base-uri 'self'",
                "form-action 'self'",
                "frame-ancestors 'none'",
            ]
        )
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.setdefault("Content-Security-Policy", self.policy)
        return response

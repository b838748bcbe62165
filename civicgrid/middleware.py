"""Make every API failure speak the one error shape, even those Django answers itself."""

from __future__ import annotations

import json

from django.http import JsonResponse
from django.utils.translation import gettext as _

from civicgrid.errors import error_body

API_PREFIXES = ("/api/", "/open311/")
_MESSAGES = {
    404: ("not_found", "Not found."),
    405: ("method_not_allowed", "This method is not allowed here."),
    413: ("too_large", "The request is too large."),
    403: ("forbidden", "Not allowed."),
    400: ("bad_request", "The request is not valid."),
}


class ApiErrorShapeMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.status_code < 400 or not request.path.startswith(API_PREFIXES):
            return response
        if response.get("Content-Type", "").startswith("application/json"):
            try:
                if "error" in json.loads(response.content):
                    return response
            except (ValueError, UnicodeDecodeError):
                pass
        code, message = _MESSAGES.get(response.status_code, ("http_error", "The request failed."))
        return JsonResponse(error_body(code, _(message)), status=response.status_code)

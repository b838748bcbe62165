"""Make every API failure speak the one error shape, even those Django answers itself."""

from __future__ import annotations

from django.http import JsonResponse
from django.utils.translation import gettext as _

from civicgrid.errors import STATUS_CODES, error_body

API_PREFIXES = ("/api/", "/open311/")
_MESSAGES = {
    400: "The request is not valid.",
    401: "Log in first.",
    403: "Not allowed.",
    404: "Not found.",
    405: "This method is not allowed here.",
    413: "The request is too large.",
}


class ApiErrorShapeMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.status_code < 400 or not request.path.startswith(API_PREFIXES):
            return response
        if response.get("Content-Type", "").startswith("application/json"):
            return response  # ours already: every JSON failure is built with error_body
        code = STATUS_CODES.get(response.status_code, "http_error")
        message = _MESSAGES.get(response.status_code, "The request failed.")
        return JsonResponse(error_body(code, _(message)), status=response.status_code)

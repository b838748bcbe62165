"""One data structure, two renderings: the spec's XML (required) and JSON (optional).

Views build plain dicts and lists with the spec's field names; here a list becomes the spec's
container element with one child per item (``services`` → ``service``), and a JSON document is
the same structure with the outer container dropped where the spec shows a bare array.
"""

from __future__ import annotations

from datetime import datetime
from xml.etree import ElementTree as ET

from django.http import HttpResponse, JsonResponse
from django.utils import timezone

from civicgrid.errors import DomainError

FORMATS = {"json": "application/json; charset=utf-8", "xml": "text/xml; charset=utf-8"}
# The element of one item inside each of the spec's containers.
ITEMS = {
    "services": "service",
    "endpoints": "endpoint",
    "formats": "format",
    "attributes": "attribute",
    "values": "value",
    "service_requests": "request",
    "errors": "error",
}


def w3(value: datetime | None) -> str:
    """ISO 8601 (w3) with the offset, in the district's time zone, as the spec requires."""
    return value.astimezone(timezone.get_current_timezone()).isoformat(timespec="seconds") if value else ""


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _element(tag: str, value) -> ET.Element:
    node = ET.Element(tag)
    if isinstance(value, dict):
        for key, item in value.items():
            node.append(_element(key, item))
    elif isinstance(value, list):
        child = ITEMS.get(tag, "item")
        for item in value:
            node.append(_element(child, item))
    else:
        node.text = _text(value)
    return node


def render(fmt: str, root: str, data, *, status: int = 200) -> HttpResponse:
    """``data`` under the element ``root`` (XML); JSON renders ``data`` itself: a list stays a
    bare array, as the spec's JSON examples show."""
    if fmt == "json":
        response = JsonResponse(data, safe=False, status=status, json_dumps_params={"ensure_ascii": False})
        response["Content-Type"] = FORMATS["json"]
        return response
    body = ET.tostring(_element(root, data), encoding="utf-8", xml_declaration=True)
    return HttpResponse(body, content_type=FORMATS["xml"], status=status)


def spec_status(error: DomainError) -> int:
    """The spec knows 400, 403 and 404: an invalid or missing key is 403 (our API says 401),
    anything else that is not "not found" is a 400 ("general service error"). A rate limit
    stays 429, which HTTP clients already know to retry later."""
    if error.status in (401, 403):
        return 403
    if error.status in (404, 429):
        return error.status
    return 400


def render_error(fmt: str, error: DomainError) -> HttpResponse:
    status = spec_status(error)
    # code: the HTTP status, as in the spec's examples; our stable code rides in the description.
    errors = [{"code": status, "description": f"{error.message} ({error.code})"}]
    return render(fmt if fmt in FORMATS else "xml", "errors", errors, status=status)

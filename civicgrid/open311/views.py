"""The GeoReport v2 endpoints at /open311/v2/. Thin: parse, call a selector or the service,
render. Every refusal is the spec's error list in the requested format; a refused post is on
the audit trail.
"""

from __future__ import annotations

import functools

from django.conf import settings
from django.http import Http404
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from civicgrid.accounts.tokens import token_check
from civicgrid.audit.models import AuditResult
from civicgrid.audit.services import audit_record, audit_record_denial, client_ip
from civicgrid.cases.files import serve_attachment
from civicgrid.cases.models import Attachment, CaseState
from civicgrid.errors import DomainError, NotFound
from civicgrid.open311 import selectors, services
from civicgrid.open311.render import FORMATS, render, render_error, spec_status, w3
from civicgrid.pii.masking import mask_text
from civicgrid.throttle import throttle_allows

SPEC = "http://wiki.open311.org/GeoReport_v2"
POST_SCOPE = "cases:write"


def open311_view(*methods: str):
    """Check the format and method, and answer any DomainError in the spec's error format."""

    def wrap(view):
        @functools.wraps(view)
        def inner(request, *args, fmt: str, **kwargs):
            try:
                if fmt not in FORMATS:
                    raise NotFound("unknown_format", _("Formats are xml and json."))
                if request.method not in methods:
                    raise DomainError(
                        "method_not_allowed", _("Use %(m)s here.") % {"m": " or ".join(methods)}
                    )
                return view(request, *args, fmt=fmt, **kwargs)
            except DomainError as error:
                if request.method == "POST":
                    _record_refusal(request, error)
                return render_error(fmt, error)

        return inner

    return wrap


def _record_refusal(request, error: DomainError) -> None:
    """A refused post on the audit trail: who (the key's user, when the key was good), which
    service, why. Outside the post's transaction, which rolled back."""
    detail = {
        "code": error.code,
        "status": spec_status(error),
        "service_code": request.POST.get("service_code", "")[:16],
        "fields": sorted(k[:40] for k in request.POST if k != "api_key")[:40],
    }
    if spec_status(error) == 403:
        audit_record_denial(
            request=request, object_type="open311.request", object_id=request.path, detail=detail
        )
    else:
        audit_record(
            action="open311.post_refused",
            result=AuditResult.FAILURE,
            request=request,
            object_type="open311.request",
            detail=detail,
        )


def _jurisdiction(request) -> selectors.Jurisdiction:
    params = request.POST if request.method == "POST" else request.GET
    return selectors.jurisdiction_resolve(params.get("jurisdiction_id"))


@open311_view("GET")
def discovery(request, fmt: str):
    base = request.build_absolute_uri(reverse("open311-discovery", kwargs={"fmt": fmt}))
    base = base.rsplit("/", 1)[0] + "/"
    data = {
        "changeset": "2026-11-28T00:00:00+08:00",
        "contact": _("The district's grid management centre (via the 12345 hotline)."),
        "key_service": _("Ask the district's grid management centre for an API key."),
        "endpoints": [
            {
                "specification": SPEC,
                "url": base,
                "changeset": "2026-11-28T00:00:00+08:00",
                "type": "production",
                "formats": ["text/xml", "application/json"],
            }
        ],
    }
    return render(fmt, "discovery", data)


@open311_view("GET")
def service_list(request, fmt: str):
    _jurisdiction(request)
    fields = ("service_code", "service_name", "description", "metadata", "type", "keywords", "group")
    data = [{k: s[k] for k in fields} for s in selectors.service_list()]
    return render(fmt, "services", data)


@open311_view("GET")
def service_definition(request, code: str, fmt: str):
    _jurisdiction(request)
    service = selectors.service_get(code)
    data = {"service_code": service["service_code"], "attributes": selectors.service_attributes()}
    return render(fmt, "service_definition", data)


@csrf_exempt  # the one write: authenticated by its api_key, never by a session cookie
@open311_view("GET", "POST")
def requests(request, fmt: str):
    if request.method == "POST":
        return _post(request, fmt)
    if not throttle_allows(
        f"open311-list:{client_ip(request) or 'unknown'}",
        # The list is public and a full page costs the server ~0.1 s (0 turns the limit off).
        limit=settings.OPEN311_LIST_RATE_LIMIT,
        seconds=60,
    ):
        raise DomainError(
            "too_many_requests", _("Too many list requests; try again in a minute."), status=429
        )
    jurisdiction = _jurisdiction(request)
    cases = selectors.request_list(jurisdiction=jurisdiction, filters=selectors.request_filter(request.GET))
    return render(fmt, "service_requests", [_public(request, c) for c in cases])


def _post(request, fmt: str):
    # The form field only, as in the spec: a key in the query string would end up in access logs.
    key = request.POST.get("api_key", "")
    if not key:
        raise DomainError("api_key_required", _("POST requests needs an api_key."), status=403)
    api_token = token_check(key.strip(), scope=POST_SCOPE)
    request.user = api_token.user  # the audit trail and the refusal record see who posted
    jurisdiction = _jurisdiction(request)
    posted = services.open311_post(
        api_token=api_token,
        params=request.POST,
        jurisdiction=jurisdiction,
        idempotency_key=request.headers.get("Idempotency-Key", ""),
    )
    answer = {
        "service_request_id": posted.case.number,
        "token": posted.token,
        "service_notice": _("Received. A grid worker will verify it on site."),
        "account_id": posted.account_id,
    }
    return render(fmt, "service_requests", [answer], status=200 if posted.replayed else 201)


@open311_view("GET")
def request_detail(request, number: str, fmt: str):
    case = selectors.request_get(jurisdiction=_jurisdiction(request), number=number)
    return render(fmt, "service_requests", [_public(request, case)])


@open311_view("GET")
def token_detail(request, token: str, fmt: str):
    found = selectors.token_get(jurisdiction=_jurisdiction(request), token=token)
    return render(fmt, "service_requests", [{"service_request_id": found.case.number, "token": found.token}])


def request_media(request, number: str, attachment_id: int):
    """The public photo of a listed request (the follow page's secret link is never exposed)."""
    try:
        case = selectors.request_get(jurisdiction=selectors.jurisdiction_resolve(None), number=number)
    except DomainError:
        raise Http404 from None
    photos = Attachment.objects.filter(case_id=case["id"], pk=attachment_id, public=True, kind="image")
    attachment = None if selectors.is_private(case) else photos.first()
    if attachment is None:
        raise Http404
    return serve_attachment(attachment)


def _public(request, case: dict) -> dict:
    """A case (a row of selectors._public_cases) as the spec's request: what the public may see."""
    private = selectors.is_private(case)
    digits = selectors.COARSE_DIGITS if private else 6
    media = ""
    if case["public_photo"] and not private:
        media = request.build_absolute_uri(
            reverse("open311-media", args=[case["number"], case["public_photo"]])
        )
    return {
        "service_request_id": case["number"],
        "status": "closed" if case["state"] == CaseState.CLOSED else "open",
        "status_notes": mask_text(case["public_note"] or ""),
        "service_name": case["service_name"] or "",
        "service_code": case["service_code"] or "",
        "description": "" if private else mask_text(case["description"] or case["title"]),
        "agency_responsible": case["agency"],
        "service_notice": "",
        "requested_datetime": w3(case["created_at"]),
        "updated_datetime": w3(case["updated_at"]),
        "expected_datetime": w3(case["due_at"]),
        "address": "" if private else mask_text(case["address"]),
        "address_id": case["grid_code"],
        "zipcode": "",
        "lat": round(case["lat"], digits),
        "long": round(case["lon"], digits),
        "media_url": media,
    }

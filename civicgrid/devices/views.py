"""The alarm webhook (devices post here, no session) and the registry's staff pages. Thin: parse,
call a service or selector, render."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from civicgrid.accounts.scopes import request_scope
from civicgrid.audit.services import DENIAL_RECORDED, audit_record_denial, client_ip
from civicgrid.cases.views import see_other
from civicgrid.devices import intake, selectors, services
from civicgrid.devices.models import AlarmOutcome, Device, DeviceKind
from civicgrid.errors import DomainError, NotFound, OutOfScope

PAGE_SIZE = 100


@csrf_exempt  # devices sign with their own secret; there is no session to forge
@require_POST
def alarm_webhook(request):
    """POST /devices/alarms — one signed alarm (headers X-Device-Id, X-Timestamp, X-Signature)."""
    received = intake.Request(
        device_id=request.headers.get("X-Device-Id", ""),
        timestamp=request.headers.get("X-Timestamp", ""),
        signature=request.headers.get("X-Signature", ""),
        body=request.body,
        ip=client_ip(request),
    )
    try:
        taken = intake.alarm_receive(received)
    except intake.Refused as exc:
        setattr(request, DENIAL_RECORDED, True)  # on the trail already (devices.alarm_refused)
        return JsonResponse(exc.as_dict(), status=exc.status)
    return JsonResponse(taken.as_dict(), status=taken.status)


def _device_or_404(request, external_id: str) -> Device:
    try:
        return selectors.device_get(scope=request_scope(request), external_id=external_id)
    except OutOfScope as exc:
        audit_record_denial(request=request, object_type=exc.object_type, object_id=exc.object_id)
        raise Http404 from None
    except NotFound:
        raise Http404 from None


@login_required
def device_list(request):
    scope = request_scope(request)
    params = {k: request.GET.get(k, "") for k in ("kind", "active", "q")}
    rows = selectors.device_list(scope=scope, **params)
    return render(
        request,
        "devices/list.html",
        {
            "devices": rows[:PAGE_SIZE],
            "total": rows.count(),
            "page_size": PAGE_SIZE,
            "params": params,
            "kinds": DeviceKind.choices,
            "may_manage": services.may_manage(scope),
        },
    )


@login_required
def device_detail(request, external_id: str):
    scope = request_scope(request)
    device = _device_or_404(request, external_id)
    counts = selectors.alarm_counts(device=device)
    return render(
        request,
        "devices/detail.html",
        {
            "device": device,
            "alarms": selectors.alarm_list(scope=scope, device=device),
            "counts": [(value, label, counts.get(value, 0)) for value, label in AlarmOutcome.choices],
            "may_manage": services.may_manage(scope),
            "kinds": DeviceKind.choices,
        },
    )


def _input(post, *, external_id: str = "") -> services.DeviceInput:
    def number(name):
        try:
            return float(post.get(name, ""))
        except ValueError:
            return None

    return services.DeviceInput(
        external_id=external_id or post.get("external_id", ""),
        kind=post.get("kind", ""),
        name=post.get("name", ""),
        lon=number("lon"),
        lat=number("lat"),
        address=post.get("address", ""),
        crs=post.get("crs", "wgs84"),
        active=post.get("active", "1") == "1",
    )


def secret_page(request, device: Device, secret: str, *, rotated: bool):
    # Shown once, never stored in the session or a message: reloading the page cannot show it again.
    response = render(
        request,
        "devices/secret.html",
        {
            "device": device,
            "secret": secret,
            "rotated": rotated,
            "webhook": request.build_absolute_uri(reverse("device-alarms")),
        },
    )
    response["Cache-Control"] = "no-store"
    return response


@login_required
def device_new(request):
    scope = request_scope(request)
    if not services.may_manage(scope):
        raise DomainError("forbidden", _("You may not manage devices."), status=403)
    error = None
    if request.method == "POST":
        try:
            device, secret = services.device_register(scope=scope, by=request.user, data=_input(request.POST))
        except DomainError as exc:
            error = exc
        else:
            return secret_page(request, device, secret, rotated=False)
    return render(
        request,
        "devices/form.html",
        {"kinds": DeviceKind.choices, "error": error, "values": request.POST, "device": None},
        status=error.status if error else 200,
    )


@login_required
def device_edit(request, external_id: str):
    scope = request_scope(request)
    device = _device_or_404(request, external_id)
    if not services.may_manage(scope):
        raise DomainError("forbidden", _("You may not manage devices."), status=403)
    error = None
    values = {
        "kind": device.kind,
        "name": device.name,
        "lon": device.lon,
        "lat": device.lat,
        "address": device.address,
        "active": "1" if device.active else "0",
    }
    if request.method == "POST":
        values = request.POST
        try:
            services.device_update(
                scope=scope,
                by=request.user,
                device=device,
                data=_input(request.POST, external_id=external_id),
            )
        except DomainError as exc:
            error = exc
        else:
            messages.success(request, _("The device was saved."))
            return see_other(reverse("device-detail", args=[external_id]))
    return render(
        request,
        "devices/form.html",
        {"kinds": DeviceKind.choices, "error": error, "values": values, "device": device},
        status=error.status if error else 200,
    )


@login_required
@require_POST
def device_rotate(request, external_id: str):
    scope = request_scope(request)
    device = _device_or_404(request, external_id)
    secret = services.device_rotate_secret(scope=scope, by=request.user, device=device)
    return secret_page(request, device, secret, rotated=True)

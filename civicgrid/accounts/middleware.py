from django.http import JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from civicgrid.accounts.passwords import password_expired
from civicgrid.accounts.selectors import second_factor_required
from civicgrid.errors import DomainError


class PasswordExpiryMiddleware:
    """With expiry on, a user whose password is too old must change it before anything else."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and password_expired(user):
            allowed = (
                reverse("password_change"),
                reverse("password_change_done"),
                reverse("logout"),
                "/static/",
            )
            if not request.path.startswith(allowed):
                if request.path.startswith("/api/"):
                    error = DomainError("password_expired", _("Your password has expired: change it first."))
                    return JsonResponse(error.as_dict(), status=403)
                return redirect("password_change")
        return self.get_response(request)


class SecondFactorSetupMiddleware:
    """A user whose role the security admin marked must set up TOTP before anything else.

    Place it after ``PasswordExpiryMiddleware``: an expired password is changed first, and the
    password pages stay reachable from here so the two never send each other round in a loop.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and not user.has_second_factor
            and second_factor_required(user=user)
        ):
            allowed = (
                reverse("totp-setup"),
                reverse("password_change"),
                reverse("password_change_done"),
                reverse("logout"),
                "/static/",
                "/i18n/",
            )
            if not request.path.startswith(allowed):
                if request.path.startswith("/api/"):
                    error = DomainError(
                        "second_factor_required",
                        _("Your role requires a second factor: set it up first."),
                    )
                    return JsonResponse(error.as_dict(), status=403)
                query = urlencode({"next": request.get_full_path()})
                return redirect(f"{reverse('totp-setup')}?{query}")
        return self.get_response(request)

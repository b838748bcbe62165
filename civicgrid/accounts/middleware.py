from django.http import JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _

from civicgrid.accounts.passwords import password_expired
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

"""Things a signed-in user must do before anything else: change an expired password, set up a
required second factor. One mechanism, two rules."""

from abc import ABC, abstractmethod

from django.http import JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from civicgrid.accounts.passwords import password_expired
from civicgrid.accounts.selectors import second_factor_required
from civicgrid.errors import DomainError

# Reachable whatever is pending, so the two rules never send a user round in a loop.
_ALWAYS_ALLOWED = ("password_change", "password_change_done", "logout")


class _MustDoFirstMiddleware(ABC):
    """Redirect pages (403 for the API) to ``target`` while ``pending(user)`` holds."""

    target: str
    also_allowed: tuple[str, ...] = ()
    error_code: str
    keep_next = False

    def __init__(self, get_response):
        self.get_response = get_response
        self._allowed = None

    @abstractmethod
    def pending(self, user) -> bool:
        """Whether ``user`` still has this to do."""

    @abstractmethod
    def error_message(self) -> str:
        """What the API says while it is pending."""

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or not self.pending(user):
            return self.get_response(request)
        if self._allowed is None:  # URLs resolve only once the URLconf is loaded
            names = (self.target, *_ALWAYS_ALLOWED)
            self._allowed = (*(reverse(name) for name in names), *self.also_allowed, "/static/")
        if request.path.startswith(self._allowed):
            return self.get_response(request)
        if request.path.startswith("/api/"):
            return JsonResponse(DomainError(self.error_code, self.error_message()).as_dict(), status=403)
        url = reverse(self.target)
        if self.keep_next:
            url = f"{url}?{urlencode({'next': request.get_full_path()})}"
        return redirect(url)


class PasswordExpiryMiddleware(_MustDoFirstMiddleware):
    """With expiry on, a user whose password is too old must change it before anything else."""

    target = "password_change"
    error_code = "password_expired"

    def pending(self, user) -> bool:
        return password_expired(user)

    def error_message(self) -> str:
        return _("Your password has expired: change it first.")


class SecondFactorSetupMiddleware(_MustDoFirstMiddleware):
    """A user whose role the security admin marked must set up TOTP before anything else.

    Placed after ``PasswordExpiryMiddleware``: an expired password is changed first.
    """

    target = "totp-setup"
    also_allowed = ("/i18n/",)
    error_code = "second_factor_required"
    keep_next = True

    def pending(self, user) -> bool:
        return not user.has_second_factor and second_factor_required(user=user)

    def error_message(self) -> str:
        return _("Your role requires a second factor: set it up first.")

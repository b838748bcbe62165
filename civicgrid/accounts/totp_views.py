"""Pages of the second factor: the code step of the login, and turning TOTP on or off.

Between the password and the code nobody is logged in: the session holds only the pending
user's id, their backend, where to go next and when the password was checked.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import login as auth_login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from civicgrid.accounts.forms import LoginForm, TotpCodeForm
from civicgrid.accounts.lockout import client_ip, is_locked
from civicgrid.accounts.models import User
from civicgrid.accounts.selectors import second_factor_required
from civicgrid.accounts.totp import (
    PENDING_SECONDS,
    totp_disable,
    totp_enable,
    totp_login_check,
    totp_setup_begin,
)
from civicgrid.errors import DomainError

PENDING_KEY = "civicgrid_totp_pending"


class TwoStepLoginView(auth_views.LoginView):
    """The password step; with a second factor on, it hands over to the code step instead."""

    authentication_form = LoginForm
    redirect_authenticated_user = True

    def form_valid(self, form):
        user = form.get_user()
        if not user.has_second_factor:
            return super().form_valid(form)
        # A fresh session key, so a key planted before the password step is worth nothing.
        self.request.session.cycle_key()
        self.request.session[PENDING_KEY] = {
            "user_id": user.pk,
            "backend": user.backend,
            "at": timezone.now().timestamp(),
            "next": self.get_redirect_url(),
        }
        return redirect("login-totp")


def _pending(request) -> tuple[User, dict] | None:
    """The user waiting for their code, or None (and the state dropped) if it is stale."""
    state = request.session.get(PENDING_KEY)
    if not isinstance(state, dict):
        return None
    age = timezone.now().timestamp() - float(state.get("at", 0))
    user = User.objects.filter(pk=state.get("user_id"), is_active=True).first()
    if not 0 <= age <= PENDING_SECONDS or user is None or not user.has_second_factor:
        request.session.pop(PENDING_KEY, None)
        return None
    return user, state


@never_cache
@require_http_methods(["GET", "POST"])
def login_totp(request):
    pending = _pending(request)
    if pending is None:
        return redirect(f"{reverse('login')}?{urlencode({'expired': 1})}")
    user, state = pending
    form = TotpCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if is_locked(username=user.get_username(), ip=client_ip(request)):
            # Locked in the meantime: start over, where the login form says why.
            request.session.pop(PENDING_KEY, None)
            form.add_error(None, LoginForm.error_messages["locked"])
        elif totp_login_check(user=user, code=form.cleaned_data["code"], request=request):
            request.session.pop(PENDING_KEY, None)
            auth_login(request, user, backend=state["backend"])
            return redirect(state.get("next") or resolve_url(settings.LOGIN_REDIRECT_URL))
        else:
            form.add_error("code", _("That code is not right. Try the newest one."))
    return render(request, "registration/login_totp.html", {"form": form})


def _safe_next(request) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    allowed = url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return target if allowed else ""


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def totp_setup(request):
    """Turn the second factor on (forced here when the role needs it) or off (when it does not)."""
    user = request.user
    required = second_factor_required(user=user)
    form = TotpCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        code = form.cleaned_data["code"]
        try:
            if request.POST.get("action") == "disable":
                totp_disable(user=user, code=code, request=request)
                return redirect("totp-setup")
            totp_enable(user=user, code=code, request=request)
            return redirect(_safe_next(request) or "totp-setup")
        except DomainError as error:
            form.add_error("code", error.message)
    context = {
        "form": form,
        "required": required,
        "setup": None if user.has_second_factor else totp_setup_begin(user=user),
        "next": _safe_next(request),
    }
    return render(request, "registration/totp_setup.html", context)

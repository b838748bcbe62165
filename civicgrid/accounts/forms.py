from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from civicgrid.accounts.lockout import client_ip, is_locked


class LoginForm(AuthenticationForm):
    """The login form, which says plainly when an account or address is locked."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "locked": _(
            "Too many failed logins: this account or address is locked for a while. "
            "A security administrator can unlock it."
        ),
    }

    def clean(self):
        if is_locked(username=self.cleaned_data.get("username"), ip=client_ip(self.request)):
            raise forms.ValidationError(self.error_messages["locked"], code="locked")
        return super().clean()


class TotpCodeForm(forms.Form):
    """The six digits an authenticator app shows (spaces, as some apps print them, allowed)."""

    code = forms.CharField(
        label=_("Code from your authenticator app"),
        max_length=7,
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "one-time-code", "pattern": "[0-9 ]{6,7}"}
        ),
    )

    def clean_code(self) -> str:
        code = self.cleaned_data["code"].replace(" ", "")
        if len(code) != 6 or not code.isdigit():
            raise forms.ValidationError(_("Enter the 6 digits your app shows."), code="totp_format")
        return code

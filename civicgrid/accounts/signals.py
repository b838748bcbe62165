"""Login attempts feed the lockout counter; a successful login clears nothing by itself."""

from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.dispatch import receiver

from civicgrid.accounts.lockout import attempt_record, client_ip


@receiver(user_login_failed)
def _login_failed(sender, credentials, request=None, **kwargs):
    attempt_record(username=str(credentials.get("username") or ""), ip=client_ip(request), success=False)


@receiver(user_logged_in)
def _logged_in(sender, request, user, **kwargs):
    attempt_record(username=user.get_username(), ip=client_ip(request), success=True)

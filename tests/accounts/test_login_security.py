"""Lockout, password policy, expiry and idle timeout, as a person at the login page meets them."""

from datetime import timedelta

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.test import override_settings
from django.utils import timezone

from civicgrid.accounts.lockout import lockout_clear
from civicgrid.accounts.models import LoginAttempt, User

pytestmark = pytest.mark.django_db
GOOD = "Grid-Worker-2026"


@pytest.fixture
def worker(db):
    return User.objects.create_user("worker", password=GOOD)


def _login(client, username="worker", password=GOOD, ip="10.1.1.1"):
    return client.post("/accounts/login/", {"username": username, "password": password}, REMOTE_ADDR=ip)


def test_five_failures_lock_the_account_even_with_the_right_password(client, worker):
    for _ in range(5):
        assert _login(client, password="wrong").status_code == 200
    page = _login(client)
    assert page.status_code == 200 and "_auth_user_id" not in client.session
    assert b"locked" in page.content or "锁定".encode() in page.content
    # The admin login obeys the same lock: it goes through the same backend.
    assert not client.login(username="worker", password=GOOD)


def test_failures_from_one_address_lock_the_address_for_every_account(client, worker):
    User.objects.create_user("other", password=GOOD)
    for n in range(5):
        _login(client, username=f"nobody{n}", password="x", ip="10.9.9.9")
    assert "_auth_user_id" not in _login(client, username="other", ip="10.9.9.9").wsgi_request.session
    assert _login(client, username="other", ip="10.2.2.2").status_code == 302


def test_a_security_admin_unlock_clears_the_failures(client, worker):
    for _ in range(5):
        _login(client, password="wrong")
    assert lockout_clear(username="worker") == 5
    assert _login(client).status_code == 302


def test_old_failures_outside_the_window_do_not_count(client, worker):
    for _ in range(5):
        _login(client, password="wrong")
    LoginAttempt.objects.update(at=timezone.now() - timedelta(minutes=16))
    assert _login(client).status_code == 302


def test_every_attempt_is_recorded_without_the_password(client, worker):
    _login(client, password="wrong-secret")
    _login(client)
    assert list(LoginAttempt.objects.order_by("id").values_list("username", "success")) == [
        ("worker", False),
        ("worker", True),
    ]


@pytest.mark.parametrize("password", ["short1A", "alllowercase", "lowercase123", "ALLUPPER123"])
def test_weak_passwords_are_refused_with_a_reason(worker, password):
    with pytest.raises(ValidationError):
        validate_password(password, worker)


def test_the_last_five_passwords_cannot_be_reused(worker):
    passwords = [f"Grid-Pass-{n}x" for n in range(6)]
    for password in passwords:
        validate_password(password, worker)
        worker.set_password(password)
        worker.save()  # save() reports the change to the validators, which remember it
    with pytest.raises(ValidationError):
        validate_password(passwords[-1], worker)  # the current one
    with pytest.raises(ValidationError):
        validate_password(passwords[2], worker)
    validate_password(passwords[0], worker)  # six ago: allowed again
    assert worker.password_history.count() == 5


@override_settings(PASSWORD_EXPIRY_DAYS=90)
def test_an_expired_password_must_be_changed_first(client, worker):
    User.objects.filter(pk=worker.pk).update(password_changed_at=timezone.now() - timedelta(days=91))
    client.force_login(worker)
    assert client.get("/").url == "/accounts/password/"
    api = client.get("/api/v1/health")
    assert api.status_code == 403 and api.json()["error"]["code"] == "password_expired"
    assert client.get("/accounts/password/").status_code == 200


def test_expiry_is_off_by_default(client, worker):
    User.objects.filter(pk=worker.pk).update(password_changed_at=timezone.now() - timedelta(days=3650))
    client.force_login(worker)
    assert client.get("/").status_code == 200


def test_sessions_end_after_thirty_idle_minutes(client, worker, settings):
    assert settings.SESSION_COOKIE_AGE == 30 * 60 and settings.SESSION_SAVE_EVERY_REQUEST
    _login(client)
    session = client.session
    assert session.get_expiry_age() == 30 * 60
    from django.contrib.sessions.models import Session

    row = Session.objects.get(session_key=session.session_key)
    row.expire_date = timezone.now() - timedelta(seconds=1)
    row.save()
    assert client.get("/api/v1/regions/x/people").status_code == 404
    assert "_auth_user_id" not in client.session


def test_behind_a_declared_proxy_the_lock_falls_on_the_client_not_the_proxy(client, worker, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    User.objects.create_user("other", password=GOOD)
    for n in range(5):
        client.post("/accounts/login/", {"username": f"nobody{n}", "password": "x"},
                    REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.9")  # fmt: skip
    assert set(LoginAttempt.objects.values_list("ip", flat=True)) == {"203.0.113.9"}
    # Another client through the same proxy is not locked out.
    response = client.post("/accounts/login/", {"username": "other", "password": GOOD},
                           REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.7")  # fmt: skip
    assert response.status_code == 302

"""The TOTP second factor: setting it up, the code step of the login, and roles that require it."""

from datetime import timedelta

import pyotp
import pytest
from django.db import IntegrityError, connection
from django.utils import timezone

from civicgrid.accounts.models import LoginAttempt, Role, RoleAssignment, SecondFactorPolicy, User
from civicgrid.audit.models import AuditRecord

pytestmark = pytest.mark.django_db
GOOD = "Grid-Worker-2026"
SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
SETUP_MIDDLEWARE = "civicgrid.accounts.middleware.SecondFactorSetupMiddleware"


@pytest.fixture(autouse=True)
def _setup_middleware(settings):
    # Until settings.MIDDLEWARE lists it, put it where it belongs: after the password expiry.
    if SETUP_MIDDLEWARE not in settings.MIDDLEWARE:
        middleware = list(settings.MIDDLEWARE)
        at = middleware.index("civicgrid.accounts.middleware.PasswordExpiryMiddleware") + 1
        settings.MIDDLEWARE = [*middleware[:at], SETUP_MIDDLEWARE, *middleware[at:]]


@pytest.fixture
def worker(db):
    """A person who has not turned the second factor on."""
    return User.objects.create_user("worker", password=GOOD)


@pytest.fixture
def owner(db):
    """A staff member with the second factor on."""
    user = User.objects.create_user("owner", password=GOOD, is_staff=True, is_superuser=True)
    user.totp_secret = SECRET
    user.totp_confirmed_at = timezone.now()
    user.save()
    return user


@pytest.fixture
def security_admin_role_required(db):
    return SecondFactorPolicy.objects.create(role=Role.SECURITY_ADMIN, required=True)


def _make_security_admin(user):
    RoleAssignment.objects.create(user=user, role=Role.SECURITY_ADMIN, valid_from=timezone.localdate())


def _password_step(client, username="owner", next_url="/map/", ip="10.1.1.1"):
    data = {"username": username, "password": GOOD, "next": next_url}
    return client.post("/accounts/login/", data, REMOTE_ADDR=ip)


def _code_step(client, code, ip="10.1.1.1"):
    return client.post("/accounts/login/totp/", {"code": code}, REMOTE_ADDR=ip)


def _code(secret=SECRET, at=None):
    return pyotp.TOTP(secret).at(at or timezone.now())


def _wrong(code):
    return f"{(int(code) + 1) % 1_000_000:06d}"


def test_it_turns_on_only_with_a_correct_code(client, worker):
    client.force_login(worker)
    page = client.get("/accounts/totp/setup/")
    worker.refresh_from_db()
    secret = worker.totp_secret.reveal()
    assert page.status_code == 200 and secret[:4].encode() in page.content
    assert b"otpauth://totp/" in page.content

    refused = client.post("/accounts/totp/setup/", {"action": "enable", "code": _wrong(_code(secret))})
    worker.refresh_from_db()
    assert refused.status_code == 200 and worker.totp_confirmed_at is None
    assert AuditRecord.objects.filter(action="auth.totp_failed", actor=worker).exists()

    client.post("/accounts/totp/setup/", {"action": "enable", "code": _code(secret)})
    worker.refresh_from_db()
    assert worker.has_second_factor
    assert AuditRecord.objects.filter(action="auth.totp_enabled", actor=worker, result="success").exists()


def test_it_keeps_the_same_key_until_it_is_confirmed(client, worker):
    client.force_login(worker)
    client.get("/accounts/totp/setup/")
    first = User.objects.get(pk=worker.pk).totp_secret.reveal()
    client.get("/accounts/totp/setup/")
    assert User.objects.get(pk=worker.pk).totp_secret.reveal() == first


def test_it_logs_in_only_after_the_code_step(client, owner):
    page = _password_step(client)
    assert page.status_code == 302 and page["Location"] == "/accounts/login/totp/"
    assert "_auth_user_id" not in client.session
    assert client.get("/accounts/totp/setup/").status_code == 302  # still anonymous

    done = _code_step(client, _code())
    assert done.status_code == 302 and done["Location"] == "/map/"
    assert client.session["_auth_user_id"] == str(owner.pk)


def test_it_logs_in_a_person_without_a_second_factor_on_the_password_alone(client, worker):
    page = _password_step(client, username="worker")
    assert page.status_code == 302 and client.session["_auth_user_id"] == str(worker.pk)


def test_it_refuses_a_wrong_code_audits_it_and_counts_it_toward_the_lockout(client, owner):
    _password_step(client)
    for _ in range(5):
        page = _code_step(client, _wrong(_code()))
        assert page.status_code == 200 and "_auth_user_id" not in client.session
    assert LoginAttempt.objects.filter(username="owner", success=False).count() == 5
    assert AuditRecord.objects.filter(action="auth.totp_failed", result="denied").count() == 5

    locked = _code_step(client, _code())
    assert "_auth_user_id" not in client.session
    assert b"locked" in locked.content or "锁定".encode() in locked.content
    # And the password step is locked too, for the account.
    _password_step(client, ip="10.2.2.2")
    assert "_auth_user_id" not in client.session and "civicgrid_totp_pending" not in client.session


def test_it_never_accepts_the_same_code_twice(client, owner):
    code = _code()
    _password_step(client)
    _code_step(client, code)
    client.logout()
    _password_step(client)
    assert _code_step(client, code).status_code == 200
    assert "_auth_user_id" not in client.session


def test_it_drops_the_pending_step_after_five_minutes(client, owner, monkeypatch):
    _password_step(client)
    later = timezone.now() + timedelta(minutes=5, seconds=5)
    monkeypatch.setattr(timezone, "now", lambda: later)
    page = _code_step(client, _code(at=later))
    assert page.status_code == 302 and page["Location"].startswith("/accounts/login/")
    assert "_auth_user_id" not in client.session and "civicgrid_totp_pending" not in client.session


def test_it_sends_a_marked_role_to_setup_from_every_page(client, worker, security_admin_role_required):
    _make_security_admin(worker)
    _password_step(client, username="worker")
    assert client.session["_auth_user_id"] == str(worker.pk)

    page = client.get("/map/")
    assert page.status_code == 302 and page["Location"] == "/accounts/totp/setup/?next=%2Fmap%2F"
    assert client.get("/admin/").status_code == 302
    api = client.get("/api/v1/departments")
    assert api.status_code == 403 and api.json()["error"]["code"] == "second_factor_required"
    assert client.get("/accounts/totp/setup/").status_code == 200

    secret = User.objects.get(pk=worker.pk).totp_secret.reveal()
    done = client.post("/accounts/totp/setup/", {"action": "enable", "code": _code(secret), "next": "/map/"})
    assert done["Location"] == "/map/"
    assert client.get("/map/").status_code == 200


def test_it_does_not_force_setup_on_roles_that_are_not_marked(client, worker):
    SecondFactorPolicy.objects.create(role=Role.SECURITY_ADMIN, required=False)
    _make_security_admin(worker)
    client.force_login(worker)
    assert client.get("/map/").status_code == 200


def test_it_refuses_to_turn_off_a_factor_the_role_requires(client, owner, security_admin_role_required):
    _make_security_admin(owner)
    client.force_login(owner)
    page = client.post("/accounts/totp/setup/", {"action": "disable", "code": _code()})
    owner.refresh_from_db()
    assert page.status_code == 200 and owner.has_second_factor
    assert not AuditRecord.objects.filter(action="auth.totp_disabled").exists()


def test_it_lets_a_person_turn_off_their_own_factor_with_a_code(client, owner):
    client.force_login(owner)
    client.post("/accounts/totp/setup/", {"action": "disable", "code": _wrong(_code())})
    owner.refresh_from_db()
    assert owner.has_second_factor

    client.post("/accounts/totp/setup/", {"action": "disable", "code": _code()})
    owner.refresh_from_db()
    assert not owner.has_second_factor and owner.totp_secret == ""
    assert AuditRecord.objects.filter(action="auth.totp_disabled", actor=owner).exists()


def test_it_sends_the_admin_login_to_the_public_two_step_login(client, owner):
    page = client.post("/admin/login/?next=/admin/", {"username": "owner", "password": GOOD})
    assert page.status_code == 302 and page["Location"] == "/accounts/login/?next=/admin/"
    assert "_auth_user_id" not in client.session

    bounced = client.get("/admin/", follow=True)
    assert bounced.redirect_chain[-1][0] == "/accounts/login/?next=%2Fadmin%2F"
    assert "_auth_user_id" not in client.session

    _password_step(client, next_url="/admin/")
    assert _code_step(client, _code())["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_it_stores_the_secret_encrypted(owner):
    with connection.cursor() as cursor:
        cursor.execute("SELECT totp_secret FROM accounts_user WHERE id = %s", [owner.pk])
        (stored,) = cursor.fetchone()
    assert SECRET not in stored and SECRET.lower() not in stored.lower()
    user = User.objects.get(pk=owner.pk)
    assert str(user.totp_secret) == "******" and user.totp_secret.reveal() == SECRET


def test_it_accepts_only_known_roles_in_the_policy(db):
    with pytest.raises(IntegrityError):
        SecondFactorPolicy.objects.create(role="emperor")

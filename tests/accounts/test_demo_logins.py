import pytest

from civicgrid.accounts.models import Role
from civicgrid.demo.loader import DEMO_PASSWORD

pytestmark = pytest.mark.django_db


def test_there_is_one_demo_login_per_role_and_each_works(client, demo_staff):
    logins = demo_staff.logins
    assert {login.role for login in logins} == {role.label for role in Role}
    for login in logins:
        assert client.login(username=login.username, password=DEMO_PASSWORD), login
        client.logout()
    assert not client.login(username="operator", password="wrong-password")

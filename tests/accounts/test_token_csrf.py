"""A bearer token needs no CSRF token: integrations POST without cookies.

Django's test client skips CSRF checks unless told otherwise, so these use
``Client(enforce_csrf_checks=True)``, as a real integration (or a load generator) meets the server.
"""

from __future__ import annotations

import pytest
from django.test import Client

from civicgrid.accounts.models import User
from civicgrid.accounts.tokens import api_token_create
from civicgrid.cases.models import Case
from tests.cases.conftest import POINT

pytestmark = pytest.mark.django_db


def test_a_token_reports_a_case_without_csrf(demo_staff):
    _, plaintext = api_token_create(
        user=User.objects.get(username="operator"), name="intake", scopes=["cases:write"]
    )
    response = Client(enforce_csrf_checks=True).post(
        "/api/v1/cases/",
        {"channel": "api", "title": "路灯不亮", "lon": POINT[0], "lat": POINT[1]},
        HTTP_AUTHORIZATION=f"Bearer {plaintext}",
        HTTP_IDEMPOTENCY_KEY="csrf-token-test-1",
    )
    assert response.status_code == 201, response.content
    assert Case.objects.filter(idempotency_key="csrf-token-test-1").exists()


def test_a_session_post_still_needs_csrf(demo_staff):
    client = Client(enforce_csrf_checks=True)
    client.force_login(User.objects.get(username="operator"))
    response = client.post(
        "/api/v1/cases/",
        {"channel": "api", "title": "路灯不亮", "lon": POINT[0], "lat": POINT[1]},
        HTTP_IDEMPOTENCY_KEY="csrf-token-test-2",
    )
    assert response.status_code == 403
    assert not Case.objects.filter(idempotency_key="csrf-token-test-2").exists()


def test_a_bad_token_is_refused_even_with_a_session(demo_staff):
    client = Client(enforce_csrf_checks=True)
    client.force_login(User.objects.get(username="operator"))
    response = client.get("/api/v1/cases/", HTTP_AUTHORIZATION="Bearer cg_nope_nope")
    assert response.status_code == 401

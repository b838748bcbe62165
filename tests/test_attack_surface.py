"""Bad input and attack surface: each gets the right refusal, is audited, and changes nothing."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings

from civicgrid.accounts.models import User
from civicgrid.audit.models import AuditRecord
from civicgrid.regions.models import BoundaryGeneration
from tests.regions.helpers import dumps, grid_collection

pytestmark = pytest.mark.django_db
GRID_A = "32010200200101"


def _upload(client, name="attack"):
    data = {"name": name, "commit": True, "file": SimpleUploadedFile("g.geojson", dumps(grid_collection()))}
    return client.post("/api/v1/geo/generations", data)


def test_a_forged_session_cookie_is_just_anonymous(client, demo_staff):
    client.cookies["sessionid"] = "forged0123456789abcdefghijklmnopqrstuv"
    assert client.get(f"/api/v1/regions/{GRID_A}/people").status_code == 404
    response = _upload(client)
    assert response.status_code == 401
    assert not BoundaryGeneration.objects.filter(name="attack").exists()


def test_a_post_without_its_csrf_token_is_refused_and_audited(demo_staff):
    client = Client(enforce_csrf_checks=True)
    client.force_login(User.objects.get(username="admin"))
    response = _upload(client)
    assert response.status_code in (401, 403)
    assert not BoundaryGeneration.objects.filter(name="attack").exists()
    page = client.post("/admin/regions/import/", {"name": "attack"})
    assert page.status_code == 403
    assert AuditRecord.objects.filter(action="access.denied", object_id="/admin/regions/import/").exists()


def test_over_long_input_is_refused_with_a_reason(client, demo_staff):
    client.force_login(User.objects.get(username="admin"))
    response = _upload(client, name="x" * 101)
    assert response.status_code == 422
    assert any(p["kind"] == "bad_name" for p in response.json()["error"]["detail"]["problems"])
    client.force_login(User.objects.get(username="operator"))
    reveal = client.post(
        "/api/v1/departments/D01/reveal",
        {"field": "contact_phone", "reason": "r" * 501},
        content_type="application/json",
    )
    assert reveal.status_code == 422 and reveal.json()["error"]["code"] == "invalid_input"
    assert not AuditRecord.objects.filter(action="pii.reveal").exists()


def test_someone_elses_object_ids_answer_404_and_are_audited(client, demo_staff):
    client.force_login(User.objects.get(username=f"gw-{GRID_A}"))
    other = "32010201000101"
    assert client.get(f"/api/v1/regions/{other}/people").status_code == 404
    record = AuditRecord.objects.get(action="access.denied", object_id=other)
    assert record.actor.username == f"gw-{GRID_A}" and record.result == "denied"


def test_security_headers_are_on(client, db):
    response = client.get("/")
    assert "script-src 'self'" in response["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"


@override_settings(SECURE_HSTS_SECONDS=31_536_000, SECURE_SSL_REDIRECT=False)
def test_hsts_is_sent_over_https_in_production(client, db):
    response = client.get("/", secure=True)
    assert response["Strict-Transport-Security"].startswith("max-age=31536000")


def test_log_lines_carry_no_personal_data(caplog):
    import logging

    from civicgrid.pii.masking import PIIMaskingFilter

    # The project's logging config puts this filter on every handler; check what it leaves.
    handler_filter = PIIMaskingFilter()
    record = logging.LogRecord(
        "django.request",
        logging.WARNING,
        __file__,
        1,
        "caller %s id %s",
        ("13912345678", "11010519491231002X"),
        None,
    )
    assert handler_filter.filter(record)
    line = record.getMessage()
    assert "13912345678" not in line and "11010519491231002X" not in line


def test_the_logging_config_masks_every_handler(settings):
    config = settings.LOGGING
    assert all("mask_pii" in handler.get("filters", []) for handler in config["handlers"].values())
    assert config["loggers"]["django"]["handlers"] == ["console"]

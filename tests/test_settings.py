"""Settings come only from CIVICGRID_* variables; production refuses to start without secrets."""

import os
import subprocess
import sys

import pytest

from civicgrid import env


def _start(extra_env, tmp_path):
    environment = {k: v for k, v in os.environ.items() if not k.startswith("CIVICGRID_")}
    environment.update(
        {"DJANGO_SETTINGS_MODULE": "civicgrid.settings", "CIVICGRID_VAR_DIR": str(tmp_path)}, **extra_env
    )
    code = (
        "import django; django.setup(); from django.conf import settings; "
        "print(settings.DEBUG, settings.LANGUAGE_CODE, settings.SECURE_HSTS_SECONDS, settings.SESSION_COOKIE_SECURE)"
    )
    return subprocess.run(
        [sys.executable, "-c", code], env=environment, capture_output=True, text=True, timeout=60
    )


def test_production_refuses_to_start_without_a_secret(tmp_path):
    result = _start({"CIVICGRID_PRODUCTION": "true"}, tmp_path)
    assert result.returncode != 0
    assert "CIVICGRID_SECRET_KEY" in result.stderr


def test_production_refuses_to_start_without_the_personal_data_key(tmp_path):
    result = _start({"CIVICGRID_PRODUCTION": "true", "CIVICGRID_SECRET_KEY": "y" * 50}, tmp_path)
    assert result.returncode != 0 and "CIVICGRID_PII_KEY_FILE" in result.stderr


def test_production_refuses_a_short_secret(tmp_path):
    result = _start({"CIVICGRID_PRODUCTION": "true", "CIVICGRID_SECRET_KEY": "short"}, tmp_path)
    assert result.returncode != 0 and "40 characters" in result.stderr


def test_production_starts_with_a_secret_file_and_debug_off(tmp_path):
    from civicgrid.pii.keys import keyfile_create

    secret = tmp_path / "secret"
    secret.write_text("x" * 50)
    keys = tmp_path / "pii-keys.json"
    keyfile_create(keys)
    environment = {"CIVICGRID_SECRET_KEY_FILE": str(secret), "CIVICGRID_PII_KEY_FILE": str(keys)}
    result = _start({"CIVICGRID_PRODUCTION": "true", **environment}, tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "zh-hans", "31536000", "True"]


def test_development_generates_and_keeps_a_secret(tmp_path):
    result = _start({}, tmp_path)
    assert result.returncode == 0 and result.stdout.split() == ["True", "zh-hans", "0", "False"]
    key = (tmp_path / "dev-secret-key").read_text()
    assert len(key) > 40
    assert _start({}, tmp_path).returncode == 0
    assert (tmp_path / "dev-secret-key").read_text() == key


def test_a_bad_tile_crs_is_refused(tmp_path):
    result = _start({"CIVICGRID_TILE_CRS": "bd09"}, tmp_path)
    assert result.returncode != 0 and "TILE_CRS" in result.stderr


@pytest.mark.parametrize(
    ("value", "expected"), [("1", True), ("yes", True), ("false", False), ("", True), (None, True)]
)
def test_envbool(monkeypatch, value, expected):
    if value is None:
        monkeypatch.delenv("CIVICGRID_FLAG", raising=False)
    else:
        monkeypatch.setenv("CIVICGRID_FLAG", value)
    assert env.envbool("FLAG", True) is expected


def test_envlist_and_numbers(monkeypatch):
    monkeypatch.setenv("CIVICGRID_HOSTS", "a.example, b.example ,")
    monkeypatch.setenv("CIVICGRID_N", "7")
    monkeypatch.setenv("CIVICGRID_F", "1.5")
    assert env.envlist("HOSTS", []) == ["a.example", "b.example"]
    assert env.envint("N", 0) == 7 and env.envfloat("F", 0) == 1.5 and env.envint("MISSING", 3) == 3

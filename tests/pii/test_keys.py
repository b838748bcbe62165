"""The key file: creation, validation, atomic replacement, reloading, and the settings that find it."""

import json
import os
import stat
import subprocess
import sys

import pytest

from civicgrid.pii import crypto, keys
from civicgrid.pii.apps import check_key_file


def _mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_it_creates_a_private_key_file_with_one_current_key_and_an_index_key(tmp_path):
    path = tmp_path / "keys.json"
    ring = keys.keyfile_create(path)
    assert _mode(path) == 0o600
    data = json.loads(path.read_text())
    assert data["format"] == keys.FORMAT and data["current"] == ring.current_id
    assert list(data["keys"]) == [ring.current_id]
    assert keys.keyring_read(path) == ring
    assert len(ring.current_key) == len(ring.index_key) == 32 and ring.current_key != ring.index_key


def test_it_never_overwrites_an_existing_key_file(tmp_path):
    path = tmp_path / "keys.json"
    keys.keyfile_create(path)
    before = path.read_bytes()
    with pytest.raises(FileExistsError):
        keys.keyfile_create(path)
    assert path.read_bytes() == before


def test_it_replaces_the_file_atomically_and_keeps_it_private(pii_key_file):
    ring, new_id = keys.keyring().with_new_key()
    keys.keyring_write(ring, pii_key_file)
    assert _mode(pii_key_file) == 0o600
    assert keys.keyring_read(pii_key_file).current_id == new_id
    assert [p.name for p in pii_key_file.parent.iterdir()] == [pii_key_file.name]  # no temp file left


def test_it_keeps_group_read_but_drops_what_others_could_do(pii_key_file):
    os.chmod(pii_key_file, 0o664)
    keys.keyring_write(keys.keyring().with_new_key()[0], pii_key_file)
    assert _mode(pii_key_file) == 0o640
    assert pii_key_file.stat().st_uid == os.getuid()


def test_it_changes_the_key_file_from_its_content_not_from_a_cached_copy(pii_key_file, monkeypatch):
    from civicgrid.pii import rotation

    monkeypatch.setattr(keys, "RECHECK_SECONDS", 3600)
    cached = keys.keyring()
    # Another operator's rotation, which this process's cache has not seen yet.
    theirs, their_key = keys.keyring_read(pii_key_file).with_new_key()
    pii_key_file.write_text(json.dumps(theirs.as_json()))
    assert keys.keyring() is cached
    ours = rotation.key_add()
    assert set(keys.keyring_read(pii_key_file).keys) == {cached.current_id, their_key, ours}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not json", "cannot be read"),
        ('{"format": "other"}', "not a CivicGrid key file"),
        ('{"format": "civicgrid-pii-keys/1", "keys": {}}', "at least one key"),
        (
            '{"format": "civicgrid-pii-keys/1", "current": "a", "keys": {"a": {"key": "c2hvcnQ="}}}',
            "32 bytes",
        ),
        (
            '{"format": "civicgrid-pii-keys/1", "current": "b", "keys": {"a": {"key": "%s"}}}'
            % ("A" * 43 + "="),
            "current key 'b' is not among the keys",
        ),
        (
            '{"format": "civicgrid-pii-keys/1", "current": "a", "keys": {"a.b": {"key": "x"}}}',
            "bad key entry",
        ),
        (
            '{"format": "civicgrid-pii-keys/1", "current": "a", "keys": {"a": {"key": "%s"}}}'
            % ("A" * 43 + "="),
            "'index_key' is missing",
        ),
    ],
)
def test_it_explains_what_is_wrong_with_a_bad_key_file(tmp_path, content, message):
    path = tmp_path / "keys.json"
    path.write_text(content)
    with pytest.raises(keys.KeyFileError, match=message):
        keys.keyring_read(path)


def test_it_explains_a_missing_key_file(settings, tmp_path):
    settings.PII_KEY_FILE = tmp_path / "gone.json"
    keys.forget()
    with pytest.raises(keys.KeyFileError, match="does not exist"):
        crypto.encrypt("x", context="a.B.c")


def test_it_notices_a_key_file_changed_by_another_process(pii_key_file, monkeypatch):
    monkeypatch.setattr(keys, "RECHECK_SECONDS", 0)
    first = keys.keyring().current_id
    ring, new_id = keys.keyring_read(pii_key_file).with_new_key()
    # Written behind the cache's back, as the rotation command in another process would.
    pii_key_file.write_text(json.dumps(ring.as_json()))
    assert new_id != first and keys.keyring().current_id == new_id


def test_it_refuses_to_retire_the_current_or_an_unknown_key():
    ring = keys.keyring()
    with pytest.raises(keys.KeyFileError, match="current key"):
        ring.without_key(ring.current_id)
    with pytest.raises(keys.KeyFileError, match="no key"):
        ring.without_key("nope")


def test_it_creates_a_key_file_from_the_command_line_without_django(tmp_path):
    path = tmp_path / "prod-keys.json"
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    command = [sys.executable, "-m", "civicgrid.pii.keys", "create", str(path)]
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "back it up" in result.stdout and _mode(path) == 0o600
    again = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    assert again.returncode == 1 and "already exists" in again.stderr


def test_it_checks_the_key_file_for_civicgrid_check(settings, pii_key_file, tmp_path):
    assert check_key_file() == []
    os.chmod(pii_key_file, 0o640)
    assert check_key_file() == []
    os.chmod(pii_key_file, 0o644)
    assert [m.id for m in check_key_file()] == ["pii.W010"]
    settings.PII_KEY_FILE = tmp_path / "missing.json"
    assert [m.id for m in check_key_file()] == ["pii.E011"]


def _start(extra_env, tmp_path):
    # A var directory of its own: tmp_path already holds this test's key file.
    var_dir = tmp_path / "var"
    var_dir.mkdir(exist_ok=True)
    environment = {k: v for k, v in os.environ.items() if not k.startswith("CIVICGRID_")}
    environment.update(
        {"DJANGO_SETTINGS_MODULE": "civicgrid.settings", "CIVICGRID_VAR_DIR": str(var_dir), **extra_env}
    )
    code = "import django; django.setup(); from django.conf import settings; print(settings.PII_KEY_FILE)"
    return subprocess.run(
        [sys.executable, "-c", code], env=environment, capture_output=True, text=True, timeout=60
    )


def test_it_generates_one_development_key_file_and_keeps_it(tmp_path):
    first = _start({}, tmp_path)
    assert first.returncode == 0, first.stderr
    path = tmp_path / "var" / "pii-keys.json"
    assert first.stdout.strip() == str(path) and _mode(path) == 0o600
    content = path.read_bytes()
    assert _start({}, tmp_path).returncode == 0
    assert path.read_bytes() == content


def test_it_refuses_production_without_a_key_file(tmp_path):
    secret = {"CIVICGRID_PRODUCTION": "true", "CIVICGRID_SECRET_KEY": "x" * 50}
    result = _start(secret, tmp_path)
    assert result.returncode != 0
    assert "CIVICGRID_PII_KEY_FILE" in result.stderr and "ImproperlyConfigured" in result.stderr
    assert not (tmp_path / "var" / "pii-keys.json").exists()

    key_file = tmp_path / "prod-keys.json"
    keys.keyfile_create(key_file)
    started = _start({**secret, "CIVICGRID_PII_KEY_FILE": str(key_file)}, tmp_path)
    assert started.returncode == 0, started.stderr
    assert started.stdout.strip() == str(key_file)


def test_it_refuses_a_configured_key_file_that_does_not_exist(tmp_path):
    result = _start({"CIVICGRID_PII_KEY_FILE": str(tmp_path / "typo.json")}, tmp_path)
    assert result.returncode != 0 and "is not a file" in result.stderr
    assert not (tmp_path / "typo.json").exists()


def test_it_refuses_to_start_with_a_key_file_it_cannot_use(tmp_path):
    broken = tmp_path / "broken.json"
    broken.write_text("{}")
    result = _start({"CIVICGRID_PII_KEY_FILE": str(broken)}, tmp_path)
    assert result.returncode != 0 and "not a CivicGrid key file" in result.stderr

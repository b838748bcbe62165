"""`civicgrid pii …`: status, rotation with re-encryption, sweeps, and retiring keys."""

import pytest
from django.core.management import CommandError, call_command

from civicgrid.pii import crypto, keys
from civicgrid.pii.fields import pii_lookup
from tests.pii.helpers import raw_column

PHONE = "13800138000"


@pytest.fixture
def residents(resident_model):
    rows = [
        resident_model(
            name=f"居民{n}", phone=f"1380013{n:04d}", id_number="" if n % 2 else "11010519491231002X"
        )
        for n in range(7)
    ]
    resident_model.objects.bulk_create(rows)
    return resident_model


def _pii(*args) -> str:
    from io import StringIO

    out = StringIO()
    call_command("pii", *args, stdout=out, stderr=out)
    return out.getvalue()


def _key_ids(model, column):
    return {crypto.token_key_id(token) for token in raw_column(model, column) if token}


def test_it_counts_values_per_key(residents):
    output = _pii("status")
    current = keys.keyring().current_id
    assert f"key {current}" in output and "(current)" in output
    assert f"pii_testapp.Resident.phone: {current}=7" in output
    assert f"pii_testapp.Resident.id_number: {current}=4" in output
    assert "pii_testapp.Resident.tags: no values" in output


def test_it_changes_nothing_in_a_dry_run(residents, pii_key_file):
    key_file, phones = pii_key_file.read_bytes(), raw_column(residents, "phone")
    output = _pii("rotate-key")
    assert "pii_testapp.Resident.phone: examined 7, would be re-encrypted 7" in output
    assert "dry run" in output
    assert pii_key_file.read_bytes() == key_file and raw_column(residents, "phone") == phones


def test_it_rotates_the_key_and_re_encrypts_every_value(residents):
    old = keys.keyring().current_id
    indexes = raw_column(residents, "phone_index")
    output = _pii("rotate-key", "--commit", "--batch-size", "3")
    new = keys.keyring().current_id
    assert new != old and set(keys.keyring().keys) == {old, new}
    assert "pii_testapp.Resident.phone: 3/7" in output and "current key is now" in output
    assert (
        _key_ids(residents, "phone")
        == _key_ids(residents, "name")
        == _key_ids(residents, "id_number")
        == {new}
    )
    # The index key did not change, so neither did the indexes, and lookups still work.
    assert raw_column(residents, "phone_index") == indexes
    assert pii_lookup(residents.objects, "phone", "13800130003").get().name.reveal() == "居民3"
    assert sorted(r.phone.reveal() for r in residents.objects.all()) == [f"1380013{n:04d}" for n in range(7)]


def test_it_sweeps_values_written_under_an_old_key(residents):
    old = keys.keyring().current_id
    _pii("rotate-key", "--commit")
    current = keys.keyring().current_id
    _write_as_stale_worker(residents, old, name="迟到", phone=PHONE)
    assert _key_ids(residents, "phone") == {old, current}
    assert "pii_testapp.Resident.phone: examined 1, re-encrypted 1" in _pii("reencrypt", "--commit")
    assert _key_ids(residents, "phone") == {current}


def _write_as_stale_worker(model, key_id, **values):
    """Save a row as a process that still has ``key_id`` as its current key would."""
    ring = keys.keyring()
    keys.keyring_write(ring.with_current(key_id), keys.key_file_path())
    model.objects.create(**values)
    keys.keyring_write(ring, keys.key_file_path())


def test_it_retires_a_key_only_when_nothing_uses_it(residents):
    old = keys.keyring().current_id
    ring, staged = keys.keyring().with_new_key(make_current=False)
    keys.keyring_write(ring, keys.key_file_path())
    with pytest.raises(CommandError, match="current key"):
        _pii("retire-key", old)

    _pii("rotate-key", "--use", staged, "--commit")
    assert keys.keyring().current_id == staged
    _write_as_stale_worker(residents, old, name="迟到", phone=PHONE)
    with pytest.raises(CommandError, match="still in use"):
        _pii("retire-key", old, "--commit")
    assert old in keys.keyring().keys

    _pii("reencrypt", "--commit")
    assert "dry run" in _pii("retire-key", old)
    assert old in keys.keyring().keys
    _pii("retire-key", old, "--commit")
    assert set(keys.keyring().keys) == {staged}
    assert pii_lookup(residents.objects, "phone", PHONE).get().name.reveal() == "迟到"


def test_it_adds_a_key_without_using_it(residents):
    current = keys.keyring().current_id
    output = _pii("add-key")
    assert len(keys.keyring().keys) == 2 and keys.keyring().current_id == current
    assert "rotate-key --use k" in output
    with pytest.raises(CommandError, match="no key 'nope'"):
        _pii("rotate-key", "--use", "nope", "--commit")


def test_it_replaces_the_index_key_and_recomputes_every_index(residents):
    before = raw_column(residents, "phone_index")
    output = _pii("rotate-key", "--commit", "--new-index-key")
    assert "reindexed 7" in output
    after = raw_column(residents, "phone_index")
    assert all(after) and not set(after) & set(before)
    assert pii_lookup(residents.objects, "phone", "13800130005").get().name.reveal() == "居民5"


def test_it_encrypts_values_stored_before_the_column_was_encrypted(residents):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE pii_testapp_resident SET tags = %s, phone = %s, phone_index = NULL", ["低保", PHONE]
        )
    status = _pii("status")
    assert "pii_testapp.Resident.tags: no values, NOT ENCRYPTED=7" in status
    assert "NOT ENCRYPTED 7 (use --adopt-plaintext)" in _pii("reencrypt")
    _pii("reencrypt", "--commit", "--adopt-plaintext")
    assert "低保" not in "".join(raw_column(residents, "tags"))
    assert {r.tags.reveal() for r in residents.objects.all()} == {"低保"}
    assert pii_lookup(residents.objects, "phone", PHONE).count() == 7


def test_it_reports_values_it_cannot_decrypt_and_leaves_them(residents):
    from django.db import connection

    [first, *_] = raw_column(residents, "phone")
    with connection.cursor() as cursor:
        cursor.execute("UPDATE pii_testapp_resident SET phone = %s", [first[:-4] + "AAAA"])
    with pytest.raises(CommandError, match="7 values could not be decrypted"):
        _pii("rotate-key", "--commit")
    assert set(raw_column(residents, "phone")) == {first[:-4] + "AAAA"}

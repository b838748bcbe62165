"""AES-GCM tokens bound to their column, and keyed blind indexes."""

import base64

import pytest

from civicgrid.pii import crypto, keys

CONTEXT = "registry.Resident.phone"


def test_it_round_trips_unicode_text():
    for value in ["13800138000", "江苏省南京市玄武区湖南路123号", "", "🙂 émoji"]:
        token = crypto.encrypt(value, context=CONTEXT)
        assert crypto.decrypt(token, context=CONTEXT) == value


def test_it_writes_a_versioned_token_naming_the_current_key():
    token = crypto.encrypt("13800138000", context=CONTEXT)
    version, key_id, data = token.split(".")
    assert (version, key_id) == ("v1", keys.keyring().current_id)
    raw = base64.urlsafe_b64decode(data + "=" * (-len(data) % 4))
    assert len(raw) == 12 + len("13800138000") + 16  # nonce + ciphertext + tag
    assert "13800138000" not in token


def test_it_uses_a_fresh_nonce_for_every_value():
    assert crypto.encrypt("13800138000", context=CONTEXT) != crypto.encrypt("13800138000", context=CONTEXT)


def _flip_one_bit(token: str) -> str:
    head, data = token.rsplit(".", 1)
    raw = bytearray(base64.urlsafe_b64decode(data + "=" * (-len(data) % 4)))
    raw[15] ^= 0x01
    return f"{head}.{base64.urlsafe_b64encode(bytes(raw)).rstrip(b'=').decode()}"


def test_it_refuses_a_tampered_token():
    token = _flip_one_bit(crypto.encrypt("13800138000", context=CONTEXT))
    with pytest.raises(crypto.DecryptionError, match="integrity check"):
        crypto.decrypt(token, context=CONTEXT)


def test_it_refuses_a_token_moved_to_another_column():
    token = crypto.encrypt("13800138000", context=CONTEXT)
    with pytest.raises(crypto.DecryptionError, match="copied from another field"):
        crypto.decrypt(token, context="accounts.User.phone")


def test_it_names_a_missing_key_and_the_key_file():
    token = crypto.encrypt("13800138000", context=CONTEXT).replace("v1.k", "v1.zz", 1)
    with pytest.raises(crypto.DecryptionError, match=r"needs key 'zz.*not in the key file"):
        crypto.decrypt(token, context=CONTEXT)


@pytest.mark.parametrize("value", ["13800138000", "v2.k1.abc", "v1.k1", "v1.K1.abc", "v1.k1.%%%"])
def test_it_refuses_what_is_not_a_token(value):
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(value, context=CONTEXT)


def test_it_reads_tokens_of_an_old_key_after_rotation(pii_key_file):
    old = crypto.encrypt("13800138000", context=CONTEXT)
    ring, new_id = keys.keyring().with_new_key()
    keys.keyring_write(ring, pii_key_file)
    new = crypto.encrypt("13800138000", context=CONTEXT)
    assert crypto.token_key_id(new) == new_id != crypto.token_key_id(old)
    assert crypto.decrypt(old, context=CONTEXT) == crypto.decrypt(new, context=CONTEXT)


def test_it_indexes_equal_normalised_values_alike():
    phone = crypto.blind_index("13800138000", kind="phone")
    assert phone == crypto.blind_index("+86 138-0013-8000", kind="phone")
    assert phone != crypto.blind_index("13800138001", kind="phone")
    assert len(phone) == crypto.INDEX_LENGTH and int(phone, 16) >= 0
    assert crypto.blind_index("11010519491231002x", kind="id_number") == crypto.blind_index(
        "11010519491231002X", kind="id_number"
    )
    assert crypto.blind_index("张  三", kind="name") == crypto.blind_index("张 三", kind="name")


def test_it_indexes_the_same_text_differently_per_kind():
    assert crypto.blind_index("13800138000", kind="phone") != crypto.blind_index(
        "13800138000", kind="id_number"
    )


def test_it_indexes_under_the_index_key_not_the_data_key(pii_key_file):
    before = crypto.blind_index("13800138000", kind="phone")
    ring, _ = keys.keyring().with_new_key()
    keys.keyring_write(ring, pii_key_file)
    assert crypto.blind_index("13800138000", kind="phone") == before
    keys.keyring_write(keys.keyring().with_new_index_key(), pii_key_file)
    assert crypto.blind_index("13800138000", kind="phone") != before

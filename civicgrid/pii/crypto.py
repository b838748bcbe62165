"""Encryption of personal data at rest (AES-256-GCM) and keyed blind indexes (HMAC-SHA256).

A stored token is text: ``v1.<key_id>.<base64url(nonce + ciphertext + tag)>``. The key id says
which key of the keyring decrypts it, so keys can rotate while old tokens stay readable. The
associated data is the column's context (``"accounts.User.phone"``): GCM authenticates it, so
a token copied into another column or row of another field fails to decrypt instead of
silently showing someone else's data there.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from civicgrid.pii import keys
from civicgrid.pii.kinds import PIIKind
from civicgrid.pii.validators import normalise_id_number, normalise_mobile, normalise_text

TOKEN_VERSION = "v1"
NONCE_BYTES = 12  # 96 bits, the size GCM is specified for; random per value
INDEX_LENGTH = 64  # hex characters of an HMAC-SHA256


class DecryptionError(Exception):
    """A stored token cannot be turned back into its value."""


@lru_cache(maxsize=32)
def _aead(key: bytes) -> AESGCM:
    return AESGCM(key)


def _b64url_encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def encrypt(plaintext: str, *, context: str) -> str:
    ring = keys.keyring()
    nonce = os.urandom(NONCE_BYTES)
    sealed = _aead(ring.current_key).encrypt(nonce, plaintext.encode("utf-8"), context.encode("utf-8"))
    return f"{TOKEN_VERSION}.{ring.current_id}.{_b64url_encode(nonce + sealed)}"


def token_key_id(token: str) -> str | None:
    """The key id a token was written with, or None if it is not a token."""
    parts = token.split(".")
    if len(parts) != 3 or parts[0] != TOKEN_VERSION or not keys.KEY_ID_RE.match(parts[1]):
        return None
    return parts[1]


def is_token(value: str) -> bool:
    return token_key_id(value) is not None


def decrypt(token: str, *, context: str) -> str:
    key_id = token_key_id(token)
    if key_id is None:
        raise DecryptionError(f"The value stored for {context} is not an encrypted token.")
    ring = keys.keyring()
    if key_id not in ring.keys:
        # Another process may have just rotated: look at the file again before giving up.
        keys.forget()
        ring = keys.keyring()
    if key_id not in ring.keys:
        raise DecryptionError(
            f"The value stored for {context} needs key {key_id!r}, which is not in the key file "
            f"{keys.key_file_path()}; restore that key from the key file's backup."
        )
    try:
        data = _b64url_decode(token.split(".")[2])
    except (binascii.Error, ValueError) as exc:
        raise DecryptionError(f"The value stored for {context} is damaged (bad encoding).") from exc
    try:
        plain = _aead(ring.keys[key_id]).decrypt(
            data[:NONCE_BYTES], data[NONCE_BYTES:], context.encode("utf-8")
        )
    except InvalidTag as exc:
        raise DecryptionError(
            f"The value stored for {context} failed its integrity check: it was altered, or "
            "copied from another field."
        ) from exc
    return plain.decode("utf-8")


def normalise_for_index(value: str, kind: str) -> str:
    """The spelling that blind indexes compare: equal for values a person would call equal."""
    kind = PIIKind(kind)
    if kind == PIIKind.ID_NUMBER:
        return normalise_id_number(value)
    if kind == PIIKind.PHONE:
        return normalise_mobile(value)
    return normalise_text(value)


def blind_index(value: str, *, kind: str) -> str:
    """HMAC-SHA256 of the normalised value under the index key, as 64 hex characters.

    The kind is part of the message, so the same digits stored as a phone and as an ID number
    give different indexes and one column's index cannot be joined to another's.
    """
    message = f"{PIIKind(kind).value}\x1f{normalise_for_index(value, kind)}".encode()
    return hmac.new(keys.keyring().index_key, message, hashlib.sha256).hexdigest()

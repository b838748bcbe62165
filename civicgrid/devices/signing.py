"""How a device signs an alarm, and how the server checks it. No Django here: device makers and
the ``civicgrid devices fire`` command use the same two functions.

The signed message is ``f"{timestamp}.{raw body}"`` (UTF-8 timestamp, a dot, the body's bytes as
sent), the signature the lower-case hex HMAC-SHA256 of it under the device's shared secret. Binding
the timestamp into the MAC is what makes the time window mean anything: a captured request cannot
be re-sent later with a fresh X-Timestamp.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

SECRET_BYTES = 32  # 256 bits, as long as the HMAC-SHA256 key block needs to be strong


def new_secret() -> str:
    """A fresh shared secret: 43 URL-safe characters, easy to paste into a device's web page."""
    return secrets.token_urlsafe(SECRET_BYTES)


def sign(secret: str, timestamp: int | str, body: bytes) -> str:
    message = str(timestamp).encode("ascii") + b"." + body
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def signature_matches(secret: str, timestamp: int | str, body: bytes, signature: str) -> bool:
    """Constant-time comparison, so the time taken says nothing about how much of a guess was right."""
    expected = sign(secret, timestamp, body)
    return hmac.compare_digest(expected, signature.strip().lower().encode("ascii", "replace").decode())

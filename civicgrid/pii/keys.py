"""The keyring for personal data: named AES-256 keys, one of them current, and the blind-index key.

The key file (``settings.PII_KEY_FILE``, from ``CIVICGRID_PII_KEY_FILE``) is JSON, mode 0600::

    {
      "format": "civicgrid-pii-keys/1",
      "current": "k20250612-3fa2",
      "keys": {"k20250612-3fa2": {"key": "<base64, 32 bytes>", "created": "2025-06-12T10:15:30Z"}},
      "index_key": {"key": "<base64, 32 bytes>", "created": "2025-06-12T10:15:30Z"}
    }

Old data keys stay in the file after a rotation so tokens written under them still decrypt until
``civicgrid pii reencrypt`` has moved every value to the current key. The index key is separate
and normally never rotated: every blind index is an HMAC under it, so changing it means
recomputing every index (``civicgrid pii rotate-key --new-index-key``).

This module reads Django settings only inside ``keyring()``, so ``settings.py`` can import it to
create the development key file, and operators can create a production file before Django can
start: ``python -m civicgrid.pii.keys create /etc/civicgrid/pii-keys.json``.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import fcntl
import functools
import json
import os
import re
import secrets
import stat
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.core.exceptions import ImproperlyConfigured

FORMAT = "civicgrid-pii-keys/1"
KEY_BYTES = 32
# Key ids appear inside stored tokens ("v1.<key_id>.<data>"), so they must never contain a dot;
# lower case only, because SQLite's LIKE (used to find tokens by key) ignores case.
KEY_ID_RE = re.compile(r"^[a-z0-9_-]{1,40}$")
# How often a running process looks at the key file again, so a rotation done by the command
# reaches long-running web workers without a restart.
RECHECK_SECONDS = 2.0


class KeyFileError(ImproperlyConfigured):
    """The key file is missing, unreadable or malformed."""


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def new_key_id() -> str:
    return f"k{datetime.now(UTC):%Y%m%d}-{secrets.token_hex(2)}"


@dataclass(frozen=True)
class Keyring:
    """An immutable view of the key file; the ``with_…`` methods return changed copies."""

    current_id: str
    keys: dict[str, bytes]
    index_key: bytes
    created: dict[str, str] = field(default_factory=dict)
    index_key_created: str = ""

    @property
    def current_key(self) -> bytes:
        return self.keys[self.current_id]

    def with_new_key(self, *, make_current: bool = True) -> tuple[Keyring, str]:
        key_id = new_key_id()
        while key_id in self.keys:
            key_id = new_key_id()
        ring = replace(
            self,
            keys={**self.keys, key_id: secrets.token_bytes(KEY_BYTES)},
            created={**self.created, key_id: _now()},
            current_id=key_id if make_current else self.current_id,
        )
        return ring, key_id

    def with_current(self, key_id: str) -> Keyring:
        if key_id not in self.keys:
            raise KeyFileError(f"There is no key {key_id!r} in the key file.")
        return replace(self, current_id=key_id)

    def without_key(self, key_id: str) -> Keyring:
        if key_id == self.current_id:
            raise KeyFileError(f"Key {key_id!r} is the current key; rotate to another key first.")
        if key_id not in self.keys:
            raise KeyFileError(f"There is no key {key_id!r} in the key file.")
        keys = {k: v for k, v in self.keys.items() if k != key_id}
        created = {k: v for k, v in self.created.items() if k != key_id}
        return replace(self, keys=keys, created=created)

    def with_new_index_key(self) -> Keyring:
        return replace(self, index_key=secrets.token_bytes(KEY_BYTES), index_key_created=_now())

    def as_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "current": self.current_id,
            "keys": {
                key_id: {"key": _b64(key), "created": self.created.get(key_id, "")}
                for key_id, key in sorted(self.keys.items())
            },
            "index_key": {"key": _b64(self.index_key), "created": self.index_key_created},
        }


def keyring_new() -> Keyring:
    ring = Keyring(current_id="", keys={}, index_key=b"").with_new_index_key()
    ring, _ = ring.with_new_key()
    return ring


def _decode_key(path: Path, what: str, value: Any) -> bytes:
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, TypeError, ValueError):
        raw = b""
    if len(raw) != KEY_BYTES:
        raise KeyFileError(f"{path}: {what} must be {KEY_BYTES} bytes in base64.")
    return raw


def keyring_read(path: Path) -> Keyring:
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise KeyFileError(f"The personal-data key file {path} does not exist.") from exc
    except (OSError, ValueError) as exc:
        raise KeyFileError(f"The personal-data key file {path} cannot be read: {exc}") from exc
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise KeyFileError(f"{path}: not a CivicGrid key file (expected format {FORMAT!r}).")
    entries = data.get("keys")
    if not isinstance(entries, dict) or not entries:
        raise KeyFileError(f"{path}: 'keys' must hold at least one key.")
    keys, created = {}, {}
    for key_id, entry in entries.items():
        if not KEY_ID_RE.match(key_id) or not isinstance(entry, dict):
            raise KeyFileError(f"{path}: bad key entry {key_id!r}.")
        keys[key_id] = _decode_key(path, f"key {key_id!r}", entry.get("key"))
        created[key_id] = str(entry.get("created", ""))
    current = data.get("current")
    if current not in keys:
        raise KeyFileError(f"{path}: the current key {current!r} is not among the keys.")
    index = data.get("index_key")
    if not isinstance(index, dict):
        raise KeyFileError(f"{path}: 'index_key' is missing.")
    return Keyring(
        current_id=current,
        keys=keys,
        index_key=_decode_key(path, "index_key", index.get("key")),
        created=created,
        index_key_created=str(index.get("created", "")),
    )


def keyring_write(ring: Keyring, path: Path) -> None:
    """Replace the key file atomically: a crash leaves either the old or the new file, never half.

    The new file keeps the old one's owner and group (when allowed) and its mode, minus any
    write bit for the group and every bit for others, so the app's user can still read it.
    """
    path = Path(path)
    text = json.dumps(ring.as_json(), indent=2, sort_keys=True) + "\n"
    try:
        previous = path.stat()
    except FileNotFoundError:
        previous = None
    # mkstemp creates the file 0600, so the keys are never readable by others, not even briefly.
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        if previous is not None:
            os.chmod(tmp, stat.S_IMODE(previous.st_mode) & 0o640)
            with suppress(PermissionError):
                os.chown(tmp, previous.st_uid, previous.st_gid)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    # The rename itself must reach the disk too, or a power cut could bring the old file back.
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
    forget()


def keyfile_create(path: Path) -> Keyring:
    """Write a new key file; refuses to overwrite, since replacing keys makes the data unreadable."""
    path = Path(path)
    if path.exists():
        raise FileExistsError(f"{path} already exists; not overwriting a key file.")
    ring = keyring_new()
    keyring_write(ring, path)
    return ring


@contextmanager
def keyfile_locked(path: Path) -> Iterator[Keyring]:
    """Hold the key file's lock while changing it; yields the keyring as the file holds it now.

    Two operators rotating at once would otherwise each write a file without the other's new
    key, and values already encrypted under the lost key could never be read again.
    """
    path = Path(path)
    lock_fd = os.open(path.with_name(f".{path.name}.lock"), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(lock_fd, fcntl.LOCK_EX)
        yield keyring_read(path)
    finally:
        os.close(lock_fd)  # closing releases the lock


def keyfile_exposure(path: Path) -> list[str]:
    """Who else can read or change the key file, as warnings for ``civicgrid check``."""
    path = Path(path)
    mode = stat.S_IMODE(path.stat().st_mode)
    # Group read is allowed: root may own the file and let the app's group read it.
    if mode & 0o027:
        return [f"{path} has mode {mode:o}; make it 0600 (or 0640 for the app's group)."]
    return []


@dataclass
class _Cached:
    path: Path
    signature: tuple[int, int, int]
    checked: float
    ring: Keyring


_cache: dict[str, _Cached] = {}


def key_file_path() -> Path:
    from django.conf import settings

    path = getattr(settings, "PII_KEY_FILE", None)
    if not path:
        raise KeyFileError("settings.PII_KEY_FILE is not set (see docs/personal-data.md).")
    return _as_path(path)


@functools.lru_cache(maxsize=8)
def _as_path(path: str | Path) -> Path:
    # Building a Path costs more than an encryption; keyring() runs on every encrypted value.
    return Path(path)


def keyring() -> Keyring:
    """The keyring of this process, read again when the key file has changed."""
    path = key_file_path()
    now = time.monotonic()
    cached = _cache.get("ring")
    if cached and cached.path == path and now - cached.checked < RECHECK_SECONDS:
        return cached.ring
    try:
        stat = path.stat()
    except FileNotFoundError as exc:
        raise KeyFileError(f"The personal-data key file {path} does not exist.") from exc
    signature = (stat.st_mtime_ns, stat.st_size, stat.st_ino)
    if cached and cached.path == path and cached.signature == signature:
        cached.checked = now
        return cached.ring
    ring = keyring_read(path)
    _cache["ring"] = _Cached(path=path, signature=signature, checked=now, ring=ring)
    return ring


def forget() -> None:
    """Drop the cached keyring, so the next use reads the key file again."""
    _cache.clear()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m civicgrid.pii.keys",
        description="Create a CivicGrid personal-data key file (needs no Django settings).",
    )
    sub = parser.add_subparsers(dest="action", required=True)
    create = sub.add_parser("create", help="Write a new key file with one data key and an index key.")
    create.add_argument("path")
    args = parser.parse_args(argv)
    try:
        ring = keyfile_create(Path(args.path))
    except (FileExistsError, OSError) as exc:
        parser.exit(1, f"error: {exc}\n")
    print(f"wrote {args.path} with key {ring.current_id}; back it up now (losing it loses the data).")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

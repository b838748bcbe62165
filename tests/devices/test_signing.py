"""The signature a device must compute, against the worked example in docs/devices.md."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from civicgrid.devices import signing

BODY = b'{"alarm_id":"cam1-000123","type":"illegal_parking","time":1795838400}'
DOCUMENTED = "4556d38cac26678985d4c4eac6569305c92ef503a5b2d217feac0c1a977570f5"


def test_it_matches_the_documented_example():
    assert signing.sign("xuanwu-demo-device-secret", 1795838400, BODY) == DOCUMENTED
    assert DOCUMENTED in (Path(__file__).parents[2] / "docs" / "devices.md").read_text()


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl is not installed")
def test_it_matches_openssl_as_the_docs_use_it():
    out = subprocess.run(
        ["openssl", "dgst", "-sha256", "-hmac", "xuanwu-demo-device-secret", "-hex"],
        input=b"1795838400." + BODY,
        capture_output=True,
        check=True,
    ).stdout.decode()
    assert out.strip().endswith(DOCUMENTED)


def test_the_timestamp_and_every_byte_of_the_body_are_signed():
    base = signing.sign("s", 100, BODY)
    assert signing.sign("s", 101, BODY) != base
    assert signing.sign("s", 100, BODY + b" ") != base
    assert signing.sign("t", 100, BODY) != base


def test_a_match_is_checked_whatever_the_case_or_padding_and_garbage_is_no_match():
    good = signing.sign("s", 100, BODY)
    assert signing.signature_matches("s", "100", BODY, good.upper())
    assert signing.signature_matches("s", "100", BODY, f" {good} ")
    assert not signing.signature_matches("s", "100", BODY, good[:-1])
    assert not signing.signature_matches("s", "100", BODY, "é" * 64)  # not even ASCII
    assert not signing.signature_matches("s", "100", BODY, "")


def test_new_secrets_are_long_and_different():
    secrets = {signing.new_secret() for _ in range(50)}
    assert len(secrets) == 50 and all(len(s) >= 43 for s in secrets)

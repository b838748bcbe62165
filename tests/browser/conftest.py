"""Browser fixtures: Debian's Chromium driven by Playwright against pytest-django's live server.

Playwright's own browser download does not work on these machines, so the tests use the
system Chromium; without it they skip on a workstation and fail in CI, where it must exist.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

import pytest

from civicgrid.chromium import CHROMIUM, CHROMIUM_ARGS

from ..conftest import load_demo


@pytest.fixture
def live_demo(transactional_db, demo_divisions, monkeypatch):
    """The Xuanwu demo, committed so that the live server's thread sees it."""
    yield from load_demo(demo_divisions, monkeypatch)


@pytest.fixture
def live_staff(transactional_db, demo_divisions, monkeypatch):
    """The whole demo, staff included, committed for the live server."""
    yield from load_demo(demo_divisions, monkeypatch, people=True)


@pytest.fixture(scope="module")
def browser():
    """Chromium for one test module; it stops afterwards so that later tests see no event loop."""
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing: install Debian's chromium package to run the browser tests"
        if os.environ.get("CI") == "true":
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    # While it runs, Playwright's sync API keeps an asyncio loop running in this thread; Django
    # would then refuse the test's own ORM calls as "async unsafe" although they are synchronous.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as pw:
            chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            yield chromium
            chromium.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def open_page(browser) -> Iterator[Callable]:
    """``open_page(**context_options)`` → a fresh page; script errors on it fail the test."""
    contexts, errors = [], []

    def _open(**options):
        context = browser.new_context(**options)
        context.set_default_timeout(10_000)
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda error: errors.append(str(error)))
        return page

    yield _open
    for context in contexts:
        context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"

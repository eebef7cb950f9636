"""Debian's chromium for the browser tests: where it is, how it is started, and the skip/fail rule."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import expect as expect  # re-exported with the timeout set below

from tests.backends import IN_CI

CHROMIUM = Path("/usr/bin/chromium")
# As root, without the network: no sandbox, no GPU, and none of the background connections a closed network
# refuses many at a time.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
# A person's browser: crawler detection rightly counts "HeadlessChrome" as a bot, and bots are not charted.
USER_AGENT = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36"


# `expect(locator).to_be_visible()` retries until this long: a page another test's load slows down still gets there.
# A bare `locator.is_visible()` answers at once, and right after a click that is often "not yet".
EXPECT_TIMEOUT_MS = 20_000
expect.set_options(timeout=EXPECT_TIMEOUT_MS)


def until(check: Callable[[], bool], *, within: float = 20.0, every: float = 0.25) -> None:
    """Poll `check` (a page read from Python: the CSP forbids the string scripts `wait_for_function` sends)."""
    deadline = time.monotonic() + within
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(every)


def require_chromium() -> None:
    """Skip without chromium on a laptop; fail under CI=true."""
    if CHROMIUM.exists():
        return
    message = f"{CHROMIUM} is missing; install it with `bash scripts/debian-packages.sh chromium`"
    if IN_CI:
        pytest.fail(f"{message} (CI=true requires the browser tests)", pytrace=False)
    pytest.skip(message)

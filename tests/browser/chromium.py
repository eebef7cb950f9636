"""Debian's chromium for the browser tests: where it is, how it is started, and the skip/fail rule."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect as expect  # re-exported with the timeout set below

from tests.backends import IN_CI, SqliteTemplate
from tests.dashboard.conftest import delivered_in, link_in
from tests.redirect.servers import MaskServer, free_port

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
PASSWORD = "a long and happy passphrase"
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


@contextmanager
def dashboard_server(
    sqlite_template: SqliteTemplate, tmp_path_factory: pytest.TempPathFactory, name: str, **settings: str
) -> Iterator[MaskServer]:
    """`mask serve` on a copy of the migrated SQLite template, its mails written to a folder the tests read;
    `settings`: more environment (MASK_… variables)."""
    require_chromium()
    port = free_port()
    log = tmp_path_factory.mktemp(name) / "server.log"
    env = {
        "MASK_DATABASE_URL": sqlite_template.clone(),
        "MASK_SHORT_DOMAIN": f"127.0.0.1:{port}",
        "MASK_MAIL_DIR": str(log.parent / "mail"),
        **settings,
    }
    process = MaskServer(env, port=port, log=log).start()
    try:
        yield process
    finally:
        process.stop()


def sign_up(page: Any, server: MaskServer, email: str) -> str:
    """A new account, confirmed through its mail, on its (empty) links list: the workspace's dashboard URL."""
    page.goto(server.url + "/app/signup")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    page.wait_for_url(re.compile(r"/app/signup/sent"))
    page.goto(server.url + confirmation_link(server, email))
    page.get_by_role("button", name="Confirm and continue").click()
    page.wait_for_url(re.compile(r"/app/[\w-]+/links"))
    return str(page.url).split("/links")[0]


def post_link_form(page: Any, workspace: str, form: dict[str, str]) -> None:
    """A link made through the link form's POST, as the form sends it with the page's CSRF token (the form itself
    is tested elsewhere)."""
    page.goto(workspace + "/links/new")
    token = page.locator("input[name=csrf_token]").first.input_value()
    made = page.request.post(workspace + "/links", form={"csrf_token": token, **form}, max_redirects=0)
    assert made.status == 303, made.text()


def confirmation_link(server: MaskServer, email: str) -> str:
    """The path of the confirmation link mailed to `email` (the server writes its mails to MASK_MAIL_DIR)."""
    directory = Path(server.env["MASK_MAIL_DIR"])
    until(lambda: bool(delivered_in(directory, email, "verify_email")), within=60)
    return link_in(delivered_in(directory, email, "verify_email")[-1])


def no_sideways_scroll(page: Any, where: str) -> None:
    """The page is no wider than the viewport. Against the viewport's own width: on a phone (is_mobile) chromium
    zooms out, so innerWidth grows with the page."""
    width = page.viewport_size["width"]
    widest = page.evaluate("() => Math.max(document.documentElement.scrollWidth, window.innerWidth)")
    assert widest <= width, f"{where} scrolls sideways by {widest - width}px at {width}px"

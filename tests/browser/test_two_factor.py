"""Two-factor sign-in in a real browser (Debian's chromium, Playwright) against a real `mask serve`: enrol by the
QR code's key, keep the recovery codes, log out, log in with a code computed by pyotp, then with a recovery code.
Screenshots go to test-artifacts/two-factor/."""

from __future__ import annotations

import base64
import re
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyotp
import pytest

from mask.qr.render import QrOptions, render
from tests.backends import SqliteTemplate
from tests.browser.chromium import PASSWORD, USER_AGENT, expect, require_chromium
from tests.redirect.servers import MASK, MaskServer, free_port

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "two-factor"
EMAIL = "grace@example.com"


@pytest.fixture(scope="module")
def server(sqlite_template: SqliteTemplate, tmp_path_factory: pytest.TempPathFactory) -> Iterator[MaskServer]:
    require_chromium()
    port = free_port()
    log = tmp_path_factory.mktemp("two-factor-browser") / "server.log"
    env = {
        "MASK_DATABASE_URL": sqlite_template.clone(),
        "MASK_SHORT_DOMAIN": f"127.0.0.1:{port}",
        "MASK_MAIL_DIR": str(log.parent / "mail"),
    }
    process = MaskServer(env, port=port, log=log).start()
    created = subprocess.run(
        [MASK, "users", "create", EMAIL, "--password", PASSWORD, "--name", "Grace"],
        env=process.env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert created.returncode == 0, created.stderr
    try:
        yield process
    finally:
        process.stop()


def log_in_with_password(page: Any, base: str) -> None:
    page.goto(base + "/app/login")
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def test_enrol_then_sign_in_with_a_totp_code_and_with_a_recovery_code(server: MaskServer, chromium: Any) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    context = chromium.new_context(viewport={"width": 1280, "height": 800}, user_agent=USER_AGENT)
    errors: list[str] = []
    context.add_init_script(
        "document.addEventListener('securitypolicyviolation', "
        "(e) => console.error('CSP ' + e.violatedDirective + ' ' + e.blockedURI));"
    )
    page = context.new_page()
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    base = server.url

    log_in_with_password(page, base)
    page.wait_for_url(re.compile(r"/app/grace/links"))
    page.goto(base + "/app/account")
    page.get_by_role("link", name="Turn on").click()
    page.wait_for_url(re.compile(r"/app/account/two-factor$"))

    # The QR code is shown, and is the code of the key shown beside it.
    qr = page.locator("#totp-qr")
    assert qr.evaluate("image => image.complete && image.naturalWidth > 0")
    secret = page.locator("#totp-secret").inner_text().replace(" ", "")
    totp = pyotp.TOTP(secret)
    uri = totp.provisioning_uri(name=EMAIL, issuer_name="MASK (127.0.0.1)")
    shown = base64.b64decode(qr.get_attribute("src").split(",", 1)[1])
    assert shown == render(uri, QrOptions(format="svg", size=220, margin=2, ecc="M"))
    page.screenshot(path=ARTIFACTS / "01-enrol.png", full_page=True)

    page.get_by_label("Code from the app").fill(totp.now())
    page.get_by_role("button", name="Turn on two-factor sign-in").click()
    page.wait_for_url(re.compile(r"/app/account/two-factor/enable$"))
    codes = page.locator("#recovery-codes code").all_inner_texts()
    assert len(codes) == 10
    page.screenshot(path=ARTIFACTS / "02-recovery-codes.png", full_page=True)

    # Log out; the password alone no longer signs in.
    page.locator("summary", has_text=EMAIL).click()
    page.get_by_role("menuitem", name="Log out").click()
    page.wait_for_url(re.compile(r"/app/login"))
    log_in_with_password(page, base)
    page.wait_for_url(re.compile(r"/app/login/two-factor$"))
    page.screenshot(path=ARTIFACTS / "03-code-step.png", full_page=True)
    page.get_by_label("Code").fill("000000")
    page.get_by_role("button", name="Verify").click()
    expect(page.locator(".error").first).to_be_visible()
    page.get_by_label("Code").fill(totp.at(time.time() + 30))  # the next step: the enrolment used this one
    page.get_by_role("button", name="Verify").click()
    page.wait_for_url(re.compile(r"/app/grace/links"))

    # Another browser, with a recovery code instead of the phone.
    other = chromium.new_context(viewport={"width": 390, "height": 800}, user_agent=USER_AGENT).new_page()
    log_in_with_password(other, base)
    other.wait_for_url(re.compile(r"/app/login/two-factor$"))
    other.get_by_label("Code").fill(codes[0])
    other.get_by_role("button", name="Verify").click()
    other.wait_for_url(re.compile(r"/app/grace/links"))
    other.goto(base + "/app/account/two-factor")
    assert other.locator("#recovery-left").inner_text() == "9 unused recovery codes left."
    other.screenshot(path=ARTIFACTS / "04-phone-width.png", full_page=True)
    assert [error for error in errors if "Failed to load resource" not in error] == []  # the 422 is expected
    context.close()

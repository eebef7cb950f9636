"""The dashboard fixes of issue 25, in a real browser (Debian's chromium, Playwright) against a real `mask serve`.

One server for the module: a user made with the CLI (so no mail round trip), content made through the API with
long unbroken words where people type them, then each fix checked at a desktop (1440×900) and a phone (390×844)
size where layout matters. Screenshots go to MASK_SCREENSHOTS (tests/browser/screenshots.py).
"""

from __future__ import annotations

import re
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.backends import SqliteTemplate
from tests.browser.chromium import PASSWORD, USER_AGENT, expect, require_chromium, until
from tests.browser.screenshots import screenshot
from tests.dashboard.conftest import delivered_in, link_in
from tests.redirect.servers import MASK, MaskServer, free_port

pytestmark = [pytest.mark.browser, pytest.mark.slow]

EMAIL = "grace@example.com"
DESKTOP = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}
LONG_WORD = "Supercalifragilisticexpialidocious" * 6  # no break opportunity anywhere
LONG_TAG = "averyveryverylongtagnamewithoutanyplacetobreak1234"  # 50 characters: the longest allowed
# Against the screen's own width: a mobile browser widens window.innerWidth to fit wide content (it zooms out).
# Sends a form filled wrongly: no box ticked, blank names, a domain that is none.
SEND_WRONG = """(form) => {
    form.noValidate = true;
    form.querySelectorAll("input[type=checkbox]").forEach((box) => { box.checked = false; });
    form.querySelectorAll("input[type=text], input[type=email]").forEach((input) => {
        input.value = input.name === "domain" ? "not a domain" : " ";
    });
    form.requestSubmit();
}"""
OVERFLOW = f"Math.max(document.documentElement.scrollWidth, window.innerWidth) - {PHONE['width']}"


@dataclass
class Site:
    server: MaskServer
    api: httpx.Client
    workspace: str  # /app/<handle>
    bio_id: str
    webhook_id: str
    domain_id: str

    @property
    def url(self) -> str:
        return self.server.url


def _true_in(page: Any, script: str) -> bool:
    """`script` (a function) evaluated in the page; False while the page is being replaced (a navigation)."""
    from playwright.sync_api import Error

    try:
        return bool(page.evaluate(script))
    except Error:
        return False


def _cli(process: MaskServer, *args: str) -> str:
    done = subprocess.run([MASK, *args], env=process.env, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


class _Receiver(BaseHTTPRequestHandler):
    """A webhook receiver on loopback that answers 500: deliveries stay pending for their next try."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length", "0")))
        self.send_response(500)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        return


@pytest.fixture(scope="module")
def receiver() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook/{LONG_WORD}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def site(sqlite_template: SqliteTemplate, tmp_path_factory: pytest.TempPathFactory, receiver: str) -> Iterator[Site]:
    require_chromium()
    port = free_port()
    log = tmp_path_factory.mktemp("dashboard-fixes") / "server.log"
    env = {
        "MASK_DATABASE_URL": sqlite_template.clone(),
        "MASK_SHORT_DOMAIN": f"127.0.0.1:{port}",
        "MASK_WEBHOOKS_ALLOW_PRIVATE": "true",
        "MASK_MAIL_DIR": str(log.parent / "mail"),
    }
    process = MaskServer(env, port=port, log=log).start()
    try:
        _cli(process, "users", "create", EMAIL, "--password", PASSWORD, "--name", "Grace")
        token = _cli(process, "keys", "create", "--workspace", "grace", "--name", "fixtures")
        api = httpx.Client(base_url=process.url, headers={"Authorization": f"Bearer {token}"}, timeout=30)
        for slug, tags in (("spring", [LONG_TAG, "q1"]), (LONG_WORD[:60].lower(), ["email"])):
            made = api.post("/v1/links", json={"url": f"https://example.com/{LONG_WORD}", "slug": slug, "tags": tags})
            assert made.status_code == 201, made.text
        bio = api.post(
            "/v1/bio-pages",
            json={
                "handle": "grace",
                "title": LONG_WORD[:100],
                "blocks": [
                    {"type": "link", "title": "Notes", "url": "https://example.com/notes"},
                    {"type": "text", "text": LONG_WORD},
                    {"type": "header", "text": "Projects"},
                    {"type": "social", "platform": "email", "url": "grace@example.com"},
                ],
            },
        )
        assert bio.status_code == 201, bio.text
        domain = api.post("/v1/domains", json={"domain": f"{'links' * 12}.{'long' * 15}.example.com"})
        assert domain.status_code == 201, domain.text
        hook = api.post("/v1/webhooks", json={"url": receiver, "events": ["link.created"], "description": LONG_WORD})
        assert hook.status_code == 201, hook.text
        yield Site(process, api, f"{process.url}/app/grace", bio.json()["id"], hook.json()["id"], domain.json()["id"])
        api.close()
    finally:
        process.stop()


@pytest.fixture(scope="module")
def signed_in(site: Site, chromium: Any) -> dict[str, Any]:
    """The browser state (cookies) of Grace, logged in once for every test."""
    context = chromium.new_context(user_agent=USER_AGENT)
    page = context.new_page()
    page.goto(site.url + "/app/login")
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r"/app/grace/links"))
    state: dict[str, Any] = context.storage_state()
    context.close()
    return state


def _context(chromium: Any, state: dict[str, Any], viewport: dict[str, int]) -> Any:
    phone = viewport["width"] < 500
    return chromium.new_context(
        viewport=viewport,
        user_agent=USER_AGENT,
        storage_state=state,
        is_mobile=phone,
        has_touch=phone,
        device_scale_factor=2 if phone else 1,
    )


@pytest.fixture
def phone(chromium: Any, signed_in: dict[str, Any]) -> Iterator[Any]:
    context = _context(chromium, signed_in, PHONE)
    yield context.new_page()
    context.close()


@pytest.fixture
def desktop(chromium: Any, signed_in: dict[str, Any]) -> Iterator[Any]:
    context = _context(chromium, signed_in, DESKTOP)
    yield context.new_page()
    context.close()


# 1. Nothing scrolls sideways on a phone, whatever its content.


def test_no_dashboard_page_scrolls_sideways_on_a_phone_with_long_content(site: Site, phone: Any) -> None:
    pages = {
        "bio-editor": f"/bio/{site.bio_id}",
        "links": "/links",
        "domains": "/domains",
        "domain": f"/domains/{site.domain_id}",
        "webhooks": "/webhooks",
        "webhook": f"/webhooks/{site.webhook_id}",
        "settings": "/settings",
        "api-keys": "/settings/keys",
        "analytics": "/analytics",
        "tags": "/tags",
    }
    wide: dict[str, int] = {}
    for name, path in pages.items():
        phone.goto(site.workspace + path)
        if name == "bio-editor":  # the block editors open, as someone editing the long text sees them
            phone.evaluate("document.querySelectorAll('.block-card details').forEach((d) => { d.open = true; })")
        overflow = phone.evaluate(OVERFLOW)
        screenshot(phone, f"fixes-overflow-phone-{name}")
        if overflow > 0:
            wide[name] = overflow
    phone.goto(site.url + "/app/account")
    screenshot(phone, "fixes-overflow-phone-account")
    if phone.evaluate(OVERFLOW) > 0:
        wide["account"] = phone.evaluate(OVERFLOW)
    assert not wide, f"pages wider than the 390 px screen, by px: {wide}"


def test_the_bio_editor_move_and_remove_buttons_are_on_screen_on_a_phone(site: Site, phone: Any) -> None:
    phone.goto(f"{site.workspace}/bio/{site.bio_id}")
    text_block = phone.locator(".block-card").nth(1)
    for button in text_block.locator(".block-actions button").all():
        box = button.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]


# 4. A secret is shown once, on the page the form leads to; reloading that page shows it no more and makes nothing.


def test_reloading_the_page_with_a_new_key_or_secret_creates_nothing_and_shows_nothing(
    site: Site, desktop: Any
) -> None:
    def key_rows() -> int:
        return int(desktop.locator("table tbody tr").count())

    desktop.goto(site.workspace + "/settings/keys")
    before = key_rows()
    desktop.locator("summary", has_text="Create a key").click()
    desktop.get_by_label("Name").fill("reload-test")
    desktop.get_by_role("button", name="Create key").click()
    token = desktop.locator("#new-key").input_value()
    assert token.startswith("mk_live_") and token not in desktop.url
    screenshot(desktop, "fixes-prg-key-shown")
    assert key_rows() == before + 1
    desktop.reload()
    assert desktop.locator("#new-key").count() == 0 and token not in desktop.content()
    assert key_rows() == before + 1, "the reload made another key"
    assert site.api.get("/v1/links").status_code == 200
    assert httpx.get(site.url + "/v1/links", headers={"Authorization": f"Bearer {token}"}).status_code == 200

    desktop.goto(site.workspace + "/webhooks")
    hooks_before = len(site.api.get("/v1/webhooks").json()["data"])
    desktop.locator("summary", has_text="Add a webhook").click()
    desktop.get_by_label("Endpoint URL").fill("https://hooks.example.com/reload")
    desktop.get_by_label("link.created").check()
    desktop.get_by_role("button", name="Add webhook").click()
    secret = desktop.locator("#webhook-secret").input_value()
    assert secret.startswith("whsec_") and secret not in desktop.url
    desktop.reload()
    assert desktop.locator("#webhook-secret").count() == 0 and secret not in desktop.content()
    assert len(site.api.get("/v1/webhooks").json()["data"]) == hooks_before + 1, "the reload made another webhook"

    # Rotating: the new secret once, on the webhook's own page.
    desktop.goto(f"{site.workspace}/webhooks/{site.webhook_id}")
    desktop.once("dialog", lambda dialog: dialog.accept())
    desktop.get_by_role("button", name="Rotate secret").click()
    rotated = desktop.locator("#webhook-secret").input_value()
    assert rotated.startswith("whsec_") and desktop.url == f"{site.workspace}/webhooks/{site.webhook_id}"
    desktop.reload()
    assert desktop.locator("#webhook-secret").count() == 0


# 8. The webhook page: its status follows the delivery log, a pending delivery can be retried now, and a notice
# is said once.


def test_the_webhook_status_follows_the_log_and_a_pending_delivery_can_be_retried_now(site: Site, desktop: Any) -> None:
    here = f"{site.workspace}/webhooks/{site.webhook_id}"
    desktop.goto(here)
    desktop.get_by_role("button", name="Send test event").click()
    desktop.wait_for_url(here)  # no ?done= in the address
    notice = desktop.get_by_role("status").filter(has_text="Test event queued")
    expect(notice).to_be_visible()
    # No reload from here: the receiver answers 500, and the header counts each failed try as the log shows it.
    api_path = f"/v1/webhooks/{site.webhook_id}"
    assert site.api.get(api_path).json()["consecutive_failures"] < 20

    def header_is_current() -> bool:
        failures = int(site.api.get(api_path).json()["consecutive_failures"])
        word = "failure" if failures == 1 else "failures"
        shown = desktop.locator("#webhook-status").inner_text()
        pinged = desktop.locator("#deliveries tr", has_text="ping").count() > 0
        return pinged and failures > 0 and f" {failures} {word} in a row" in shown

    try:
        until(header_is_current, within=40)
    finally:
        screenshot(desktop, "fixes-webhook-after-test-event")
    retry = desktop.get_by_role("button", name=re.compile(r"^Retry now: ping"))
    expect(retry.first).to_be_visible()
    screenshot(desktop, "fixes-webhook-pending-retry-now")
    desktop.reload()
    assert desktop.get_by_role("status").filter(has_text="Test event queued").count() == 0, "the notice came back"
    desktop.get_by_role("button", name=re.compile(r"^Retry now: ping")).first.click()
    desktop.wait_for_url(here)
    expect(desktop.get_by_role("status").filter(has_text="Delivery queued again")).to_be_visible()


# 6. Signing up from an invitation joins the inviting workspace only.


def test_signing_up_from_an_invitation_joins_only_the_inviting_workspace(
    site: Site, desktop: Any, chromium: Any
) -> None:
    desktop.goto(site.workspace + "/settings")
    desktop.get_by_role("button", name="Create invite link").click()
    invite = desktop.locator("#invite-link").input_value()
    invite_path = "/app/invites/" + invite.split("/app/invites/", 1)[1]

    context = chromium.new_context(viewport=PHONE, user_agent=USER_AGENT, is_mobile=True, has_touch=True)
    newcomer = context.new_page()
    newcomer.goto(site.url + invite_path)
    # The way through log-in: "Log in to join" → "Create a free account".
    newcomer.get_by_role("link", name="Log in to join").click()
    newcomer.get_by_role("link", name="Create a free account").click()
    expect(newcomer.get_by_text("To join Grace")).to_be_visible()
    assert newcomer.get_by_label("Workspace name").count() == 0
    screenshot(newcomer, "fixes-invite-signup-phone")
    newcomer.get_by_label("Email").fill("joiner@example.com")
    newcomer.get_by_label("Password").fill(PASSWORD)
    newcomer.get_by_role("button", name="Create account").click()
    newcomer.wait_for_url(re.compile(r"/app/signup/sent"))
    mails = Path(site.server.env["MASK_MAIL_DIR"])
    until(lambda: bool(delivered_in(mails, "joiner@example.com", "verify_email")), within=60)
    newcomer.goto(site.url + link_in(delivered_in(mails, "joiner@example.com", "verify_email")[-1]))
    newcomer.get_by_role("button", name="Confirm and continue").click()
    newcomer.wait_for_url(re.compile(r"/app/grace/links"))
    newcomer.goto(site.url + "/app/account")
    workspaces = newcomer.locator("#ws-h + .plain-list li").all_inner_texts()
    assert len(workspaces) == 1 and workspaces[0].startswith("Grace"), workspaces
    context.close()


# 9. The account page has the side navigation; the domain form's button lines up; the current tab is in view.


def test_account_has_the_navigation_and_the_domain_button_lines_up_with_its_input(site: Site, desktop: Any) -> None:
    desktop.goto(site.url + "/app/account")
    expect(desktop.get_by_role("navigation", name="Workspace").get_by_role("link", name="Links")).to_be_visible()
    screenshot(desktop, "fixes-account-desktop")
    desktop.goto(site.workspace + "/domains")
    field = desktop.get_by_label("Add a domain").bounding_box()
    button = desktop.get_by_role("button", name="Add domain").bounding_box()
    assert field is not None and button is not None
    assert abs(button["y"] - field["y"]) <= 3, f"the button is {button['y'] - field['y']:.0f} px off the input"
    assert button["y"] + button["height"] <= field["y"] + field["height"] + 3
    screenshot(desktop, "fixes-domains-desktop")


def test_on_a_phone_the_current_section_tab_is_scrolled_into_view(site: Site, phone: Any) -> None:
    for path in ("/settings/keys", "/audit", "/webhooks"):
        phone.goto(site.workspace + path)
        strip = phone.locator("nav.sidenav").bounding_box()
        current = phone.locator("nav.sidenav [aria-current=page]").bounding_box()
        assert strip is not None and current is not None
        inside = strip["x"] <= current["x"] and current["x"] + current["width"] <= strip["x"] + strip["width"]
        assert inside, f"{path}: the current tab is out of view ({current} in {strip})"
    screenshot(phone, "fixes-tabs-phone", full_page=False)
    phone.goto(site.url + "/app/account")
    expect(phone.locator("nav.sidenav")).to_be_visible()


# 7. The bio editor with a keyboard and a screen reader; its preview follows typing; key scopes are grouped.


def test_moving_a_bio_block_with_the_keyboard_keeps_focus_on_its_button(site: Site, desktop: Any) -> None:
    desktop.goto(f"{site.workspace}/bio/{site.bio_id}")
    labels = desktop.locator("[id^=move-up-]").evaluate_all("(buttons) => buttons.map((b) => b.ariaLabel)")
    assert len(set(labels)) == len(labels) == 4, labels
    assert "Move Heading “Projects” up" in labels
    move = desktop.get_by_role("button", name="Move Link button “Notes” down")
    move.focus()
    desktop.keyboard.press("Enter")
    desktop.wait_for_url(re.compile(r"/bio/bio_\w+#move-down-blk_\w+$"))  # the reloaded editor, not the old one
    # Polled from here: wait_for_function would evaluate a string in the page, which its CSP forbids.
    until(
        lambda: desktop.evaluate("() => !!document.activeElement && document.activeElement.id.startsWith('move-down-')")
    )
    focused = desktop.evaluate("document.activeElement.getAttribute('aria-label')")
    assert focused == "Move Link button “Notes” down"
    assert desktop.locator(".block-summary").nth(1).inner_text() == "Notes"  # it moved down one
    assert "done=" not in desktop.url
    desktop.keyboard.press("Enter")  # and again, with no Tab in between
    until(lambda: _true_in(desktop, "() => document.querySelectorAll('.block-summary')[2]?.textContent === 'Notes'"))
    until(
        lambda: desktop.evaluate("() => !!document.activeElement && document.activeElement.id.startsWith('move-down-')")
    )


def test_the_bio_preview_follows_the_page_form_while_typing(site: Site, desktop: Any) -> None:
    desktop.goto(f"{site.workspace}/bio/{site.bio_id}")
    saved = site.api.get(f"/v1/bio-pages/{site.bio_id}").json()["title"]
    desktop.locator("#f-title").fill("Typed, not saved")
    preview = desktop.frame_locator("#bio-preview")
    preview.get_by_role("heading", name="Typed, not saved").wait_for(timeout=15_000)
    screenshot(desktop, "fixes-bio-live-preview")
    assert site.api.get(f"/v1/bio-pages/{site.bio_id}").json()["title"] == saved  # nothing was saved


def test_api_key_scopes_are_grouped_by_what_they_give(site: Site, desktop: Any) -> None:
    desktop.goto(site.workspace + "/settings/keys")
    desktop.locator("summary", has_text="Create a key").click()
    for group in ("Links", "Webhooks", "Analytics"):
        boxes = desktop.get_by_role("group", name=group).get_by_role("checkbox")
        assert boxes.count() >= 1, group
    assert desktop.get_by_role("group", name="Links").get_by_role("checkbox", name="write").count() == 1


# 5. Messages for people: no field names, no backticks, plurals that agree, no count where nothing is counted.


def test_the_bio_editor_speaks_plainly(site: Site, desktop: Any) -> None:
    desktop.goto(f"{site.workspace}/bio/{site.bio_id}")
    email = desktop.locator(".block-card", has=desktop.locator(".block-kind", has_text="Social icon"))
    assert email.locator(".pill").all_inner_texts() == ["clicks not counted"]  # never "0 clicks"
    assert re.search(r"\b0 views · 0 clicks$", desktop.locator(".page-head .muted").inner_text())
    desktop.locator("summary", has_text="Custom colours").click()
    desktop.locator("#f-theme_background").fill("#ffffff")
    desktop.locator("#f-theme_text_color").fill("#eeeeee")
    desktop.get_by_role("button", name="Save page").click()
    message = desktop.locator("#e-theme_text_color").inner_text()
    assert message.startswith("The text colour is too close to the background"), message
    assert "`" not in message and "text_color" not in message
    screenshot(desktop, "fixes-plain-words-contrast")


# 2. After a refused save, the errors are at the top of the page, focused, each a link to its field.


def test_a_refused_long_form_says_why_at_the_top_and_leads_to_the_field(site: Site, phone: Any, desktop: Any) -> None:
    phone.goto(f"{site.workspace}/bio/{site.bio_id}")
    phone.locator("summary", has_text="Custom colours").click()
    phone.locator("#f-theme_background").fill("#ffffff")
    phone.locator("#f-theme_text_color").fill("#f0f0f0")
    phone.get_by_role("button", name="Save page").click()
    phone.wait_for_load_state()
    assert phone.evaluate("document.activeElement.id") == "error-summary"
    box = phone.locator("#error-summary").bounding_box()
    assert box is not None and 0 <= box["y"] < PHONE["height"], "the summary is not on screen"
    expect(phone.get_by_role("alert").filter(has_text="Nothing was saved")).to_be_visible()
    screenshot(phone, "fixes-error-summary-phone", full_page=False)
    phone.locator("#error-summary").get_by_role("link", name="Text colour").click()
    assert phone.evaluate("document.activeElement.id") == "f-theme_text_color"

    desktop.goto(site.workspace + "/webhooks")
    desktop.locator("summary", has_text="Add a webhook").click()
    desktop.get_by_label("Endpoint URL").fill("https://hooks.example.com/no-events")
    desktop.get_by_role("button", name="Add webhook").click()
    desktop.wait_for_load_state()
    assert desktop.evaluate("document.activeElement.id") == "error-summary"
    screenshot(desktop, "fixes-error-summary-desktop", full_page=False)
    desktop.locator("#error-summary").get_by_role("link", name="Events").click()
    assert desktop.evaluate("document.activeElement.name") == "events"

    for path in ("/settings/keys", "/domains", "/settings"):  # each form of these pages has its summary
        desktop.goto(site.workspace + path)
        form = desktop.locator("main form[method=post]:not(.inline)").first
        form.evaluate(SEND_WRONG)
        desktop.wait_for_load_state()
        desktop.locator("#error-summary").wait_for()
        assert desktop.evaluate("document.activeElement.id") == "error-summary", path

"""The dashboard in a real browser: Debian's chromium driven by Playwright, against a real `mask serve`.

One journey as a new user, as the issue tells it: sign up → Settings → API Keys → create a key → use it with
the API → create a link in the UI → open the short link → see the click on the link's chart → create a bio
page and open it → create a webhook to a local receiver and see the delivery in the log. Then every page at
phone width (390 px): no sideways scrolling. A screenshot of every page goes to test-artifacts/dashboard/.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from tests.backends import SqliteTemplate
from tests.browser.chromium import (
    PASSWORD,
    USER_AGENT,
    confirmation_link,
    dashboard_server,
    expect,
    until,
)
from tests.redirect.servers import MaskServer

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "dashboard"


@dataclass
class Receiver:
    """A webhook receiver on loopback (a thread): keeps each POST, answers 200; GET is a landing page
    (the short link's destination, so the test needs no internet)."""

    requests: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None

    def start(self) -> Receiver:
        received = self.requests

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                received.append(({key.lower(): value for key, value in self.headers.items()}, body))
                self.send_response(200)
                self.send_header("content-type", "text/plain")
                self.end_headers()
                self.wfile.write(b"thanks")

            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("content-type", "text/html")
                self.end_headers()
                self.wfile.write(b"<!doctype html><title>Launch day</title><h1>Launch day</h1>")

            def log_message(self, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    @property
    def origin(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    @property
    def url(self) -> str:
        return f"{self.origin}/hook"

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()


@pytest.fixture(scope="module")
def server(sqlite_template: SqliteTemplate, tmp_path_factory: pytest.TempPathFactory) -> Iterator[MaskServer]:
    with dashboard_server(
        sqlite_template, tmp_path_factory, "dashboard-browser", MASK_WEBHOOKS_ALLOW_PRIVATE="true"
    ) as process:
        yield process


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    started = Receiver().start()
    yield started
    started.stop()


class Shots:
    """Screenshots of every page, named in journey order."""

    def __init__(self, page: Any, prefix: str) -> None:
        self.page = page
        self.prefix = prefix
        self.count = 0
        ARTIFACTS.mkdir(parents=True, exist_ok=True)

    def __call__(self, name: str, *, full_page: bool = True) -> None:
        self.count += 1
        self.page.screenshot(path=ARTIFACTS / f"{self.prefix}-{self.count:02d}-{name}.png", full_page=full_page)


def test_a_new_user_signs_up_and_uses_every_part_of_the_dashboard(
    server: MaskServer, receiver: Receiver, chromium: Any
) -> None:
    context = chromium.new_context(
        viewport={"width": 1280, "height": 800},
        user_agent=USER_AGENT,
        permissions=["clipboard-read", "clipboard-write"],
    )
    violations: list[str] = []
    context.add_init_script(
        "document.addEventListener('securitypolicyviolation', "
        "(e) => console.error('CSP ' + e.violatedDirective + ' ' + e.blockedURI));"
    )
    page = context.new_page()
    page.on("console", lambda message: violations.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: violations.append(str(error)))
    shot = Shots(page, "desktop")
    base = server.url
    destination = f"{receiver.origin}/launch-day"

    # Sign up: "/" is MASK's front page (tests/browser/test_link_builder.py), which leads to sign-up.
    page.goto(base + "/")
    assert page.url == base + "/"
    shot("front")
    page.get_by_role("link", name="Create a free account").click()
    shot("signup")
    page.get_by_label("Email").fill("ada@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Workspace name").fill("Analytical Engines")
    page.get_by_role("button", name="Create account").click()
    page.wait_for_url(re.compile(r"/app/signup/sent"))
    shot("signup-sent")
    page.goto(base + confirmation_link(server, "ada@example.com"))
    page.get_by_role("button", name="Confirm and continue").click()
    page.wait_for_url(re.compile(r"/app/analytical-engines/links"))
    expect(page.get_by_role("heading", name="Create your first short link")).to_be_visible()
    shot("links-empty")
    workspace = f"{base}/app/analytical-engines"

    # Settings → API Keys: create a key; it is shown once, with a copy button.
    page.get_by_role("navigation", name="Workspace").get_by_role("link", name="API Keys").click()
    shot("api-keys-empty")
    page.get_by_label("Name").fill("journey")
    page.get_by_role("button", name="Create key").click()
    token = page.locator("#new-key").input_value()
    assert token.startswith("mk_live_")
    page.get_by_role("button", name=re.compile("^Copy key")).click()
    assert page.evaluate("navigator.clipboard.readText()") == token
    assert page.locator("#toast").inner_text() == "Copied to the clipboard"
    shot("api-key-created")

    # The key works with the API.
    api = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=30)
    made = api.post("/v1/links", json={"url": "https://example.com/from-the-api", "slug": "from-api", "tags": ["api"]})
    assert made.status_code == 201, made.text
    for slug, tags in (
        ("spring-sale", ["campaign-q1", "email"]),
        ("user-guide", []),
        ("careers", ["hiring"]),
        ("podcast-12", ["podcast"]),
        ("webinar", ["campaign-q1"]),
    ):
        more = api.post(
            "/v1/links",
            json={"url": f"https://example.com/{slug}/with/a/longer/path?ref=mask", "slug": slug, "tags": tags},
        )
        assert more.status_code == 201, more.text

    # Create a link in the UI; it is listed beside the one the API made.
    page.goto(workspace + "/links")
    page.get_by_role("link", name="New link").click()
    page.get_by_label("Destination URL").fill(destination)
    page.get_by_label("Slug").fill("launch")
    page.get_by_label("Tags").fill("launch, q1")
    shot("link-new")
    page.get_by_role("button", name="Create link").click()
    page.wait_for_url(re.compile(r"/links\?done=link-created"))
    expect(page.get_by_role("link", name=re.compile(r"\Wlaunch$"))).to_be_visible()
    expect(page.get_by_role("link", name=re.compile(r"\Wfrom-api$"))).to_be_visible()
    shot("links")
    shot("readme-links", full_page=False)
    # The live search (htmx) narrows the table without a page load.
    page.get_by_label("Search links").fill("from-api")
    until(lambda: page.get_by_role("link", name=re.compile(r"\Wlaunch$")).count() == 0)
    assert "q=from-api" in page.url
    page.get_by_label("Search links").fill("")

    # Open the short link: a redirect to the destination, and a click recorded.
    visitor = context.new_page()
    for _ in range(3):
        visitor.goto(f"{base}/launch")
        assert visitor.url == destination and visitor.title() == "Launch day"
    visitor.close()

    # The click shows on the link's chart (the click writer stores it within a moment).
    page.goto(workspace + "/links")
    page.get_by_role("link", name=re.compile(r"\Wlaunch$")).click()
    link_page = page.url

    def charted() -> bool:
        page.goto(link_page)
        return bool(page.locator(".stat .big-number").first.inner_text() == "3")

    until(charted)
    page.wait_for_selector(".chart canvas")  # uPlot drew the time series
    until(lambda: page.locator("[aria-busy=true]").count() == 0)  # every breakdown card loaded itself
    assert "Linux" in page.locator("#bd-os").inner_text()
    shot("link-detail-chart")
    page.goto(workspace + "/analytics?interval=24h")
    page.wait_for_selector(".chart canvas")
    assert page.locator(".stat .big-number").first.inner_text() == "3"
    until(lambda: page.locator("[aria-busy=true]").count() == 0)
    assert "launch" in page.locator("#bd-links").inner_text()
    label_on_top = page.evaluate("""() => {
        const label = document.querySelector("#bd-links .bar-label");
        label.scrollIntoView({ block: "center" });  // below the world map: elementFromPoint sees the viewport only
        const box = label.getBoundingClientRect();
        return label.contains(document.elementFromPoint(box.left + 3, box.top + box.height / 2));
    }""")
    assert label_on_top, "a breakdown's bar hides its label"
    count_whole = page.evaluate("""() => [...document.querySelectorAll("#bd-links .count")]
        .every((count) => count.scrollWidth <= count.clientWidth)""")
    assert count_whole, "a breakdown's count is cut off by its label"
    assert page.locator(".chart").get_attribute("data-drawn-as") == "line"  # hour buckets
    page.goto(workspace + "/analytics?interval=7d")
    page.wait_for_selector(".chart canvas")
    assert page.locator(".chart").get_attribute("data-drawn-as") == "bars"  # day buckets: counts per day
    page.goto(workspace + "/analytics?interval=all")
    page.wait_for_selector(".chart canvas")
    span = page.evaluate("() => { const x = document.querySelector('.chart')._chart.scales.x; return x.max - x.min; }")
    assert 0 < span <= 3 * 86400, f"all time, every click in one bucket: the axis spans {span} s"
    shot("analytics")
    shot("readme-analytics", full_page=False)

    # A bio page: create, add blocks, reorder, pick a theme, open it in public.
    page.get_by_role("navigation", name="Workspace").get_by_role("link", name="Bio pages").click()
    shot("bio-pages-empty")
    page.get_by_label("Handle").fill("ada")
    page.get_by_label("Title").fill("Ada Lovelace")
    page.get_by_role("button", name="Create bio page").click()
    page.wait_for_url(re.compile(r"/bio/bio_\w+\?done=bio-created"))
    page.locator("#n-link-title").fill("Notes on the Analytical Engine")
    page.locator("#n-link-url").fill("https://example.com/notes")
    page.get_by_role("button", name="Add link").click()
    page.wait_for_load_state()
    page.locator("summary", has_text="Heading").click()
    page.locator("#n-header-text").fill("Read me")
    page.get_by_role("button", name="Add heading").click()
    page.wait_for_load_state()
    page.get_by_role("button", name="Move Heading “Read me” up").click()
    page.wait_for_load_state()
    assert page.locator(".block-summary").all_inner_texts() == ["Read me", "Notes on the Analytical Engine"]
    page.locator("label.preset", has_text="Sunset").click()
    page.get_by_role("button", name="Save page").click()
    page.wait_for_load_state()
    preview = page.frame_locator(".phone iframe")
    expect(preview.get_by_role("heading", name="Ada Lovelace")).to_be_visible()
    shot("bio-editor")
    shot("readme-bio-editor", full_page=False)
    public = context.new_page()
    public.goto(f"{base}/@ada")
    expect(public.get_by_role("link", name="Notes on the Analytical Engine")).to_be_visible()
    Shots(public, "desktop-public")("bio-page")
    public.close()

    # A webhook to a local receiver: the secret once, then a test event delivered and logged.
    page.get_by_role("navigation", name="Workspace").get_by_role("link", name="Webhooks").click()
    shot("webhooks-empty")
    page.get_by_label("Endpoint URL").fill(receiver.url)
    page.get_by_label("link.created").check()
    page.get_by_role("button", name="Add webhook").click()
    secret = page.locator("#webhook-secret").input_value()
    assert secret.startswith("whsec_")
    shot("webhook-created")
    page.get_by_role("link", name=re.compile("Open the webhook")).click()
    page.get_by_role("button", name="Send test event").click()
    # No reload from here: the log refreshes itself (htmx) while a delivery is pending.
    page.get_by_text("Delivered").first.wait_for(timeout=20_000)
    shot("webhook-delivery-log")
    headers, body = receiver.requests[-1]
    try:
        Webhook(secret).verify(body, headers)
    except WebhookVerificationError as error:  # pragma: no cover - the assertion below says it
        pytest.fail(f"the delivery's signature does not verify with the secret shown: {error}")
    assert json.loads(body)["type"] == "ping"

    # The remaining pages.
    for path, name in (("/domains", "domains"), ("/settings", "settings-workspace")):
        page.goto(workspace + path)
        shot(name)
    page.goto(base + "/app/account")
    shot("account")
    page.goto(base + "/app/workspaces/new")
    shot("workspace-new")
    assert not violations, f"browser console errors (CSP violations, script errors): {violations}"
    context.close()


PHONE_PAGES = ["/links", "/links/new", "/analytics", "/bio", "/domains", "/webhooks", "/settings", "/settings/keys"]


def test_every_page_fits_a_phone_and_shows_where_the_keyboard_is(server: MaskServer, chromium: Any) -> None:
    context = chromium.new_context(
        viewport={"width": 390, "height": 844},
        user_agent=USER_AGENT,
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
    )
    page = context.new_page()
    shot = Shots(page, "phone")
    page.goto(server.url + "/app/signup")
    assert page.evaluate("document.activeElement.id") == "f-email"  # the form is ready to type in
    shot("signup")
    page.keyboard.type("phone@example.com")
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/app/signup/sent"))
    page.goto(server.url + confirmation_link(server, "phone@example.com"))
    page.get_by_role("button", name="Confirm and continue").click()
    page.wait_for_url(re.compile(r"/app/[\w-]+/links"))
    workspace = page.url.split("/links")[0]
    # Keyboard: Tab reaches the skip link first, which jumps over the navigation; focus is always visible.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent.trim()") == "New link"
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline not in ("", "none"), "the focused element has no visible outline"
    for path in PHONE_PAGES:
        page.goto(workspace + path)
        # Against 390 px, not innerWidth: with is_mobile chromium zooms out and innerWidth grows with the page.
        overflow = page.evaluate("Math.max(document.documentElement.scrollWidth, window.innerWidth) - 390")
        assert overflow <= 0, f"{path} scrolls sideways by {overflow}px at 390px"
        shot(path.strip("/").replace("/", "-"))
    context.close()

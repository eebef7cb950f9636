"""The link builder, the links list and the front door in a real browser (Debian's chromium, Playwright) against
a real `mask serve`, at 1440×900 and at phone width (390×844), in a non-UTC time zone (America/New_York).

Screenshots go to $MASK_SCREENSHOTS (default test-artifacts/screenshots/).
"""

from __future__ import annotations

import os
import re
import sqlite3
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.backends import SqliteTemplate
from tests.browser.chromium import PASSWORD, USER_AGENT, expect, require_chromium, until
from tests.dashboard.conftest import delivered_in, link_in
from tests.redirect.servers import MaskServer, free_port

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SHOTS = Path(os.environ.get("MASK_SCREENSHOTS") or Path(__file__).resolve().parents[2] / "test-artifacts/screenshots")
ZONE = "America/New_York"
DESKTOP = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}


class Landing:
    """A page on loopback: the operator's MASK_ROOT_URL."""

    def __init__(self) -> None:
        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("content-type", "text/html")
                self.end_headers()
                self.wfile.write(
                    b'<!doctype html><title>Brand home</title><meta property="og:title" content="Brand launch">'
                    b'<meta property="og:description" content="Everything new this spring">'
                    b'<meta property="og:image" content="https://cdn.example.com/launch.png"><h1>Brand home</h1>'
                )

            def log_message(self, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    @property
    def url(self) -> str:
        # By name: MASK refuses a root URL on its own host (127.0.0.1), whatever the port.
        return f"http://localhost:{self.server.server_address[1]}/home"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _serve(sqlite_template: SqliteTemplate, directory: Path, **extra: str) -> MaskServer:
    port = free_port()
    env = {
        "MASK_DATABASE_URL": sqlite_template.clone(),
        "MASK_SHORT_DOMAIN": f"127.0.0.1:{port}",
        "MASK_MAIL_DIR": str(directory / "mail"),
        **extra,
    }
    return MaskServer(env, port=port, log=directory / "server.log").start()


@pytest.fixture(scope="module")
def landing() -> Iterator[Landing]:
    started = Landing()
    yield started
    started.stop()


@pytest.fixture(scope="module")
def server(
    sqlite_template: SqliteTemplate, tmp_path_factory: pytest.TempPathFactory, landing: Landing
) -> Iterator[MaskServer]:
    require_chromium()
    # "Fetch from page" reads the landing page on loopback: an exception made for this server alone.
    directory = tmp_path_factory.mktemp("builder-browser")
    process = _serve(sqlite_template, directory, MASK_TITLE_FETCH_ALLOWED_NETWORKS="127.0.0.1/32")
    try:
        yield process
    finally:
        process.stop()


def _shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SHOTS / f"builder-{name}.png", full_page=True)


def _no_sideways_scroll(page: Any, where: str) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    viewport = page.evaluate("window.innerWidth")
    assert width <= viewport, f"{where}: {width}px wide in a {viewport}px window"


def _context(chromium: Any, viewport: dict[str, int]) -> tuple[Any, Any, list[str]]:
    context = chromium.new_context(
        viewport=viewport,
        user_agent=USER_AGENT,
        timezone_id=ZONE,
        permissions=["clipboard-read", "clipboard-write"],
    )
    problems: list[str] = []
    context.add_init_script(
        "document.addEventListener('securitypolicyviolation', "
        "(e) => console.error('CSP ' + e.violatedDirective + ' ' + e.blockedURI));"
    )
    page = context.new_page()
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    return context, page, problems


def _sign_up(page: Any, server: MaskServer, email: str) -> str:
    """From the front page to the (empty) links list; the workspace's base URL."""
    page.goto(server.url + "/app/signup")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Workspace name").fill("Builders " + email.split("@")[0])
    page.get_by_role("button", name="Create account").click()
    page.wait_for_url(re.compile(r"/app/signup/sent"))
    directory = Path(server.env["MASK_MAIL_DIR"])
    until(lambda: bool(delivered_in(directory, email, "verify_email")), within=60)
    page.goto(server.url + link_in(delivered_in(directory, email, "verify_email")[-1]))
    page.get_by_role("button", name="Confirm and continue").click()
    page.wait_for_url(re.compile(r"/app/[^/]+/links"))
    return str(page.url).split("/links")[0]


def _db(server: MaskServer) -> sqlite3.Connection:
    return sqlite3.connect(server.env["MASK_DATABASE_URL"].removeprefix("sqlite+aiosqlite:///"))


def test_the_front_page_and_the_link_builder_end_to_end(server: MaskServer, landing: Landing, chromium: Any) -> None:
    context, page, problems = _context(chromium, DESKTOP)
    base = server.url
    domain = base.removeprefix("http://")

    # The front door: MASK's own page, with sign up, log in and the API docs.
    page.goto(base + "/")
    assert page.url == base + "/"
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    for name in ("Create a free account", "API docs", "Log in"):
        expect(page.get_by_role("link", name=name).first).to_be_visible()
    _no_sideways_scroll(page, "front page")
    _shot(page, "desktop-front")
    workspace = _sign_up(page, server, "ada@example.com")
    page.goto(base + "/")
    expect(page.get_by_role("link", name="Go to dashboard").first).to_be_visible()
    page.goto(workspace + "/links")

    # `c` opens the builder (not while typing in the search box).
    page.get_by_label("Search links").press("c")
    assert page.url.startswith(workspace + "/links")
    page.locator("h1").click()
    page.keyboard.press("c")
    page.wait_for_url(workspace + "/links/new")

    # The destination without a scheme gets https:// as the field is left; the builder says it will.
    expect(page.get_by_text("example.com/page becomes https://example.com/page")).to_be_visible()
    url = page.get_by_label("Destination URL")
    url.fill("example.com/landing")
    page.get_by_label("Slug").click()
    assert url.input_value() == "https://example.com/landing"

    # The short URL and its QR code follow the slug as it is typed.
    page.get_by_label("Slug").press_sequentially("spring")
    assert page.locator("#short-preview").inner_text() == f"{domain}/spring"
    qr = page.locator("#builder-qr")
    until(lambda: qr.is_visible() and "slug=spring" in (qr.get_attribute("src") or ""))
    until(lambda: bool(page.evaluate("document.getElementById('builder-qr').naturalWidth > 0")))

    # UTM builder: the fields write the destination's query, and the query fills the fields.
    page.locator("#utm-builder summary").click()
    page.get_by_label("UTM source").fill("newsletter")
    assert url.input_value() == "https://example.com/landing?utm_source=newsletter"
    url.fill("https://example.com/landing?utm_source=newsletter&utm_medium=email")
    assert page.get_by_label("UTM medium").input_value() == "email"
    page.get_by_label("UTM medium").fill("")
    assert url.input_value() == "https://example.com/landing?utm_source=newsletter"

    # Tags as coloured chips; expiry in the browser's own zone.
    page.get_by_label("Tags").fill("launch, q1")
    assert page.locator("#tag-chips .tag").all_inner_texts() == ["launch", "q1"]
    page.get_by_text("Expiry and external id").click()
    assert page.locator("input[name=tz]").input_value() == ZONE
    expect(page.get_by_text(f"In your time zone: {ZONE}.").first).to_be_visible()
    page.get_by_label("Expires at").fill("2030-01-15T09:00")

    # "Fetch from page" fills the social card from the destination's Open Graph tags (here a page on loopback).
    page.get_by_text("Social preview", exact=True).click()
    kept = url.input_value()
    url.fill(landing.origin + "/launch")
    page.get_by_role("button", name="Fetch from page").click()
    until(lambda: page.get_by_label("Preview title").input_value() == "Brand launch")
    assert page.get_by_label("Preview description").input_value() == "Everything new this spring"
    assert page.locator("[data-og-title]").inner_text() == "Brand launch"
    assert page.locator("[data-og-image]").get_attribute("href") == "https://cdn.example.com/launch.png"
    assert "/links/new" in page.url  # fetched by script: nothing was submitted
    url.fill(kept)
    # The social card follows its fields.
    page.get_by_label("Preview title").fill("Spring is here")
    assert page.locator("[data-og-title]").inner_text() == "Spring is here"
    _no_sideways_scroll(page, "builder")
    _shot(page, "desktop-builder")
    page.get_by_role("button", name="Create link").click()
    page.wait_for_url(re.compile(r"/links\?done=link-created"))

    # Stored in UTC (09:00 in New York in January is 14:00 UTC), and shown back in New York time.
    with _db(server) as db:
        stored = db.execute("select url, utm_source, expires_at from links where slug = 'spring'").fetchone()
    # The list names it by its title, once fetched from the page, or by its short URL.
    assert stored[0] == "https://example.com/landing?utm_source=newsletter" and stored[1] == "newsletter"
    assert stored[2].startswith("2030-01-15 14:00")
    page.locator("a.link-name", has_text=re.compile(r"/spring$")).click()
    editor = page.url
    assert page.get_by_label("Expires at").input_value() == "2030-01-15T09:00"
    # On a first visit (no zone cookie yet) the server draws UTC, and the page redraws it in the browser's zone.
    context.clear_cookies(name="mask_tz")
    page.reload()
    assert page.get_by_label("Expires at").input_value() == "2030-01-15T09:00"
    assert page.locator("input[name=tz]").input_value() == ZONE
    assert page.get_by_role("link", name="Targeting & A/B tests").count() in (0, 1)  # when that page exists
    _shot(page, "desktop-editor")

    # A bad save: the error summary at the top takes the focus, and its links lead to each field.
    page.goto(workspace + "/links/new")
    page.get_by_label("Destination URL").fill("ftp://example.com/file")
    page.get_by_label("Slug").fill("app")
    page.get_by_role("button", name="Create link").click()
    page.wait_for_load_state()
    assert page.evaluate("document.activeElement.id") == "error-summary"
    summary = page.locator("#error-summary")
    assert summary.get_attribute("role") == "alert" and "2 things to fix" in summary.inner_text()
    _shot(page, "desktop-error-summary")
    summary.get_by_role("link").first.click()
    assert page.evaluate("document.activeElement.id") in ("f-url", "f-slug")

    # An expired link is edited: its past expiry is not re-sent.
    past = (datetime.now(UTC) - timedelta(days=3)).strftime("%Y-%m-%d %H:%M:%S.000000")
    with _db(server) as db:
        db.execute("update links set expires_at = ? where slug = 'spring'", (past,))
    page.goto(editor)
    page.locator("#f-title").fill("Spring, renamed")
    page.get_by_role("button", name="Save changes").click()
    page.wait_for_url(re.compile(r"done=link-updated"))
    assert page.locator("h1.link-title").inner_text().startswith("Spring, renamed")
    with _db(server) as db:
        assert db.execute("select expires_at from links where slug = 'spring'").fetchone()[0] == past

    # The refused save answered 422 (the browser logs that); nothing else went wrong.
    assert [text for text in problems if "status of 422" not in text] == [], problems
    context.close()


def test_row_actions_bulk_selection_and_shortcuts(server: MaskServer, chromium: Any) -> None:
    context, page, problems = _context(chromium, DESKTOP)
    workspace = _sign_up(page, server, "grace@example.com")
    for slug in ("alpha", "beta", "gamma"):
        page.goto(workspace + "/links/new")
        page.get_by_label("Destination URL").fill(f"example.com/{slug}")
        page.get_by_label("Slug").fill(slug)
        page.get_by_role("button", name="Create link").click()
        page.wait_for_url(re.compile(r"done=link-created"))
    domain = server.url.removeprefix("http://")

    # `/` goes to the search; `?` opens the help, which lists the shortcuts.
    page.locator("h1").click()
    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.id") == "f-q"
    page.locator("h1").click()
    page.keyboard.press("?")
    help_box = page.locator("#shortcuts")
    expect(help_box).to_be_visible()
    assert "Search links" in help_box.inner_text()
    _shot(page, "desktop-shortcuts")
    page.keyboard.press("Escape")
    expect(help_box).to_be_hidden()

    def row(slug: str) -> Any:
        return page.locator("#link-results tbody tr").filter(has_text=f"{domain}/{slug}")

    # The live search swaps the rows in (htmx) without breaking the page's CSP; `y` copies the focused row's URL.
    page.get_by_label("Search links").fill("alpha")
    until(lambda: row("beta").count() == 0)
    page.get_by_label("Search links").fill("")
    until(lambda: row("beta").count() == 1)
    row("beta").locator("a.link-name").focus()
    page.keyboard.press("y")
    assert page.evaluate("navigator.clipboard.readText()") == f"http://{domain}/beta"

    # Row actions: copy, QR, edit, archive, delete (after a confirmation page).
    row("alpha").get_by_role("button", name="Copy").click()
    assert page.evaluate("navigator.clipboard.readText()") == f"http://{domain}/alpha"
    row("alpha").get_by_label(f"More actions for {domain}/alpha").click()
    row("alpha").get_by_role("menuitem", name="QR code").click()
    page.wait_for_url(re.compile(r"#qr-h$"))
    expect(page.locator("#qr-preview img")).to_be_visible()
    page.go_back()
    row("beta").get_by_label(f"More actions for {domain}/beta").click()
    row("beta").get_by_role("menuitem", name="Edit").click()
    assert page.get_by_label("Slug").input_value() == "beta"
    page.go_back()
    row("beta").get_by_label(f"More actions for {domain}/beta").click()
    row("beta").get_by_role("menuitem", name="Archive").click()
    page.wait_for_url(re.compile(r"done=links-archived"))
    assert row("beta").count() == 0 and row("alpha").count() == 1

    # Selection: select all, then add a tag to every selected link.
    page.get_by_label("Select all links on this page").check()
    assert page.locator("#selected-count").inner_text() == "2 selected"
    page.get_by_label("Action for the selected links").select_option("tag-add")
    page.get_by_label("Tag to add or remove").fill("spring")
    _shot(page, "desktop-list-selected")
    page.get_by_role("button", name="Apply to selected").click()
    page.wait_for_url(re.compile(r"done=links-tagged"))
    assert page.locator("#link-results .tags .tag", has_text="spring").count() == 2
    # Delete one selected link: a confirmation first.
    row("gamma").get_by_label(f"Select {domain}/gamma").check()
    page.get_by_label("Action for the selected links").select_option("delete")
    page.get_by_role("button", name="Apply to selected").click()
    expect(page.get_by_role("heading", name="Delete 1 link?")).to_be_visible()
    _shot(page, "desktop-confirm-delete")
    page.get_by_role("button", name="Delete 1 link").click()
    page.wait_for_url(re.compile(r"done=links-deleted"))
    assert row("gamma").count() == 0 and row("alpha").count() == 1
    _no_sideways_scroll(page, "list")
    _shot(page, "desktop-list")
    assert problems == [], problems
    context.close()


def test_every_links_page_fits_a_phone(server: MaskServer, chromium: Any) -> None:
    context, page, problems = _context(chromium, PHONE)
    page.goto(server.url + "/")
    _no_sideways_scroll(page, "front page")
    _shot(page, "phone-front")
    workspace = _sign_up(page, server, "hopper@example.com")
    page.goto(workspace + "/links/new")
    page.get_by_label("Destination URL").fill("example.com/a/rather/long/path/that/goes/on/and/on?with=query")
    page.get_by_label("Slug").fill("phone")
    page.locator("details.more").evaluate_all("(all) => all.forEach((d) => d.open = true)")
    _shot(page, "phone-builder")
    _no_sideways_scroll(page, "builder")
    page.get_by_role("button", name="Create link").click()
    page.wait_for_url(re.compile(r"done=link-created"))
    _no_sideways_scroll(page, "list")
    page.get_by_label(re.compile("More actions for")).first.click()
    _no_sideways_scroll(page, "list with a row menu open")
    _shot(page, "phone-list")
    page.get_by_role("menuitem", name="Edit").click()
    page.wait_for_url(re.compile(r"/links/lnk_[^/?#]+#link-form$"))  # measured mid-navigation, there is no document
    page.wait_for_load_state()
    assert page.get_by_label("Slug").input_value() == "phone"
    _no_sideways_scroll(page, "editor")
    _shot(page, "phone-editor")
    assert problems == [], problems
    context.close()


def test_with_a_root_url_the_front_page_redirects_there(
    sqlite_template: SqliteTemplate, tmp_path: Path, chromium: Any
) -> None:
    landing = Landing()
    process = _serve(sqlite_template, tmp_path, MASK_ROOT_URL=landing.url)
    try:
        context, page, _problems = _context(chromium, DESKTOP)
        page.goto(process.url + "/")
        assert page.url == landing.url and page.title() == "Brand home"
        page.goto(process.url + "/app/login")
        expect(page.get_by_role("button", name="Log in")).to_be_visible()
        context.close()
    finally:
        process.stop()
        landing.stop()

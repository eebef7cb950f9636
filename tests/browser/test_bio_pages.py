"""Bio pages in a real browser: Debian's chromium, driven by Playwright, against a real `mask serve` process.

- every preset at a phone (390×844) and a desktop (1280×800) size: drawn with the theme's colours, no
  horizontal scrolling, a visible focus ring; screenshots saved under test-artifacts/bio-pages/;
- a click on a block is a 302 through our redirect and shows up in analytics and the page's counters;
- every string of the Big List of Naughty Strings as title, description and block texts: no dialog opens,
  no script runs or is even attempted (no CSP violation), and every block renders with the exact text.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from mask.auth import service as auth_service
from mask.bio_page.themes import PRESETS, contrast_ratio
from mask.config import Settings
from mask.context import AppContext
from mask.db import session_scope
from mask.workspace import service as workspace_service
from tests.backends import SqliteTemplate
from tests.browser.chromium import CHROMIUM, CHROMIUM_ARGS, USER_AGENT, require_chromium
from tests.conftest import corpus_path
from tests.redirect.servers import MaskServer, free_port

pytestmark = [pytest.mark.browser, pytest.mark.slow]

TABS = 2  # pages checked at a time, one tab each (the machine has two cores)
# What a naughty-strings page shows: its text as the DOM holds it, and any trace of markup or script.
SEEN = """() => ({
    title: document.querySelector("h1").textContent,
    blocks: [...document.querySelectorAll("[data-block]")].map((element) => element.textContent),
    scripts: document.scripts.length,
    handlers: [...document.querySelectorAll("*")].flatMap((element) =>
        [...element.attributes].map((attribute) => attribute.name).filter((name) => name.startsWith("on"))),
    violations: window.__violations,
})"""
VIEWPORTS = {"phone": (390, 844), "desktop": (1280, 800)}
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "bio-pages"
# Collects CSP violations from the first moment of the document (init scripts are not subject to the CSP).
WATCH_VIOLATIONS = """
window.__violations = [];
document.addEventListener("securitypolicyviolation",
                          (event) => window.__violations.push(event.violatedDirective + " " + event.blockedURI));
"""
SHOWCASE_BLOCKS: list[dict[str, Any]] = [
    {"type": "social", "platform": "instagram", "url": "https://instagram.com/ada"},
    {"type": "social", "platform": "x", "url": "https://x.com/ada"},
    {"type": "social", "platform": "youtube", "url": "https://youtube.com/@ada"},
    {"type": "social", "platform": "github", "url": "https://github.com/ada"},
    {"type": "social", "platform": "email", "url": "ada@example.com"},
    {"type": "link", "title": "Read my notes on the Analytical Engine", "url": "https://example.com/notes"},
    {"type": "link", "title": "Book a talk", "url": "https://example.com/talks"},
    {"type": "header", "text": "Projects"},
    {"type": "link", "title": "Bernoulli numbers, step by step", "url": "https://example.com/bernoulli"},
    {"type": "link", "title": "Letters with Charles Babbage", "url": "https://example.com/letters"},
    {"type": "text", "text": "Poetical science since 1843.\nBased in London."},
]


class Site:
    """The served process, a workspace's API key, and helpers to call the API."""

    def __init__(self, server: MaskServer, token: str) -> None:
        self.server = server
        self.url = server.url
        self.api = httpx.AsyncClient(base_url=server.url, headers={"Authorization": f"Bearer {token}"}, timeout=30)

    async def create_page(self, **fields: Any) -> httpx.Response:
        return await self.api.post("/v1/bio-pages", json=fields)

    async def page(self, page_id: str) -> dict[str, Any]:
        response = await self.api.get(f"/v1/bio-pages/{page_id}")
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body


async def _api_key(database_url: str) -> str:
    context = AppContext.create(Settings(env="test", database_url=database_url, redis_url=None))
    try:
        async with session_scope(context.sessionmaker) as session:
            workspace = await workspace_service.create(
                session, slug=f"browser{secrets.token_hex(3)}", plan="enterprise"
            )
            created = await auth_service.create(session, workspace=workspace, scopes=None, name="browser tests")
    finally:
        await context.engine.dispose()
    return created.token


@pytest.fixture(scope="module")
def server(sqlite_template: SqliteTemplate, tmp_path_factory: pytest.TempPathFactory) -> Iterator[MaskServer]:
    require_chromium()
    port = free_port()
    log = tmp_path_factory.mktemp("bio-browser") / "server.log"
    env = {"MASK_DATABASE_URL": sqlite_template.clone(), "MASK_SHORT_DOMAIN": f"127.0.0.1:{port}"}
    process = MaskServer(env, port=port, log=log).start()
    try:
        yield process
    finally:
        process.stop()


@pytest.fixture(scope="module")
async def site(server: MaskServer) -> AsyncIterator[Site]:
    token = await _api_key(server.env["MASK_DATABASE_URL"])
    value = Site(server, token)
    yield value
    await value.api.aclose()


@pytest.fixture(scope="module")
async def browser(server: MaskServer) -> AsyncIterator[Any]:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        await chromium.close()


async def _new_page(browser: Any, *, width: int = 390, height: int = 844) -> tuple[Any, Any, list[str]]:
    """A fresh browser context and tab that records dialogs and blocks every request leaving the site."""
    context = await browser.new_context(viewport={"width": width, "height": height}, user_agent=USER_AGENT)
    await context.add_init_script(WATCH_VIOLATIONS)
    dialogs: list[str] = []
    tab = await context.new_page()

    async def on_dialog(dialog: Any) -> None:
        dialogs.append(f"{dialog.type}: {dialog.message}")
        await dialog.dismiss()

    tab.on("dialog", on_dialog)
    return context, tab, dialogs


@pytest.mark.parametrize("preset", sorted(PRESETS))
async def test_every_preset_at_phone_and_desktop_sizes(site: Site, browser: Any, preset: str) -> None:
    handle = f"show-{preset}"
    response = await site.create_page(
        handle=handle,
        title="Ada Lovelace",
        theme={"preset": preset},
        description="Mathematician, writer, first programmer.",
        blocks=SHOWCASE_BLOCKS,
    )
    assert response.status_code == 201, response.text
    theme = PRESETS[preset]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for size, (width, height) in VIEWPORTS.items():
        context, tab, dialogs = await _new_page(browser, width=width, height=height)
        try:
            answer = await tab.goto(f"{site.url}/@{handle}")
            assert answer is not None and answer.status == 200
            drawn = await tab.evaluate("""() => {
                const style = (selector) => getComputedStyle(document.querySelector(selector));
                return {
                    text: style("h1").color, background: style("html").backgroundColor,
                    button: style(".button").backgroundColor, buttonText: style(".button").color,
                    scrollWidth: document.documentElement.scrollWidth,
                    buttons: document.querySelectorAll(".button").length,
                    icons: document.querySelectorAll(".socials svg").length,
                    sheets: document.styleSheets.length,
                };
            }""")
            assert drawn["sheets"] == 2  # bio.css and the theme's: both loaded under the CSP
            assert _rgb(drawn["text"]) == theme.text_color
            assert _rgb(drawn["background"]) == theme.background
            assert (_rgb(drawn["button"]), _rgb(drawn["buttonText"])) == (theme.button_color, theme.button_text_color)
            assert contrast_ratio(_rgb(drawn["text"]), _rgb(drawn["background"])) >= 4.5
            assert drawn["scrollWidth"] <= width, "the page scrolls sideways"
            assert (drawn["buttons"], drawn["icons"]) == (4, 5)
            # Keyboard users see where they are: the first link gets a visible outline.
            await tab.keyboard.press("Tab")
            outline = await tab.evaluate("() => getComputedStyle(document.activeElement).outlineStyle")
            assert outline == "solid"
            await tab.evaluate("() => document.activeElement.blur()")
            await tab.screenshot(path=str(ARTIFACTS / f"{preset}-{size}-{width}x{height}.png"), full_page=True)
            assert await tab.evaluate("() => window.__violations") == []
            assert dialogs == []
        finally:
            await context.close()


async def test_a_block_click_is_a_tracked_redirect_counted_in_analytics(site: Site, browser: Any) -> None:
    response = await site.create_page(handle="clicker", title="Clicker", blocks=SHOWCASE_BLOCKS)
    assert response.status_code == 201, response.text
    created = response.json()
    target = next(block for block in created["blocks"] if block["type"] == "link")
    context, tab, _ = await _new_page(browser)
    landed: list[str] = []

    async def destination(route: Any) -> None:  # stands in for example.com: the test makes no outside request
        landed.append(route.request.url)
        await route.fulfill(status=200, content_type="text/html", body="<h1>landed</h1>")

    await context.route("https://example.com/**", destination)
    try:
        await tab.goto(f"{site.url}/@clicker")
        await tab.get_by_role("link", name=target["title"]).click()
        await tab.wait_for_url("https://example.com/notes")
    finally:
        await context.close()
    assert landed == ["https://example.com/notes"]
    page_id = created["id"]
    counted = await _eventually(lambda: site.page(page_id), lambda body: body["clicks"] == 1)
    assert counted["views"] == 1
    assert [block.get("clicks") for block in counted["blocks"] if block["id"] == target["id"]] == [1]
    analytics = await site.api.get(
        "/v1/analytics/clicks", params={"group_by": "bio_blocks", "bio_page_id": page_id, "interval": "24h"}
    )
    assert analytics.status_code == 200, analytics.text
    rows = analytics.json()["data"]
    assert [(row["bio_block_id"], row["clicks"]) for row in rows] == [(target["id"], 1)]
    views = await site.api.get("/v1/analytics/views", params={"bio_page_id": page_id, "interval": "24h"})
    assert views.status_code == 200, views.text
    assert views.json()["views"] == 1


async def test_naughty_strings_render_as_text_and_never_run(site: Site, browser: Any) -> None:
    strings: list[str] = json.loads(corpus_path("blns.json").read_text(encoding="utf-8"))
    pages: list[tuple[str, str, list[str]]] = []  # (handle, expected title, expected block texts)
    refused: list[str] = []

    async def create(index: int, text: str) -> None:
        handle = f"blns-{index}"
        block_text = text if text.strip() else f"[{text}]"  # blocks refuse blank text
        blocks = [
            {"type": "link", "title": block_text[:100], "url": f"https://example.com/{index}"},
            {"type": "header", "text": block_text[:100]},
            {"type": "text", "text": block_text[:500]},
        ]
        response = await site.create_page(
            handle=handle, title=text[:100], description=text[:500], seo_description=text[:300], blocks=blocks
        )
        if response.status_code == 422:
            codes = {error["code"] for error in response.json()["error"]["errors"]}
            assert codes == {"invalid_characters"}, (text, response.text)
            refused.append(text)
            return
        assert response.status_code == 201, (text, response.text)
        title = text[:100] if text[:100].strip() else f"@{handle}"
        pages.append((handle, title, [blocks[0]["title"], blocks[1]["text"], blocks[2]["text"]]))

    for start in range(0, len(strings), TABS):
        await asyncio.gather(*(create(index, text) for index, text in enumerate(strings[start : start + TABS], start)))
    # Only the strings with terminal control characters (ESC, BEL, BS) are refused, with a clear reason.
    assert len(refused) == 3 and all(
        any(ord(char) < 0x20 and char not in "\t\n\r" for char in text) for text in refused
    )
    contexts = [await _new_page(browser) for _ in range(TABS)]
    try:
        await asyncio.gather(
            *(_check_pages(tab, site.url, pages[index::TABS]) for index, (_, tab, _) in enumerate(contexts))
        )
    finally:
        for context, _, _ in contexts:
            await context.close()
    assert [dialog for _, _, dialogs in contexts for dialog in dialogs] == []


async def _check_pages(tab: Any, base_url: str, pages: list[tuple[str, str, list[str]]]) -> None:
    for handle, title, texts in pages:
        answer = await tab.goto(f"{base_url}/@{handle}", wait_until="domcontentloaded")
        assert answer is not None and answer.status == 200, handle
        seen = await tab.evaluate(SEEN)
        assert seen["title"] == _as_parsed(title), handle
        assert seen["blocks"] == [_as_parsed(text) for text in texts], handle
        assert (seen["scripts"], seen["handlers"], seen["violations"]) == (0, [], []), handle


def _as_parsed(text: str) -> str:
    """What the HTML parser makes of text content: CR and CRLF become LF."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _rgb(css: str) -> str:
    """`rgb(17, 24, 39)` → `#111827`."""
    parts = css[css.index("(") + 1 : css.index(")")].replace(",", " ").split()
    return "#" + "".join(f"{int(float(part)):02x}" for part in parts[:3])


async def _eventually(fetch: Any, done: Any, timeout: float = 60.0) -> Any:
    """Poll `fetch()` until `done(result)`: clicks reach the database a moment after the redirect."""
    deadline = time.monotonic() + timeout
    while True:
        result = await fetch()
        if done(result) or time.monotonic() > deadline:
            return result
        await asyncio.sleep(0.2)

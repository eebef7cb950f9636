"""A shared dashboard in a real browser (Debian's chromium via Playwright, against `mask serve`): the password
form, then the page of one link's human clicks (totals, the uPlot chart, breakdowns with referrer domains only) at a
desktop (1440×900) and a phone (390×844) size, without sideways scrolling, console errors or links into the
dashboard. Screenshots go to test-artifacts/shared-dashboard/."""

from __future__ import annotations

import secrets
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from mask.auth import service as auth_service
from mask.config import Settings
from mask.context import AppContext
from mask.db import session_scope
from mask.workspace import service as workspace_service
from tests.backends import SqliteTemplate
from tests.browser.chromium import CHROMIUM, CHROMIUM_ARGS, USER_AGENT, require_chromium
from tests.redirect.servers import MaskServer, free_port

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "shared-dashboard"
VIEWPORTS = {"desktop": (1440, 900), "phone": (390, 844)}
PASSWORD = "spring is here"
REFERRER_URL = "https://news.example/a-private-article?session=s3cr3t"


async def _api_key(database_url: str) -> str:
    context = AppContext.create(Settings(env="test", database_url=database_url, redis_url=None))
    try:
        async with session_scope(context.sessionmaker) as session:
            workspace = await workspace_service.create(session, slug=f"sh{secrets.token_hex(3)}", plan="enterprise")
            created = await auth_service.create(session, workspace=workspace, scopes=None, name="browser tests")
    finally:
        await context.engine.dispose()
    return created.token


@pytest.fixture(scope="module")
def server(sqlite_template: SqliteTemplate, tmp_path_factory: pytest.TempPathFactory) -> Iterator[MaskServer]:
    require_chromium()
    port = free_port()
    log = tmp_path_factory.mktemp("shared-dashboard-browser") / "server.log"
    env = {"MASK_DATABASE_URL": sqlite_template.clone(), "MASK_SHORT_DOMAIN": f"127.0.0.1:{port}"}
    process = MaskServer(env, port=port, log=log).start()
    try:
        yield process
    finally:
        process.stop()


@pytest.fixture(scope="module")
async def browser(server: MaskServer) -> AsyncIterator[Any]:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        await chromium.close()


async def _shared_page(server: MaskServer) -> str:
    """A link with 4 human clicks (one from a referrer with a private URL) and a bot's, shared with a password."""
    token = await _api_key(server.env["MASK_DATABASE_URL"])
    async with httpx.AsyncClient(base_url=server.url, headers={"Authorization": f"Bearer {token}"}) as api:
        link = await api.post("/v1/links", json={"url": "https://example.com/spring", "slug": "spring"})
        assert link.status_code == 201, link.text
        async with httpx.AsyncClient(base_url=server.url) as visitor:
            for index in range(4):
                headers = {"User-Agent": USER_AGENT, **({"Referer": REFERRER_URL} if index == 0 else {})}
                assert (await visitor.get("/spring", headers=headers)).status_code == 302
            await visitor.get("/spring", headers={"User-Agent": "Googlebot/2.1 (+http://www.google.com/bot.html)"})
        deadline = time.monotonic() + 90
        while True:  # stored by the background process within a second or two
            counted = await api.get("/v1/analytics/clicks", params={"link_id": link.json()["id"], "interval": "24h"})
            if counted.json().get("clicks") == 4:
                break
            assert time.monotonic() < deadline, counted.text
            time.sleep(0.5)
        shared = await api.post(
            "/v1/shared-dashboards",
            json={"link_id": link.json()["id"], "title": "Spring campaign", "password": PASSWORD},
        )
        assert shared.status_code == 201, shared.text
        return str(shared.json()["url"])


async def test_the_shared_page_behind_its_password_at_desktop_and_phone_sizes(server: MaskServer, browser: Any) -> None:
    url = await _shared_page(server)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []  # console errors (CSP violations, script errors) of the current size's tab
    for name, (width, height) in VIEWPORTS.items():
        problems.clear()
        context = await browser.new_context(viewport={"width": width, "height": height}, user_agent=USER_AGENT)
        tab = await context.new_page()
        tab.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
        tab.on("pageerror", lambda error: problems.append(str(error)))
        try:
            first = await tab.goto(url)
            assert first is not None and first.status == 200
            assert first.headers["x-robots-tag"].startswith("noindex")
            assert first.headers["referrer-policy"] == "no-referrer"
            assert "data-total" not in await tab.content()
            await tab.fill("#share-password", "not it at all")
            async with tab.expect_navigation():
                await tab.click("button[type=submit]")
            assert "not right" in (await tab.text_content(".alert-error") or "")
            assert problems == ["Failed to load resource: the server responded with a status of 401 (Unauthorized)"]
            problems.clear()  # the wrong password's 401, as expected
            await tab.fill("#share-password", PASSWORD)
            async with tab.expect_navigation():
                await tab.click("button[type=submit]")
            await tab.wait_for_selector(".chart canvas")  # uPlot drew the time series
            assert (await tab.text_content("[data-total=clicks]")) == "4"  # the bot left out
            assert await tab.title() == "Spring campaign · MASK"
            robots = await tab.get_attribute("meta[name=robots]", "content")
            assert robots is not None and robots.startswith("noindex")
            html = await tab.content()
            assert "news.example" in html and "a-private-article" not in html and "s3cr3t" not in html
            hrefs = await tab.eval_on_selector_all("a[href]", "(links) => links.map((a) => a.getAttribute('href'))")
            assert hrefs and all(href.startswith(("/share/", "#")) for href in hrefs), hrefs
            cookies = await context.cookies()
            share_cookie = next(cookie for cookie in cookies if cookie["name"] == "mask_share")
            assert share_cookie["httpOnly"] and share_cookie["path"] == "/" + url.split("/", 3)[3]
            assert PASSWORD.split()[0] not in share_cookie["value"]
            overflow = await tab.evaluate(
                f"Math.max(document.documentElement.scrollWidth, window.innerWidth) - {width}"
            )
            assert overflow <= 0, f"the page scrolls sideways by {overflow}px at {width}px"
            await tab.click("nav[aria-label='Time range'] >> text=7 days")
            assert "interval=7d" in tab.url and (await tab.text_content("[data-total=clicks]")) == "4"
            await tab.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
            assert not problems, f"browser console errors (CSP violations, script errors): {problems}"
        finally:
            await context.close()

"""A password-protected link in a real browser (Debian's chromium via Playwright, against `mask serve`): the form
works with the keyboard alone, a wrong password says so and keeps focus in the field, the right one lands on the
destination, and the cookie it sets lets the next visit through without asking. Screenshots go to
test-artifacts/password-page/."""

from __future__ import annotations

import secrets
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
from tests.link.pages import PageServer, Route
from tests.redirect.servers import MaskServer, free_port

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "password-page"


async def _api_key(database_url: str) -> str:
    context = AppContext.create(Settings(env="test", database_url=database_url, redis_url=None))
    try:
        async with session_scope(context.sessionmaker) as session:
            workspace = await workspace_service.create(session, slug=f"pw{secrets.token_hex(3)}", plan="enterprise")
            created = await auth_service.create(session, workspace=workspace, scopes=None, name="browser tests")
    finally:
        await context.engine.dispose()
    return created.token


@pytest.fixture(scope="module")
def server(sqlite_template: SqliteTemplate, tmp_path_factory: pytest.TempPathFactory) -> Iterator[MaskServer]:
    require_chromium()
    port = free_port()
    log = tmp_path_factory.mktemp("password-browser") / "server.log"
    env = {"MASK_DATABASE_URL": sqlite_template.clone(), "MASK_SHORT_DOMAIN": f"127.0.0.1:{port}"}
    process = MaskServer(env, port=port, log=log).start()
    try:
        yield process
    finally:
        process.stop()


@pytest.fixture
async def pages() -> AsyncIterator[PageServer]:
    server = await PageServer().start()
    yield server
    await server.stop()


@pytest.fixture(scope="module")
async def browser(server: MaskServer) -> AsyncIterator[Any]:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        await chromium.close()


async def test_the_password_page_with_the_keyboard_a_wrong_then_the_right_password(
    server: MaskServer, browser: Any, pages: PageServer
) -> None:
    pages.routes["/welcome"] = Route(body=b"<!doctype html><title>Welcome</title><h1>Welcome</h1>")
    destination = pages.url("/welcome")  # a real page on loopback: the browser has no network
    token = await _api_key(server.env["MASK_DATABASE_URL"])
    async with httpx.AsyncClient(base_url=server.url, headers={"Authorization": f"Bearer {token}"}) as api:
        created = await api.post("/v1/links", json={"url": destination, "slug": "vault", "password": "correct horse"})
        assert created.status_code == 201, created.text

    context = await browser.new_context(viewport={"width": 390, "height": 844}, user_agent=USER_AGENT)
    tab = await context.new_page()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    try:
        first = await tab.goto(f"{server.url}/vault")
        assert first is not None and first.status == 401
        assert await tab.title() == "Password required"
        assert "welcome" not in (await tab.content()).lower()
        # The field has focus on arrival: typing and Enter is all it takes.
        assert await tab.evaluate("document.activeElement.id") == "password"
        await tab.keyboard.type("wrong guess")
        await tab.keyboard.press("Enter")
        await tab.wait_for_selector("#error")
        assert (await tab.text_content("#error")) == "Wrong password."
        assert await tab.evaluate("document.activeElement.id") == "password"
        assert await tab.get_attribute("#password", "aria-invalid") == "true"
        await tab.screenshot(path=str(ARTIFACTS / "wrong-password.png"))

        # Tab to the button and press it: the keyboard path through the form.
        await tab.keyboard.type("correct horse")
        await tab.keyboard.press("Tab")
        assert await tab.evaluate("document.activeElement.tagName") == "BUTTON"
        async with tab.expect_navigation(url=destination):
            await tab.keyboard.press("Enter")
        assert await tab.title() == "Welcome"
        assert pages.requests.count("/welcome") == 1
        cookies = await context.cookies()
        assert [(cookie["name"], cookie["httpOnly"], cookie["path"]) for cookie in cookies] == [
            ("mask_pass", True, "/vault")
        ]
        assert "correct" not in cookies[0]["value"]

        # The next visit goes straight through.
        await tab.goto(f"{server.url}/vault")
        assert tab.url == destination and pages.requests.count("/welcome") == 2
    finally:
        await context.close()

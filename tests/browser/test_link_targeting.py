"""The targeting page in a real browser (Debian's chromium via Playwright, against `mask serve`), at desktop and
phone width: a rule with two conditions and a three-variant A/B test built with the keyboard and the mouse, weights
that do not add up shown with focus moved to the error summary, then real requests to the short link: a phone
speaking Spanish goes to the rule's address, a desktop to one of the variants, and after "Promote B" everyone to B.
The page never scrolls sideways. Screenshots go to test-artifacts/link-targeting/."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.backends import SqliteTemplate
from tests.browser.chromium import CHROMIUM, CHROMIUM_ARGS, PASSWORD, USER_AGENT, confirmation_link, require_chromium
from tests.dashboard.conftest import csrf_of
from tests.redirect.servers import MaskServer, free_port

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "link-targeting"
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.5 Mobile/15E148 Safari/604.1"
)
RULE_URL = "https://example.com/es-mobile"
TABLET_URL = "https://example.com/tablet"
VARIANTS = ["https://example.com/a", "https://example.com/b", "https://example.com/c"]


@pytest.fixture(scope="module")
def server(sqlite_template: SqliteTemplate, tmp_path_factory: pytest.TempPathFactory) -> Iterator[MaskServer]:
    require_chromium()
    port = free_port()
    log = tmp_path_factory.mktemp("targeting-browser") / "server.log"
    env = {
        "MASK_DATABASE_URL": sqlite_template.clone(),
        "MASK_SHORT_DOMAIN": f"127.0.0.1:{port}",
        "MASK_MAIL_DIR": str(log.parent / "mail"),
        "MASK_TITLE_FETCH_ENABLED": "false",
    }
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


async def _active(tab: Any) -> str:
    return str(await tab.evaluate("document.activeElement.id"))


async def _sign_up(tab: Any, server: MaskServer, email: str) -> str:
    """A new person, signed in; their workspace's path (`/app/<handle>`)."""
    await tab.goto(server.url + "/app/signup")
    await tab.keyboard.type(email)
    await tab.keyboard.press("Tab")
    await tab.keyboard.type(PASSWORD)
    await tab.keyboard.press("Enter")
    await tab.wait_for_url(re.compile(r"/app/signup/sent"))
    path = await asyncio.to_thread(confirmation_link, server, email)
    await tab.goto(server.url + path)
    await tab.get_by_role("button", name="Confirm and continue").click()
    await tab.wait_for_url(re.compile(r"/app/[\w-]+/links"))
    url: str = tab.url
    return "/app/" + url.split("/app/")[1].split("/")[0]


async def _new_link(context: Any, server: MaskServer, workspace: str, slug: str) -> str:
    """A link made with the dashboard's form, in the browser's session; its id."""
    cookies = {cookie["name"]: cookie["value"] for cookie in await context.cookies()}
    async with httpx.AsyncClient(base_url=server.url, cookies=cookies) as http:
        form = await http.get(f"{workspace}/links/new")
        created = await http.post(
            f"{workspace}/links",
            data={"url": "https://example.com/default", "slug": slug, "csrf_token": csrf_of(form.text)},
        )
        assert created.status_code == 303, created.text
        listing = await http.get(f"{workspace}/links", params={"q": slug})
        found = re.search(r"/links/(lnk_\w+)", listing.text)
        assert found, listing.text
        return found.group(1)


async def _no_sideways_scroll(tab: Any, what: str) -> None:
    # Against the viewport's own width: on a phone (is_mobile) chromium zooms out, so innerWidth grows with the page.
    width = tab.viewport_size["width"]
    overflow = await tab.evaluate(f"Math.max(document.documentElement.scrollWidth, window.innerWidth) - {width}")
    assert overflow <= 0, f"{what} scrolls sideways by {overflow}px"


@pytest.mark.parametrize(("name", "width", "height"), [("desktop", 1440, 900), ("phone", 390, 844)])
async def test_a_rule_and_an_ab_test_built_in_the_browser_decide_real_redirects(
    server: MaskServer, browser: Any, name: str, width: int, height: int
) -> None:
    context = await browser.new_context(
        viewport={"width": width, "height": height}, user_agent=USER_AGENT, timezone_id="Europe/Madrid"
    )
    tab = await context.new_page()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)

    async def shot(step: str) -> None:
        await tab.screenshot(path=str(ARTIFACTS / f"{name}-{step}.png"), full_page=True)

    try:
        workspace = await _sign_up(tab, server, f"{name}@example.com")
        slug = f"offer-{name}"
        link_id = await _new_link(context, server, workspace, slug)
        await tab.goto(f"{server.url}{workspace}/links/{link_id}/targeting")
        # The browser's time zone is taken once (a cookie, the page shown again in it).
        await tab.wait_for_function("document.querySelector('[data-zone]').value === 'Europe/Madrid'")
        await tab.wait_for_load_state()
        await _no_sideways_scroll(tab, "the empty page")
        await shot("empty")

        # A rule: added with the mouse; its address typed; the first condition's device chosen with the mouse.
        await tab.get_by_role("button", name="+ Add a rule").click()
        assert await _active(tab) == "f-rules-0-url"
        await tab.keyboard.type(RULE_URL)
        await tab.select_option("#f-rules-0-c-0-device", "mobile")
        # The second condition by keyboard: back to "+ Add a condition", Enter, pick "Language" by typing, Tab, "es".
        await tab.keyboard.press("Shift+Tab")
        assert await _active(tab) == "add-cond-0"
        await tab.keyboard.press("Enter")
        assert await _active(tab) == "f-rules-0-c-1-type"
        await tab.keyboard.type("Lang")
        assert await tab.input_value("#f-rules-0-c-1-type") == "language"
        await tab.keyboard.press("Tab")
        assert await _active(tab) == "f-rules-0-c-1-language"  # the other types' inputs are hidden
        await tab.keyboard.type("es")
        sentence = f"If device is mobile and browser language is es → {RULE_URL}"
        assert (await tab.text_content("[data-rule] [data-sentence]")) == sentence
        # A second rule, moved above the first: the rows are renumbered in place, and saved in the new order.
        await tab.get_by_role("button", name="+ Add a rule").click()
        assert await _active(tab) == "f-rules-1-url"
        await tab.keyboard.type(TABLET_URL)
        await tab.select_option("#f-rules-1-c-0-device", "tablet")
        await tab.locator("[data-rule]").nth(1).get_by_role("button", name="↑ Move up").click()
        assert await _active(tab) == "up-rule-0"
        assert await tab.input_value("#f-rules-0-url") == TABLET_URL
        tablet = f"If device is tablet → {TABLET_URL}"
        assert await tab.locator("[data-rule] [data-sentence]").all_text_contents() == [tablet, sentence]
        await shot("rule-built")
        await tab.get_by_role("button", name="Save rules", exact=True).click()
        await tab.wait_for_url(re.compile(r"done=rules-saved"))
        assert await tab.locator(".rule-summary li").all_text_contents() == [tablet, sentence]

        # An A/B test of three variants, typed with the keyboard: weights 50 / 30 / 10 first.
        await tab.get_by_role("button", name="+ Add a variant").click()
        assert await _active(tab) == "f-variants-2-url"
        await tab.click("#f-variants-0-url")
        for index, (url, weight) in enumerate(zip(VARIANTS, ["50", "30", "10"], strict=True)):
            assert await _active(tab) == f"f-variants-{index}-url"
            await tab.keyboard.type(url)
            await tab.keyboard.press("Tab")
            await tab.keyboard.type(weight)
            if index < 2:
                await tab.keyboard.press("Tab")  # the variant's Remove button
                await tab.keyboard.press("Tab")
        assert (await tab.text_content("[data-weight-sum]")) == "Total: 90 % (must be 100 %)"
        await tab.fill("#f-test_ends_at", "2030-06-01T12:00")
        await tab.focus("#f-variants-2-weight")
        await tab.keyboard.press("Enter")  # the form's default button: save
        await tab.wait_for_selector("#error-summary")
        assert await _active(tab) == "error-summary"
        summary = await tab.text_content("#error-summary") or ""
        assert "The weights add up to 90 %: they must add up to exactly 100 %." in summary
        assert await tab.input_value("#f-variants-1-url") == VARIANTS[1]  # what was typed is kept
        await shot("weights-wrong")
        await _no_sideways_scroll(tab, "the page with errors")

        await tab.fill("#f-variants-2-weight", "20")
        assert (await tab.text_content("[data-weight-sum]")) == "Total: 100 %"
        await tab.get_by_role("button", name="Save the test", exact=True).click()
        await tab.wait_for_url(re.compile(r"done=test-saved"))
        assert await tab.input_value("#f-test_ends_at") == "2030-06-01T12:00"  # Madrid time, stored in UTC
        await shot("saved")
        await _no_sideways_scroll(tab, "the saved page")

        # Real clicks: a Spanish-speaking phone gets the rule; a desktop one of the variants.
        short = f"{server.url}/{slug}"
        async with httpx.AsyncClient(follow_redirects=False) as http:
            phone = await http.get(short, headers={"user-agent": IPHONE, "accept-language": "es-ES,es;q=0.9"})
            assert (phone.status_code, phone.headers["location"]) == (302, RULE_URL)
            desktop = await http.get(short, headers={"user-agent": USER_AGENT, "accept-language": "es-ES"})
            assert desktop.status_code == 302 and desktop.headers["location"] in VARIANTS
            english = await http.get(short, headers={"user-agent": IPHONE, "accept-language": "en-US"})
            assert english.headers["location"] in VARIANTS

        # Promote B, confirmed in the dialog: every desktop visitor goes to B, the test is over.
        tab.once("dialog", lambda dialog: asyncio.ensure_future(dialog.accept()))
        await tab.get_by_role("button", name="Promote B").click()
        await tab.wait_for_url(re.compile(r"done=promoted"))
        assert "Promote a winner" not in (await tab.content())
        async with httpx.AsyncClient(follow_redirects=False) as http:
            after = await http.get(short, headers={"user-agent": USER_AGENT})
            assert after.headers["location"] == VARIANTS[1]
    finally:
        await context.close()

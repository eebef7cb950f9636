"""The analytics page's controls in a real browser (Debian's chromium, Playwright) against a real `mask serve`,
at desktop (1440×900) and phone (390×844) sizes: expanding a card moves focus to its first new row, a
"Direct / none" row filters, the custom range and timezone picker offers the browser's timezone and redraws the
chart in it, and no page scrolls sideways even with long referrer names. Clicks are real redirects, stored by
the server's background process. Screenshots go to test-artifacts/analytics/.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.backends import SqliteTemplate
from tests.browser.chromium import (
    USER_AGENT,
    dashboard_server,
    expect,
    no_sideways_scroll,
    post_link_form,
    sign_up,
    until,
)
from tests.redirect.servers import MaskServer

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "analytics"
# Eleven referrers and direct visits: more rows than a card shows (8). One host is long enough to overflow a
# phone's width if a label did not wrap or cut.
REFERRERS = [f"https://site-{n:02d}.example/post" for n in range(10)] + [
    "https://" + "a-really-long-referring-host-name-" * 2 + "example.org/with/a/path",
]
DIRECT = 3
EMAIL = "analyst@example.com"
BROWSER_TIMEZONE = "Pacific/Auckland"  # not among the picker's usual zones: the page offers it from the browser


@pytest.fixture(scope="module")
def server(sqlite_template: SqliteTemplate, tmp_path_factory: pytest.TempPathFactory) -> Iterator[MaskServer]:
    with dashboard_server(sqlite_template, tmp_path_factory, "analytics-browser") as process:
        yield process


@pytest.fixture(scope="module")
def signed_in(server: MaskServer, chromium: Any) -> Iterator[tuple[dict[str, Any], str]]:
    """A confirmed account with one link and its clicks (real redirects): the browser's storage state and the
    workspace's dashboard URL."""
    context = chromium.new_context(user_agent=USER_AGENT)
    page = context.new_page()
    workspace = sign_up(page, server, EMAIL)
    post_link_form(page, workspace, {"url": "https://example.com/launch", "slug": "launch"})
    visits = [{"Referer": referrer} for referrer in REFERRERS] + [{}] * DIRECT
    with httpx.Client(base_url=server.url, headers={"User-Agent": USER_AGENT}, timeout=30) as visitor:
        for headers in visits:
            assert visitor.get("/launch", headers=headers).status_code == 302
    page.goto(workspace + "/analytics")
    until(lambda: _big_number(page.reload() and page) == len(visits), within=90)
    yield context.storage_state(), workspace
    context.close()


def _big_number(page: Any) -> int:
    return int(page.locator(".stat .big-number").first.inner_text().replace(",", ""))


@pytest.mark.parametrize(
    ("size", "viewport"),
    [("desktop", {"width": 1440, "height": 900}), ("phone", {"width": 390, "height": 844})],
)
def test_analytics_controls(
    signed_in: tuple[dict[str, Any], str], chromium: Any, size: str, viewport: dict[str, int]
) -> None:
    state, workspace = signed_in
    options: dict[str, Any] = {"viewport": viewport, "user_agent": USER_AGENT, "timezone_id": BROWSER_TIMEZONE}
    if size == "phone":
        options |= {"device_scale_factor": 2, "is_mobile": True, "has_touch": True}
    context = chromium.new_context(storage_state=state, **options)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    ARTIFACTS.mkdir(parents=True, exist_ok=True)

    page.goto(workspace + "/analytics")
    referrers = page.locator("#bd-referrers")
    referrers.get_by_role("link", name="Show all referrers").wait_for()
    until(lambda: page.locator(".breakdown[aria-busy]").count() == 0)  # every card has loaded
    # The map card drew its inline SVG (visitors here come from loopback: no country is shaded).
    page.locator("#world-map").get_by_text("No click in this range has a known country").wait_for()
    assert referrers.locator(".bars li").count() == 8
    no_sideways_scroll(page, "the analytics page")
    page.screenshot(path=ARTIFACTS / f"{size}-1-page.png", full_page=True)

    # "Show all": the card grows in place and focus lands on the first row it did not show before.
    referrers.get_by_role("link", name="Show all referrers").click()
    until(lambda: page.locator("#bd-referrers .bars li").count() == len(REFERRERS) + 1)
    until(lambda: page.evaluate("document.activeElement.closest('li') !== null"))
    assert (
        page.evaluate(
            "Array.from(document.activeElement.closest('ol').children).indexOf(document.activeElement.closest('li'))"
        )
        == 8
    )
    assert page.get_by_role("link", name="Show all referrers").count() == 0
    no_sideways_scroll(page, "the expanded referrers card")
    page.screenshot(path=ARTIFACTS / f"{size}-2-expanded.png", full_page=True)

    # Direct visits are a row like any other, and a filter.
    page.locator("#bd-referrers").get_by_role("link", name="Direct / none").click()
    page.wait_for_url(re.compile(r"referrer=%28none%29"))
    assert _big_number(page) == DIRECT
    expect(page.get_by_role("link", name=re.compile("Remove filter referrer"))).to_be_visible()

    # A custom range in the browser's own timezone (offered first, since it is not among the usual ones).
    page.locator(".range-picker summary").click()
    zone = page.get_by_label("Timezone")
    assert zone.locator("option").nth(1).get_attribute("value") == BROWSER_TIMEZONE
    today = date.today()
    page.get_by_label("From", exact=True).fill((today - timedelta(days=2)).isoformat())
    page.get_by_label("To (included)").fill((today + timedelta(days=1)).isoformat())
    zone.select_option(BROWSER_TIMEZONE)
    page.get_by_role("button", name="Show", exact=True).click()
    page.wait_for_url(re.compile(r"timezone=Pacific%2FAuckland"))
    assert "referrer=%28none%29" in page.url  # the range keeps the filters
    assert _big_number(page) == DIRECT
    expect(page.get_by_role("heading", name=f"Clicks over time ({BROWSER_TIMEZONE})")).to_be_visible()
    until(lambda: page.locator("[data-chart]").get_attribute("data-drawn-as") is not None)
    no_sideways_scroll(page, "the analytics page with a custom range")
    page.screenshot(path=ARTIFACTS / f"{size}-3-range.png", full_page=True)
    assert not errors, errors
    context.close()

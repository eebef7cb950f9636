"""The analytics page's "Hits that found no link" in a real browser (Debian's chromium, Playwright) against a real
`mask serve`, at desktop (1440×900) and phone (390×844) sizes: the section shows the orphan hits' total and its
cards (by type, by path) once their rows have loaded, a path row filters it, a link's own page says how many hits
came after its limit was spent, and no page scrolls sideways, even with a 64-character slug among the paths. The
hits are real redirects of links whose click limit is spent, stored by the server's background process.
Screenshots go to test-artifacts/orphan-hits/.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
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

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "orphan-hits"
EMAIL = "orphans@example.com"
LONG_SLUG = "a-really-long-campaign-slug-that-ran-out-of-clicks-spring-2027-x"  # 64 characters, the most a slug has
# Each link allows one click; every visit after it is an orphan hit (`limit_reached`).
VISITS = {"once": 4, LONG_SLUG: 3}
ORPHANS = sum(visits - 1 for visits in VISITS.values())


@pytest.fixture(scope="module")
def server(sqlite_template: SqliteTemplate, tmp_path_factory: pytest.TempPathFactory) -> Iterator[MaskServer]:
    with dashboard_server(sqlite_template, tmp_path_factory, "orphan-hits-browser") as process:
        yield process


@pytest.fixture(scope="module")
def signed_in(server: MaskServer, chromium: Any) -> Iterator[tuple[dict[str, Any], str]]:
    """A confirmed account whose limited links were visited past their limit: the browser's storage state and the
    workspace's dashboard URL."""
    context = chromium.new_context(user_agent=USER_AGENT)
    page = context.new_page()
    workspace = sign_up(page, server, EMAIL)
    for slug in VISITS:
        post_link_form(page, workspace, {"url": "https://example.com/sale", "slug": slug, "max_clicks": "1"})
    with httpx.Client(base_url=server.url, headers={"User-Agent": USER_AGENT}, timeout=30) as visitor:
        for slug, visits in VISITS.items():
            answers = [visitor.get(f"/{slug}").status_code for _ in range(visits)]
            assert answers == [302] + [410] * (visits - 1)
    page.goto(workspace + "/analytics")
    until(lambda: _orphan_total(page.reload() and page) == ORPHANS, within=90)
    yield context.storage_state(), workspace
    context.close()


def server_url(workspace: str) -> str:
    """The server's origin, from a dashboard URL (hrefs on the pages are paths)."""
    return workspace.split("/app/")[0]


def _orphan_total(page: Any) -> int:
    return int(page.locator("[data-orphan-total] .big-number").inner_text().replace(",", ""))


def _loaded(page: Any) -> bool:
    return bool(page.evaluate("() => document.querySelectorAll('#orphan-hits .breakdown[aria-busy]').length === 0"))


@pytest.mark.parametrize(
    ("size", "viewport"),
    [("desktop", {"width": 1440, "height": 900}), ("phone", {"width": 390, "height": 844})],
)
def test_the_hits_that_found_no_link(
    signed_in: tuple[dict[str, Any], str], chromium: Any, size: str, viewport: dict[str, int]
) -> None:
    state, workspace = signed_in
    options: dict[str, Any] = {"viewport": viewport, "user_agent": USER_AGENT}
    if size == "phone":
        options |= {"device_scale_factor": 2, "is_mobile": True, "has_touch": True}
    context = chromium.new_context(storage_state=state, **options)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    ARTIFACTS.mkdir(parents=True, exist_ok=True)

    page.goto(workspace + "/analytics")
    section = page.locator("#orphan-hits")
    expect(section.get_by_role("heading", name="Hits that found no link")).to_be_visible()
    expect(section.get_by_text("never counted as clicks")).to_be_visible()
    assert _orphan_total(page) == ORPHANS
    assert int(page.locator(".stat .big-number").first.inner_text()) == len(VISITS)  # the clicks: one a link
    until(lambda: _loaded(page))
    types = page.locator("#bd-orphan_types")
    assert types.locator(".bars li").count() == 1
    assert types.locator(".bar-label").inner_text() == "Click limit reached"
    assert types.locator(".count").inner_text() == str(ORPHANS)
    paths = page.locator("#bd-paths")
    counts = {
        paths.locator(".bar-label").nth(n).inner_text(): int(paths.locator(".count").nth(n).inner_text())
        for n in range(paths.locator(".bars li").count())
    }
    assert counts == {f"/{slug}": visits - 1 for slug, visits in VISITS.items()}
    section.scroll_into_view_if_needed()
    no_sideways_scroll(page, "the analytics page with orphan hits")
    page.screenshot(path=ARTIFACTS / f"{size}-1-page.png", full_page=True)
    section.screenshot(path=ARTIFACTS / f"{size}-1-section.png")

    # A path row filters the orphan hits (and lands on their section); the clicks above are not filtered.
    paths.get_by_role("link", name="/once", exact=True).click()
    page.wait_for_url(re.compile(r"path=%2Fonce"))
    assert _orphan_total(page) == VISITS["once"] - 1
    assert int(page.locator(".stat .big-number").first.inner_text()) == len(VISITS)
    expect(section.get_by_role("link", name=re.compile("Remove filter path"))).to_be_visible()
    until(lambda: _loaded(page))
    assert page.locator("#bd-paths .bars li").count() == 1
    no_sideways_scroll(page, "the analytics page filtered to one path")
    page.screenshot(path=ARTIFACTS / f"{size}-2-filtered.png", full_page=True)

    # The link's own page: its hits after the limit, counted by type, with a way to the section above.
    page.goto(workspace + "/links")
    href = page.locator("a.link-name", has_text=re.compile(r"/once$")).get_attribute("href")
    assert href
    page.goto(server_url(workspace) + href)
    note = page.locator("[data-link-orphans]")
    expect(note).to_be_visible(timeout=20_000)
    expect(note).to_have_text(
        f"{VISITS['once'] - 1} hits after its click limit was reached, not counted as clicks. Details"
    )
    note.scroll_into_view_if_needed()
    no_sideways_scroll(page, "the link's page with its orphan hits")
    page.screenshot(path=ARTIFACTS / f"{size}-3-link-page.png", full_page=True)
    note.get_by_role("link", name="Details").click()
    page.wait_for_url(re.compile(r"/analytics\?.*link_id=lnk_.*#orphan-hits"))
    expect(page.locator("#orphan-hits")).to_be_visible(timeout=20_000)
    assert _orphan_total(page) == VISITS["once"] - 1
    assert not errors, errors
    context.close()

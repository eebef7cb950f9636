"""`/docs` renders the API reference in a browser that cannot reach the internet (this machine's chromium
never can): every asset comes from MASK itself."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

from tests.backends import SqliteTemplate
from tests.browser.chromium import CHROMIUM, CHROMIUM_ARGS, require_chromium
from tests.redirect.servers import MaskServer

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def server(sqlite_template: SqliteTemplate) -> Iterator[MaskServer]:
    require_chromium()
    process = MaskServer({"MASK_DATABASE_URL": sqlite_template.clone()}).start()
    try:
        yield process
    finally:
        process.stop()


def test_the_api_reference_renders_every_operation_from_local_assets_only(server: MaskServer) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            requested: list[str] = []
            page.on("request", lambda request: requested.append(request.url))
            page.goto(f"{server.url}/docs")
            page.wait_for_selector(".opblock-summary-path", timeout=30_000)
            paths = set(page.locator(".opblock-summary-path").all_inner_texts())
        finally:
            browser.close()
    assert {"/v1/links", "/v1/links/{link_id}", "/v1/analytics/clicks"} <= {path.strip() for path in paths}
    hosts = {urlsplit(url).netloc for url in requested if not url.startswith("data:")}
    assert hosts == {f"127.0.0.1:{server.port}"}, hosts

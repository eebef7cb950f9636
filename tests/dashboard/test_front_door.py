"""`/` on the app host: MASK's own public page (what it does, sign up, log in, the API docs), not a log-in
redirect; with MASK_ROOT_URL set, the operator's page instead. Workspace domains never show it."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from mask.app import MaskApp
from tests.dashboard.conftest import make_person


async def test_a_visitor_gets_the_front_page_with_sign_up_log_in_and_the_api_docs(client: httpx.AsyncClient) -> None:
    root = await client.get("/")
    assert root.status_code == 200 and root.headers["content-type"].startswith("text/html")
    for href in ('href="/app/signup"', 'href="/app/login"', 'href="/docs"'):
        assert href in root.text
    assert "Go to dashboard" not in root.text
    assert "default-src 'self'" in root.headers["content-security-policy"]  # the dashboard's edge serves it
    # The log-in page is still where it was, and the front page's links lead somewhere real.
    assert (await client.get("/app/login")).status_code == 200
    assert (await client.get("/docs")).status_code == 200
    # A workspace's short domain answers `/` itself (its root URL or a 404): never MASK's page.
    other = await client.get("/", headers={"host": "go.example.com"})
    assert other.status_code == 404 and "Create a free account" not in other.text


async def test_a_signed_in_person_gets_a_link_to_the_dashboard(app: MaskApp) -> None:
    person = await make_person(app, "ada@example.com")
    root = await person.http.get("/")
    assert root.status_code == 200 and 'href="/app">Go to dashboard' in root.text
    assert 'href="/app/signup"' not in root.text


class TestWithARootUrl:
    @pytest.fixture
    def settings_overrides(self) -> dict[str, Any]:
        return {"root_url": "https://brand.example/home"}

    async def test_the_root_redirects_to_the_operators_page_and_the_dashboard_stays(
        self, client: httpx.AsyncClient
    ) -> None:
        root = await client.get("/")
        assert root.status_code in (301, 302, 307, 308)
        assert root.headers["location"] == "https://brand.example/home"
        assert (await client.get("/app/login")).status_code == 200

"""`client.shared_dashboards` against a real `mask serve`: a page of a link's real clicks (through the redirect
and the click pipeline), its URL once, password, rotation, revocation, and typed errors."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from mask_sdk import ConflictError, NotFoundError, UnprocessableEntityError
from mask_sdk.models import SharedDashboard, SharedDashboardWithUrl

from tests.sdk.conftest import BROWSER, SdkServer, eventually

pytestmark = pytest.mark.slow


def clicks_on(url: str) -> int | None:
    page = httpx.get(url, timeout=30)
    found = re.search(r'data-total="clicks">([\d,]+)<', page.text)
    return int(found.group(1).replace(",", "")) if page.status_code == 200 and found else None


def test_a_shared_link_page_shows_its_real_human_clicks_and_the_url_is_shown_once(server: SdkServer) -> None:
    workspace, other = server.workspace(), server.workspace()
    with server.client(workspace.key) as client, server.client(other.key) as stranger:
        link = client.links.create(url="https://example.com/shared")
        quiet = client.links.create(url="https://example.com/quiet")
        for _ in range(3):
            server.click(link.short_url)
        server.click(quiet.short_url)
        httpx.get(link.short_url, headers={"User-Agent": "curl/8.5.0"}, timeout=30)  # a bot: left out

        shared = client.shared_dashboards.create(link_id=link.id, title="Spring", idempotency_key="sdk-share")
        assert isinstance(shared, SharedDashboardWithUrl) and shared.kind == "link" and shared.link_id == link.id
        eventually(lambda: clicks_on(shared.url) == 3, message="the page counts the link's three human clicks")
        with pytest.raises(ConflictError) as replay:
            client.shared_dashboards.create(link_id=link.id, title="Spring", idempotency_key="sdk-share")
        assert replay.value.code == "idempotency_secret_not_replayed"

        listed = list(client.shared_dashboards.list())
        assert [item.id for item in listed] == [shared.id] and isinstance(listed[0], SharedDashboard)
        assert "url" not in (listed[0].model_extra or {})  # never listed

        later = datetime.now(UTC) + timedelta(days=7)
        protected = client.shared_dashboards.update(shared.id, password="open sesame", expires_at=later)
        assert protected.password_protected and protected.expires_at is not None
        assert clicks_on(shared.url) is None  # the password form instead
        opened = client.shared_dashboards.update(shared.id, password=None)
        assert not opened.password_protected and clicks_on(shared.url) == 3

        rotated = client.shared_dashboards.rotate(shared.id)
        assert rotated.url != shared.url and httpx.get(shared.url, timeout=30).status_code == 404
        assert clicks_on(rotated.url) == 3

        with pytest.raises(NotFoundError):
            stranger.shared_dashboards.get(shared.id)
        with pytest.raises(NotFoundError) as theirs:
            stranger.shared_dashboards.create(link_id=link.id)
        assert theirs.value.param == "link_id"
        with pytest.raises(UnprocessableEntityError) as invalid:
            client.shared_dashboards.create(link_id=link.id, tag="spring")
        assert [error.param for error in invalid.value.errors] == ["tag"]

        client.shared_dashboards.revoke(shared.id)
        assert httpx.get(rotated.url, headers={"User-Agent": BROWSER}, timeout=30).status_code == 404
        with pytest.raises(NotFoundError):
            client.shared_dashboards.get(shared.id)

"""`AsyncMask` against a real `mask serve`: the same resources, awaited, lists as async iterators."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from mask_sdk import AsyncPager, NotFoundError, PermissionDeniedError
from mask_sdk.models import ClickCount, Link

from tests.sdk.conftest import SdkServer

pytestmark = pytest.mark.slow


class LosesFirstAnswer(httpx.AsyncHTTPTransport):
    """The first POST is carried out by MASK, but its answer is lost on the way back."""

    def __init__(self) -> None:
        super().__init__()
        self.requests: list[httpx.Request] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        response = await super().handle_async_request(request)
        await response.aread()
        if request.method == "POST" and len(self.requests) == 1:
            raise httpx.ReadError("connection reset by peer after the request was sent", request=request)
        return response


async def test_the_async_client_creates_lists_updates_and_deletes(server: SdkServer) -> None:
    async with server.async_client(server.workspace().key) as client:
        created = await asyncio.gather(
            *(client.links.create(url=f"https://example.com/{n}", tags=["async"]) for n in range(5))
        )
        pager = client.links.list(tag="async", limit=2)
        assert isinstance(pager, AsyncPager)
        listed = [link async for link in pager]
        assert sorted(link.id for link in listed) == sorted(link.id for link in created)
        assert [link.created_at for link in listed] == sorted((link.created_at for link in listed), reverse=True)
        assert [len(page.data) async for page in client.links.list(tag="async", limit=2).pages()] == [2, 2, 1]
        assert len([link async for link in client.links.list(tag="async", max_items=3)]) == 3

        first = created[0]
        assert await client.links.get(first.id) == first
        updated = await client.links.update(first.id, url="https://example.com/moved")
        assert isinstance(updated, Link) and updated.url == "https://example.com/moved"
        assert [(tag.name, tag.link_count) for tag in await client.tags.list()] == [("async", 5)]
        total = await client.analytics.clicks(tag="async", interval="all")
        assert isinstance(total, ClickCount) and total.clicks == 0

        await client.links.delete(first.id)
        with pytest.raises(NotFoundError):
            await client.links.get(first.id)
        assert client.last_rate_limit is not None and client.last_request_id is not None


async def test_the_async_client_retries_a_lost_answer_and_creates_once(server: SdkServer) -> None:
    transport = LosesFirstAnswer()
    async with (
        httpx.AsyncClient(transport=transport) as http,
        server.async_client(server.workspace().key, http_client=http) as client,
    ):
        link = await client.links.create(url="https://example.com/once", tags=["async-retried"])
        first, second = transport.requests
        assert first.headers["idempotency-key"] == second.headers["idempotency-key"]
        assert [found.id async for found in client.links.list(tag="async-retried")] == [link.id]


async def test_the_async_client_raises_the_apis_errors(server: SdkServer) -> None:
    workspace = server.workspace()
    read_only = server.cli("keys", "create", "--workspace", workspace.slug, "--scope", "domains:read")
    async with server.async_client(read_only) as client:
        assert [domain async for domain in client.domains.list()] == []
        with pytest.raises(PermissionDeniedError) as refused:
            await client.domains.create(domain="go.example.com")
    assert refused.value.required_scope == "domains:write"

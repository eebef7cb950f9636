"""Fixtures for the public side of bio pages: a browser-like client of the whole app, and helpers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from html.parser import HTMLParser
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from mask.app import MaskApp
from mask.db import session_scope
from mask.models.click import Click
from tests.conftest import Tenant

CHROME = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Mobile Safari/537.36"
)
BROWSER = {"User-Agent": CHROME, "Accept": "text/html"}
GOOGLEBOT = {"User-Agent": "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"}


@pytest.fixture
async def public(app: MaskApp) -> AsyncIterator[httpx.AsyncClient]:
    """A browser's view of the process: the whole app, as served, from a public address."""
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False, client=("198.51.100.7", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://localhost:8000", headers=BROWSER) as http:
        yield http


class _Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, dict[str, str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, {name: value or "" for name, value in attrs}))


def parse(html: str) -> list[tuple[str, dict[str, str]]]:
    """Every element of the document as a browser's tokenizer sees it: (tag, attributes)."""
    parser = _Elements()
    parser.feed(html)
    return parser.found


async def create_page(client: httpx.AsyncClient, tenant: Tenant, **fields: Any) -> dict[str, Any]:
    body = {
        "handle": "ada",
        "title": "Ada",
        "blocks": [
            {"type": "link", "title": "Notes", "url": "https://example.com/notes?x=1"},
            {"type": "header", "text": "More"},
            {"type": "text", "text": "Line one\nLine two"},
            {"type": "link", "title": "Hidden", "url": "https://example.com/hidden", "enabled": False},
            {"type": "social", "platform": "github", "url": "https://github.com/ada"},
            {"type": "social", "platform": "email", "url": "ada@example.com"},
        ],
    }
    body.update(fields)
    response = await client.post("/v1/bio-pages", json=body, headers=tenant.headers)
    assert response.status_code == 201, response.text
    page: dict[str, Any] = response.json()
    return page


async def flush_clicks(app: MaskApp) -> None:
    assert await app.services.clicks.tracker.flush()


async def stored_clicks(app: MaskApp) -> list[Click]:
    async with session_scope(app.context.sessionmaker) as session:
        return list((await session.execute(select(Click).order_by(Click.id))).scalars())

"""Importing from a Shlink server through its REST API v3 (a loopback stand-in built from api-spec.shlink.io):
`X-Api-Key`, page/itemsPerPage pagination, problem details on a wrong key, and the SSRF guard on the address."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.conftest import Tenant
from tests.imports.helpers import all_links, finished

API_KEY = "shlink-key-1"
SHORT_URLS = [
    {
        "shortCode": f"sh{n:03d}",
        "shortUrl": f"https://s.test/sh{n:03d}",
        "longUrl": f"https://example.com/shlink/{n}",
        "dateCreated": "2023-05-01T10:00:00+02:00",
        "tags": ["shlink"] if n % 2 else [],
        "title": f"Shlink {n}" if n % 3 else None,
        "domain": None,
        "meta": {"validSince": None, "validUntil": None, "maxVisits": None},
        "visitsSummary": {"total": n, "nonBots": n, "bots": 0},
        "crawlable": False,
        "forwardQuery": True,
    }
    for n in range(130)
]


class Handler(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _answer(self, status: int, body: dict[str, Any], kind: str = "application/json") -> None:
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        if self.headers.get("X-Api-Key") != API_KEY:
            problem = {
                "type": "https://shlink.io/api/error/invalid-api-key",
                "title": "Invalid API key",
                "detail": "Provided API key does not exist or is invalid.",
                "status": 401,
            }
            self._answer(401, problem, "application/problem+json")
            return
        if parts.path != "/rest/v3/short-urls":
            self._answer(404, {"type": "not-found", "title": "Not found", "detail": "", "status": 404})
            return
        query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
        page, per_page = int(query.get("page", "1")), int(query.get("itemsPerPage", "10"))
        data = SHORT_URLS[(page - 1) * per_page : page * per_page]
        pages = -(-len(SHORT_URLS) // per_page)
        pagination = {
            "currentPage": page,
            "pagesCount": pages,
            "itemsPerPage": per_page,
            "itemsInCurrentPage": len(data),
            "totalItems": len(SHORT_URLS),
        }
        self._answer(200, {"shortUrls": {"data": data, "pagination": pagination}})


@pytest.fixture(scope="module")
def shlink_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def settings_overrides(request: pytest.FixtureRequest) -> dict[str, Any]:
    if "unguarded" in request.node.name:
        return {}
    return {"import_allowed_networks": ["127.0.0.0/8"]}


async def start(client: httpx.AsyncClient, tenant: Tenant, url: str, key: str) -> dict[str, Any]:
    response = await client.post(
        "/v1/imports", json={"source": "shlink", "server_url": url, "token": key}, headers=tenant.headers
    )
    assert response.status_code == 202, response.text
    return await finished(client, tenant, response.json()["id"])


async def test_every_page_of_a_shlink_server_is_imported(
    client: httpx.AsyncClient, tenant: Tenant, shlink_url: str
) -> None:
    job = await start(client, tenant, shlink_url, API_KEY)
    assert job["status"] == "completed", job
    assert job["counts"]["created"] == 130 and job["progress"] == {"done": 130, "total": 130}
    links = {link["slug"]: link for link in await all_links(client, tenant)}
    assert links["sh001"]["tags"] == ["shlink"] and links["sh001"]["title"] == "Shlink 1"
    assert links["sh001"]["created_at"] == "2023-05-01T08:00:00Z" and links["sh129"]["url"].endswith("/129")


async def test_a_wrong_api_key_fails_the_job_with_shlinks_reason(
    client: httpx.AsyncClient, tenant: Tenant, shlink_url: str
) -> None:
    job = await start(client, tenant, shlink_url, "wrong")
    assert job["status"] == "failed" and "401" in job["error"] and "API key" in job["error"]


async def test_a_private_address_is_refused_unguarded(
    client: httpx.AsyncClient, tenant: Tenant, shlink_url: str
) -> None:
    job = await start(client, tenant, shlink_url, API_KEY)
    assert job["status"] == "failed" and "may not reach" in job["error"]
    assert await all_links(client, tenant) == []


async def test_the_server_address_is_checked_at_once(client: httpx.AsyncClient, tenant: Tenant) -> None:
    response = await client.post(
        "/v1/imports", json={"source": "shlink", "server_url": "ftp://x", "token": "k"}, headers=tenant.headers
    )
    assert response.status_code == 422 and response.json()["error"]["errors"][0]["param"] == "server_url"

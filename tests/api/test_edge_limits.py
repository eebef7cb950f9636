"""The API survives huge, slow and concurrent requests (issue 17, denial of service): real `mask serve` processes
spoken to over raw sockets, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import socket
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import create_async_engine
from starlette.types import Receive, Scope, Send

from mask.api.edge import ApiEdgeMiddleware
from mask.app import MaskApp
from mask.config import Settings
from tests.conftest import Tenant
from tests.rate_limit.conftest import Server, mask_env
from tests.rawhttp import assert_error_shape, connect, head, read_response, send_quietly
from tests.waiting import eventually

StartServer = Callable[..., Server]


@pytest.fixture
def serve(database_url: str, tmp_path: Path) -> Iterator[StartServer]:
    """Start `mask serve` on this test's database with some settings (MASK_<NAME>=value)."""
    started: list[Server] = []

    def start(**settings: str) -> Server:
        server = Server(mask_env(database_url, **settings), tmp_path / f"serve{len(started)}.log")
        started.append(server)
        server.wait_ready()
        return server

    yield start
    for server in started:
        server.stop()


def chunk(data: bytes) -> bytes:
    return f"{len(data):x}\r\n".encode() + data + b"\r\n"


def slow_body_client(server: Server, tenant: Tenant) -> socket.socket:
    """A POST that announces 1,000 bytes and sends one: it waits in the body."""
    sock = connect(server.port)
    headers = {"Content-Type": "application/json", "Content-Length": "1000", **tenant.headers}
    sock.sendall(head("POST", "/v1/links", headers) + b"{")
    return sock


@pytest.mark.slow
async def test_a_body_is_refused_before_it_is_read_without_a_valid_key_and_as_soon_as_it_passes_1_mb(
    serve: StartServer, tenant: Tenant
) -> None:
    server = serve(rate_limit_enabled="false")  # the edge's own key lookup (the limiter's is tested below)
    chunked = {"Content-Type": "application/json", "Transfer-Encoding": "chunked"}

    # Without a key, with a key nobody has: 401 while the body is still coming (it never ends).
    for headers, code in [
        ({}, "missing_api_key"),
        ({"Authorization": "Bearer mk_live_" + "x" * 43}, "invalid_api_key"),
    ]:
        with connect(server.port) as sock:
            sock.sendall(head("POST", "/v1/links", {**chunked, **headers}) + chunk(b"a" * 1000))
            response = read_response(sock)
            assert_error_shape(response, 401, code)
            assert response.headers["connection"] == "close"

    # A valid key: chunks of 64 KB that never end; 413 once 1 MB is passed, not when the client is done.
    with connect(server.port) as sock:
        sock.sendall(head("POST", "/v1/links", {**chunked, **tenant.headers}))
        for _ in range(40):  # 2.5 MB at most; the server stops reading after its answer
            if not send_quietly(sock, chunk(b"a" * 65536)):
                break
        assert_error_shape(read_response(sock), 413, "payload_too_large")

    # Declared too large: 413 without reading anything.
    with connect(server.port) as sock:
        sock.sendall(head("POST", "/v1/links", {"Content-Length": "2000000", **tenant.headers}))
        assert_error_shape(read_response(sock), 413, "payload_too_large")

    # A chunked body within the limit is served as ever.
    body = json.dumps({"url": "https://example.com/chunked"}).encode()
    with connect(server.port) as sock:
        sock.sendall(head("POST", "/v1/links", {**chunked, **tenant.headers}) + chunk(body[:10]) + chunk(body[10:]))
        sock.sendall(b"0\r\n\r\n")
        response = read_response(sock)
        assert response.status == 201, response.body
        assert response.json()["url"] == "https://example.com/chunked"


@pytest.mark.slow
async def test_a_request_head_over_64_kb_is_431_and_a_malformed_request_400_in_the_error_shape(
    serve: StartServer,
) -> None:
    server = serve()
    with connect(server.port) as sock:  # in one piece
        sock.sendall(head("GET", "/health", {"X-Big": "a" * 70_000}))
        assert_error_shape(read_response(sock), 431, "headers_too_large")
    with connect(server.port) as sock:  # trickled, one header that never ends
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: localhost:8000\r\nX-Big: ")
        for _ in range(100):
            if not send_quietly(sock, b"a" * 1024):
                break
        assert_error_shape(read_response(sock), 431, "headers_too_large")
    with connect(server.port) as sock:  # a long request line
        sock.sendall(f"GET /{'a' * 70_000} HTTP/1.1\r\nHost: localhost:8000\r\n\r\n".encode())
        assert_error_shape(read_response(sock), 431, "headers_too_large")
    with connect(server.port) as sock:
        sock.sendall(b"GARBAGE\r\n\r\n")
        assert_error_shape(read_response(sock), 400, "malformed_request")
    with connect(server.port) as sock:  # under the cap: served
        sock.sendall(head("GET", "/health", {"X-Big": "a" * 15_000}))
        assert read_response(sock).status == 200


@pytest.mark.slow
async def test_slow_bodies_hold_no_database_connection_and_end_with_408(serve: StartServer, tenant: Tenant) -> None:
    # The rate limiter on (it looks the key up first): 24 clients that stop in their bodies, more than the pool
    # has connections (SQLite 5 + 10, PostgreSQL 10 + 10).
    server = serve(body_read_timeout="30")
    slow = [slow_body_client(server, tenant) for _ in range(24)]
    try:
        async with httpx.AsyncClient(base_url=server.url, timeout=120) as http:
            health = await http.get("/health")
            assert health.status_code == 200, health.text
            tags = await http.get("/v1/tags", headers=tenant.headers)
            assert tags.status_code == 200, tags.text
        for sock in slow:
            assert_error_shape(await asyncio.to_thread(read_response, sock, 120), 408, "request_timeout")
    finally:
        for sock in slow:
            sock.close()


@pytest.mark.slow
async def test_a_worker_over_its_request_cap_answers_503_with_retry_after(serve: StartServer, tenant: Tenant) -> None:
    server = serve(max_concurrent_requests="4", body_read_timeout="120")
    slow = [slow_body_client(server, tenant) for _ in range(4)]
    try:
        answers: list[httpx.Response] = []

        async def refused() -> bool:
            async with httpx.AsyncClient(base_url=server.url, timeout=60) as http:
                answers.append(await http.get("/health"))
            return answers[-1].status_code == 503

        await eventually(refused, message="a fifth request refused")
        busy = answers[-1]
        assert busy.headers["retry-after"] == "1"
        assert busy.json()["error"]["code"] == "over_capacity"
        assert busy.json()["error"]["request_id"] == busy.headers["x-request-id"]
    finally:
        for sock in slow:
            sock.close()

    async def served() -> bool:
        async with httpx.AsyncClient(base_url=server.url, timeout=60) as http:
            return (await http.get("/health")).status_code == 200

    await eventually(served, message="requests served again once the slow ones are gone")


@pytest.mark.slow
async def test_concurrent_idempotent_posts_never_wait_for_a_second_connection(
    serve: StartServer, tenant: Tenant
) -> None:
    server = serve()  # the rate limiter on: its lookup and the idempotency claim never hold two connections
    limits = httpx.Limits(max_connections=100, max_keepalive_connections=100)
    async with httpx.AsyncClient(base_url=server.url, timeout=120, limits=limits) as http:

        async def create(i: int) -> httpx.Response:
            headers = {**tenant.headers, "Idempotency-Key": f"burst-{i}"}
            return await http.post("/v1/links", json={"url": f"https://example.com/{i}"}, headers=headers)

        responses = await asyncio.gather(*(create(i) for i in range(40)))
        assert [response.status_code for response in responses] == [201] * 40, [r.text for r in responses]
        again = await create(7)
        assert again.status_code == 201 and again.headers["idempotent-replayed"] == "true"
        assert again.json()["id"] == responses[7].json()["id"]


async def test_a_key_lookup_without_a_free_connection_answers_503_not_anonymous_429(
    app: MaskApp, tenant: Tenant, settings: Settings
) -> None:
    # The app's limiter on, its database behind a pool of one connection that this test holds.
    from mask.rate_limit.limiter import Limiter
    from mask.rate_limit.middleware import RateLimitGuard

    assert isinstance(app.api, ApiEdgeMiddleware)
    limiter = Limiter(settings)
    app.api.guard = RateLimitGuard(app.context, limiter)
    engine = create_async_engine(settings.database_url, pool_size=1, max_overflow=0, pool_timeout=0.5)
    app.context.sessionmaker.configure(bind=engine)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost:8000") as http:
            async with engine.connect():
                for _ in range(3):  # more than once: the key must not be counted as anonymous meanwhile
                    response = await http.get("/v1/tags", headers=tenant.headers)
                    assert response.status_code == 503, response.text
                    assert response.headers["retry-after"] == "2"
                    assert response.json()["error"]["code"] == "service_unavailable"
                    body = json.dumps({"url": "https://example.com/x"})
                    headers = {**tenant.headers, "Idempotency-Key": "k", "Content-Type": "application/json"}
                    posted = await http.post("/v1/links", content=body, headers=headers)
                    assert posted.status_code == 503, posted.text
            response = await http.get("/v1/tags", headers=tenant.headers)  # the connection is free again
            assert response.status_code == 200, response.text
    finally:
        await engine.dispose()
        await limiter.close()


async def test_an_error_escaping_the_api_still_answers_in_the_error_shape(settings: Settings) -> None:
    async def broken(scope: Scope, receive: Receive, send: Send) -> None:
        raise RuntimeError("boom")

    transport = httpx.ASGITransport(app=ApiEdgeMiddleware(broken, settings), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://localhost:8000") as http:
        response = await http.get("/v1/tags")
    assert response.status_code == 500
    assert response.json()["error"]["code"] == "internal_error"
    assert response.json()["error"]["request_id"] == response.headers["x-request-id"]


@pytest.mark.slow
async def test_the_dashboards_forms_get_the_same_body_limits(serve: StartServer) -> None:
    server = serve(body_read_timeout="3")
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    with connect(server.port) as sock:  # chunked, never ending: 413 once 1 MB is passed
        sock.sendall(head("POST", "/app/login", {**form, "Transfer-Encoding": "chunked"}))
        for _ in range(40):
            if not send_quietly(sock, chunk(b"a" * 65536)):
                break
        assert_error_shape(read_response(sock), 413, "payload_too_large")
    with connect(server.port) as sock:  # one byte of 1,000: 408, and no session waited meanwhile
        sock.sendall(head("POST", "/app/login", {**form, "Content-Length": "1000"}) + b"e")
        assert_error_shape(read_response(sock), 408, "request_timeout")
    async with httpx.AsyncClient(base_url=server.url, timeout=60) as http:  # an ordinary form is served
        page = await http.post("/app/login", data={"email": "nobody@example.com", "password": "x"})
        assert page.status_code < 500 and "text/html" in page.headers["content-type"]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # SQLite's write lock; PostgreSQL has row locks
async def test_a_write_that_waits_out_sqlites_lock_answers_503_with_retry_after(
    client: httpx.AsyncClient, tenant: Tenant, settings: Settings
) -> None:
    assert settings.is_sqlite
    holder = sqlite3.connect(settings.database_url.split("///", 1)[1], timeout=1)
    holder.execute("BEGIN IMMEDIATE")  # another process writing for longer than the busy timeout (10 s)
    try:
        response = await client.post("/v1/links", json={"url": "https://example.com/locked"}, headers=tenant.headers)
    finally:
        holder.rollback()
        holder.close()
    assert response.status_code == 503, response.text
    assert response.headers["retry-after"] == "2"
    assert response.json()["error"]["code"] == "service_unavailable"
    assert (await client.post("/v1/links", json={"url": "https://example.com/x"}, headers=tenant.headers)).is_success

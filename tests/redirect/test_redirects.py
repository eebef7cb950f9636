"""Redirect behaviour through the whole app (routing included), on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import event, text, update

from mask.app import MaskApp
from mask.db import session_scope
from mask.models.link import Link
from tests.conftest import Tenant
from tests.redirect.helpers import BROWSER, add_domain, create_link, stored_clicks

CUSTOM = "go.brand.test"


async def test_short_link_redirects_with_302_no_store_on_default_and_custom_domain(
    client: httpx.AsyncClient, tenant: Tenant, app: MaskApp
) -> None:
    await add_domain(client, app, tenant, CUSTOM)
    await create_link(client, tenant, slug="spring", url="https://example.com/a")
    await create_link(client, tenant, slug="spring", url="https://example.org/b", domain=CUSTOM)

    default = await client.get("/spring")
    custom = await client.get("/spring", headers={"Host": CUSTOM})
    custom_with_port = await client.get("/spring/", headers={"Host": f"{CUSTOM.upper()}:8080"})

    assert (default.status_code, default.headers["location"]) == (302, "https://example.com/a")
    assert (custom.status_code, custom.headers["location"]) == (302, "https://example.org/b")
    assert custom_with_port.headers["location"] == "https://example.org/b"
    assert "no-store" in default.headers["cache-control"]
    assert len(await stored_clicks(app)) == 3


async def test_utm_fields_apply_and_short_url_query_passes_through_and_wins(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    await create_link(
        client,
        tenant,
        slug="promo",
        url="https://example.com/p?utm_source=old&x=1#top",
        utm_source="twitter",
        utm_medium="social",
    )

    plain = await client.get("/promo")
    with_query = await client.get("/promo?utm_source=newsletter&ref=abc&x=2")

    assert plain.headers["location"] == "https://example.com/p?x=1&utm_source=twitter&utm_medium=social#top"
    assert with_query.headers["location"] == (
        "https://example.com/p?utm_medium=social&utm_source=newsletter&ref=abc&x=2#top"
    )


async def test_query_string_cannot_inject_headers_into_location(client: httpx.AsyncClient, tenant: Tenant) -> None:
    await create_link(client, tenant, slug="safe", url="https://example.com/")
    response = await client.get("/safe", params={"q": "a b\r\nSet-Cookie: x=1"})
    assert response.headers["location"] == "https://example.com/?q=a+b%0D%0ASet-Cookie%3A+x%3D1"
    assert "set-cookie" not in response.headers


async def test_head_answers_like_get_but_is_not_counted(
    client: httpx.AsyncClient, tenant: Tenant, app: MaskApp
) -> None:
    await create_link(client, tenant, slug="peek")
    head = await client.head("/peek")
    assert (head.status_code, head.headers["location"]) == (302, "https://example.com/page")
    assert await stored_clicks(app) == []


async def test_prefetch_is_answered_but_not_counted(client: httpx.AsyncClient, tenant: Tenant, app: MaskApp) -> None:
    link = await create_link(client, tenant, slug="pre")
    response = await client.get("/pre", headers={"Sec-Purpose": "prefetch"})
    assert response.status_code == 302
    # Stored as what it was (issue 26), never counted.
    assert [(c.traffic_type, c.is_bot) for c in await stored_clicks(app)] == [("prefetch", True)]
    assert (await client.get(f"/v1/links/{link['id']}", headers=tenant.headers)).json()["clicks"] == 0


async def test_unknown_slug_is_a_404_page_or_json_for_json_clients(client: httpx.AsyncClient) -> None:
    page = await client.get("/nope", headers={"Accept": "text/html,application/xhtml+xml,*/*"})
    api_client = await client.get("/nope", headers={"Accept": "application/json"})
    invalid = await client.get("/not/a/slug")

    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
    assert "Link not found" in page.text
    assert api_client.status_code == 404
    assert api_client.json()["error"]["code"] == "link_not_found"
    assert invalid.status_code == 404


async def test_other_methods_are_405(client: httpx.AsyncClient, tenant: Tenant) -> None:
    await create_link(client, tenant, slug="post")
    response = await client.post("/post")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, HEAD"


async def _expire(app: MaskApp, slug: str) -> None:
    """Links cannot be created already expired; move the expiry into the past behind the API's back."""
    async with session_scope(app.context.sessionmaker) as session:
        await session.execute(
            update(Link).where(Link.slug == slug).values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )


async def test_expired_link_is_410_or_redirects_to_its_expired_url(
    client: httpx.AsyncClient, tenant: Tenant, app: MaskApp
) -> None:
    soon = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    await create_link(client, tenant, slug="gone", expires_at=soon)
    await create_link(client, tenant, slug="moved", expires_at=soon, expired_url="https://example.com/over")
    await _expire(app, "gone")
    await _expire(app, "moved")

    gone = await client.get("/gone")
    moved = await client.get("/moved")

    assert gone.status_code == 410 and "expired" in gone.text
    assert (moved.status_code, moved.headers["location"]) == (302, "https://example.com/over")
    # Neither is a click: both hits are stored as orphans of their links (mask.click.schemas.ORPHAN_TYPES).
    assert [(c.orphan_type, c.path) for c in await stored_clicks(app)] == [
        ("expired_link", "/gone"),
        ("expired_link", "/moved"),
    ]


async def test_link_expiring_while_cached_stops_redirecting_on_time(
    client: httpx.AsyncClient, tenant: Tenant, app: MaskApp
) -> None:
    expiry = datetime.now(UTC) + timedelta(seconds=2)
    await create_link(client, tenant, slug="brief", expires_at=expiry.isoformat())
    assert (await client.get("/brief")).status_code == 302  # cached now
    await asyncio.sleep(max(0.0, (expiry - datetime.now(UTC)).total_seconds()) + 0.05)
    assert (await client.get("/brief")).status_code == 410


async def test_changed_and_deleted_links_take_effect_at_once(client: httpx.AsyncClient, tenant: Tenant) -> None:
    link = await create_link(client, tenant, slug="old", url="https://example.com/1")
    assert (await client.get("/old")).headers["location"] == "https://example.com/1"  # now cached

    patched = await client.patch(
        f"/v1/links/{link['id']}", json={"url": "https://example.com/2"}, headers=tenant.headers
    )
    assert patched.status_code == 200
    assert (await client.get("/old")).headers["location"] == "https://example.com/2"

    await client.patch(f"/v1/links/{link['id']}", json={"slug": "new"}, headers=tenant.headers)
    assert (await client.get("/old")).status_code == 404
    assert (await client.get("/new")).headers["location"] == "https://example.com/2"

    assert (await client.delete(f"/v1/links/{link['id']}", headers=tenant.headers)).status_code == 204
    assert (await client.get("/new")).status_code == 404


async def test_new_link_replaces_a_cached_not_found(client: httpx.AsyncClient, tenant: Tenant) -> None:
    assert (await client.get("/later")).status_code == 404  # cached as unknown
    await create_link(client, tenant, slug="later")
    assert (await client.get("/later")).status_code == 302


async def test_failed_change_does_not_invalidate_or_leak(client: httpx.AsyncClient, tenant: Tenant) -> None:
    await create_link(client, tenant, slug="taken")
    link = await create_link(client, tenant, slug="mine", url="https://example.com/mine")
    conflict = await client.patch(f"/v1/links/{link['id']}", json={"slug": "taken"}, headers=tenant.headers)
    assert conflict.status_code == 409
    assert (await client.get("/mine")).headers["location"] == "https://example.com/mine"


async def test_cache_serves_repeat_lookups_and_unknown_slugs_without_queries(
    client: httpx.AsyncClient, tenant: Tenant, app: MaskApp
) -> None:
    await create_link(client, tenant, slug="hot")
    statements: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        statements.append(statement)

    event.listen(app.redirect.resolver.engine.sync_engine, "before_cursor_execute", count)
    try:
        for _ in range(5):
            assert (await client.get("/hot", headers={"User-Agent": BROWSER})).status_code == 302
            assert (await client.get("/guess")).status_code == 404
    finally:
        event.remove(app.redirect.resolver.engine.sync_engine, "before_cursor_execute", count)
    lookups = [s for s in statements if "FROM links" in s]
    assert len(lookups) == 2  # one per key; the other eight answers came from the cache


@pytest.mark.parametrize(
    ("host", "path", "reaches_api"),
    [
        ("localhost:8000", "/v1/links", True),
        ("localhost:8000", "/health", True),
        ("localhost:8000", "/docs", True),
        ("127.0.0.1:8000", "/health", True),
        ("localhost:8000", "/docsx", False),
        ("localhost:8000", "/v1", False),
        ("localhost:8000", "/some-slug", False),
        (CUSTOM, "/v1/links", False),
        (CUSTOM, "/health", False),
        (CUSTOM, "/docs", False),
    ],
)
async def test_routing_by_host_and_path(app: MaskApp, host: str, path: str, reaches_api: bool) -> None:
    scope = {"type": "http", "path": path, "headers": [(b"host", host.encode())]}
    assert (app.route(scope) is app.api) is reaches_api


async def test_concurrent_misses_share_queries(client: httpx.AsyncClient, tenant: Tenant, app: MaskApp) -> None:
    slugs = [f"cold{i}" for i in range(30)]
    for slug in slugs:
        await create_link(client, tenant, slug=slug, url=f"https://example.com/{slug}")
    app.redirect.resolver.cache.clear()
    statements: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        statements.append(statement)

    event.listen(app.redirect.resolver.engine.sync_engine, "before_cursor_execute", count)
    try:
        responses = await asyncio.gather(*(client.get(f"/{slug}") for slug in slugs * 2))
    finally:
        event.remove(app.redirect.resolver.engine.sync_engine, "before_cursor_execute", count)
    assert [r.headers["location"] for r in responses] == [f"https://example.com/{s}" for s in slugs * 2]
    assert 1 <= len([s for s in statements if "FROM links" in s]) < len(slugs) / 2


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_a_lookup_survives_its_pooled_connection_dying(
    client: httpx.AsyncClient, tenant: Tenant, app: MaskApp
) -> None:
    """The resolver's engine pings nothing before a checkout (a round trip per lookup): a connection the
    server dropped meanwhile (restart, idle timeout) costs one retry, not a failed redirect."""
    await create_link(client, tenant, slug="first")
    await create_link(client, tenant, slug="second")
    assert (await client.get("/first")).status_code == 302  # the resolver's pool now holds a connection
    async with app.context.engine.connect() as connection:
        killed = await connection.scalar(
            text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        )
    assert killed
    response = await client.get("/second")
    assert response.status_code == 302
    assert response.headers["location"].startswith("https://")

"""Page titles: fetched in the background from a real server on loopback, in every charset a page may declare,
never slowing creation down, and never reaching an address the SSRF guard refuses."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from mask.app import MaskApp
from mask.db import session_scope
from mask.link.titles import MAX_BYTES, decode_page, title_of
from mask.models.link import LinkTitleFetch
from tests.conftest import Tenant
from tests.link.pages import PageServer, Route
from tests.waiting import eventually


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    # The pages are served on 127.0.0.2, an exception made for these tests; every other non-public address
    # (127.0.0.1 included) stays refused, as in production.
    return {"title_fetch_enabled": True, "title_fetch_allowed_networks": ["127.0.0.2/32"]}


@pytest.fixture
async def pages() -> AsyncIterator[PageServer]:
    server = await PageServer().start()
    yield server
    await server.stop()


def html(title: bytes, head: bytes = b"") -> bytes:
    return b"<!doctype html><html><head>" + head + b"<title>" + title + b"</title></head><body>hi</body></html>"


async def create(client: httpx.AsyncClient, tenant: Tenant, url: str, **fields: Any) -> dict[str, Any]:
    response = await client.post("/v1/links", json={"url": url, **fields}, headers=tenant.headers)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def link_of(client: httpx.AsyncClient, tenant: Tenant, link_id: str) -> dict[str, Any]:
    body: dict[str, Any] = (await client.get(f"/v1/links/{link_id}", headers=tenant.headers)).json()
    return body


async def queued(app: MaskApp, link_id: str) -> LinkTitleFetch | None:
    async with session_scope(app.context.sessionmaker) as session:
        return await session.scalar(select(LinkTitleFetch).where(LinkTitleFetch.link_id == link_id))


async def fetched_title(client: httpx.AsyncClient, tenant: Tenant, app: MaskApp, link_id: str) -> dict[str, Any]:
    """The link once its title fetch is over (stored or given up)."""

    async def done() -> bool:
        return await queued(app, link_id) is None

    await eventually(done, message="the title fetch")
    return await link_of(client, tenant, link_id)


CHARSET_CASES = [
    pytest.param(
        {"content-type": "text/html"},
        html("Café &amp; crème — 日本 &#8211; &eacute;t&eacute;".encode(), b'<meta charset="utf-8">'),
        "Café & crème — 日本 – été",
        id="utf-8-meta-and-entities",
    ),
    pytest.param(
        {"content-type": "text/html"},
        html("Grüße aus Köln ✓".encode()),
        "Grüße aus Köln ✓",
        id="utf-8-undeclared",
    ),
    pytest.param(
        {"content-type": "text/html; charset=ISO-8859-1"},
        html("Café crème à Noël".encode("latin-1"), b'<meta charset="utf-8">'),  # the header wins
        "Café crème à Noël",
        id="latin-1-via-header",
    ),
    pytest.param(
        {"content-type": "text/html"},
        html("日本語のページ「テスト」".encode("shift_jis"), b'<meta charset="Shift_JIS">'),
        "日本語のページ「テスト」",
        id="shift-jis-via-meta",
    ),
    pytest.param(
        {"content-type": "text/html"},
        html(
            "Привет, мир".encode("windows-1251"),
            b'<meta http-equiv="Content-Type" content="text/html; charset=windows-1251">',
        ),
        "Привет, мир",
        id="windows-1251-via-http-equiv",
    ),
    pytest.param(
        {"content-type": "text/html"},
        html("한국어 제목".encode("euc-kr"), b"<meta charset=euc-kr>"),
        "한국어 제목",
        id="euc-kr-unquoted-meta",
    ),
    pytest.param(
        {"content-type": "text/html"},
        b"\xef\xbb\xbf" + html("BOM first: ünïcode".encode(), b'<meta charset="windows-1252">'),
        "BOM first: ünïcode",
        id="utf-8-bom-beats-meta",
    ),
    pytest.param(
        {"content-type": "text/html"},
        html("caf\xe9 without a declaration".encode("cp1252")),
        "café without a declaration",
        id="not-utf-8-read-as-windows-1252",
    ),
    pytest.param(
        {"content-type": "text/html; charset=utf-8"},
        b"<html><head><title>\n   Spread\n\tover   lines  </title></head>",
        "Spread over lines",
        id="whitespace-collapsed",
    ),
]


@pytest.mark.parametrize(("headers", "body", "expected"), CHARSET_CASES)
async def test_the_page_title_is_fetched_in_its_charset(
    client: httpx.AsyncClient,
    tenant: Tenant,
    app: MaskApp,
    pages: PageServer,
    headers: dict[str, str],
    body: bytes,
    expected: str,
) -> None:
    pages.routes["/page"] = Route(headers=headers, body=body)
    link = await create(client, tenant, pages.url("/page"))
    assert link["title"] is None and link["title_source"] is None
    done = await fetched_title(client, tenant, app, link["id"])
    assert (done["title"], done["title_source"]) == (expected, "page")


async def test_creating_a_link_never_waits_for_its_page(
    client: httpx.AsyncClient, tenant: Tenant, app: MaskApp, pages: PageServer
) -> None:
    gate = asyncio.Event()
    pages.routes["/slow"] = Route(body=html(b"Worth the wait"), gate=gate)
    link = await create(client, tenant, pages.url("/slow"))  # answered while the page is held back
    assert link["title"] is None
    await eventually(lambda: "/slow" in pages.requests, message="the fetch reaching the page")
    assert (await link_of(client, tenant, link["id"]))["title"] is None
    gate.set()
    done = await fetched_title(client, tenant, app, link["id"])
    assert done["title"] == "Worth the wait"


async def test_a_page_slower_than_three_seconds_is_given_up_for_now_and_retried_later(
    client: httpx.AsyncClient, tenant: Tenant, app: MaskApp, pages: PageServer
) -> None:
    pages.routes["/never"] = Route(body=html(b"Too late"), gate=asyncio.Event())  # never opened
    link = await create(client, tenant, pages.url("/never"))

    async def timed_out() -> bool:
        row = await queued(app, link["id"])
        return row is not None and row.last_error is not None

    await eventually(timed_out, message="the fetch timing out")
    row = await queued(app, link["id"])
    assert row is not None and row.attempts == 1 and row.last_error == "timed out after 3 s"
    assert (await link_of(client, tenant, link["id"]))["title"] is None


async def test_an_endless_page_is_read_no_further_than_one_megabyte(
    client: httpx.AsyncClient, tenant: Tenant, app: MaskApp, pages: PageServer
) -> None:
    pages.routes["/endless"] = Route(
        body=b"<html><head><!-- no title, ever -->", endless=b"<!--" + b"x" * 65_000 + b"-->"
    )
    link = await create(client, tenant, pages.url("/endless"))
    done = await fetched_title(client, tenant, app, link["id"])
    assert done["title"] is None
    await eventually(lambda: "/endless" in pages.streamed, message="the server noticing the client left")
    # What the server managed to write before the fetcher hung up: the megabyte, plus what socket buffers held.
    assert MAX_BYTES <= pages.streamed["/endless"] < 16 * MAX_BYTES


async def test_a_redirect_to_a_private_address_is_refused(
    client: httpx.AsyncClient, tenant: Tenant, app: MaskApp, pages: PageServer
) -> None:
    inside = await PageServer(host="127.0.0.1").start()  # loopback: not in the allowed networks
    try:
        inside.routes["/admin"] = Route(body=html(b"Internal admin"))
        pages.routes["/go"] = Route(status=302, headers={"location": inside.url("/admin")})
        link = await create(client, tenant, pages.url("/go"))
        done = await fetched_title(client, tenant, app, link["id"])
        assert done["title"] is None
        assert pages.requests == ["/go"] and inside.requests == []
    finally:
        await inside.stop()


async def test_redirects_between_allowed_pages_are_followed(
    client: httpx.AsyncClient, tenant: Tenant, app: MaskApp, pages: PageServer
) -> None:
    pages.routes["/old"] = Route(status=301, headers={"location": "/new"})
    pages.routes["/new"] = Route(body=html(b"Moved here"))
    link = await create(client, tenant, pages.url("/old"))
    assert (await fetched_title(client, tenant, app, link["id"]))["title"] == "Moved here"


async def test_only_a_fetched_title_follows_a_url_change(
    client: httpx.AsyncClient, tenant: Tenant, app: MaskApp, pages: PageServer
) -> None:
    pages.routes["/a"] = Route(body=html(b"Page A"))
    pages.routes["/b"] = Route(body=html(b"Page B"))
    fetched = await create(client, tenant, pages.url("/a"))
    assert (await fetched_title(client, tenant, app, fetched["id"]))["title"] == "Page A"
    mine = await create(client, tenant, pages.url("/a"), title="My own title")
    assert (mine["title"], mine["title_source"]) == ("My own title", "user")
    assert await queued(app, mine["id"]) is None  # nothing to fetch
    for link in (fetched, mine):
        moved = await client.patch(f"/v1/links/{link['id']}", json={"url": pages.url("/b")}, headers=tenant.headers)
        assert moved.status_code == 200, moved.text
    assert (await fetched_title(client, tenant, app, fetched["id"]))["title"] == "Page B"
    assert (await link_of(client, tenant, mine["id"]))["title"] == "My own title"
    # `title: null` hands the title back to the page.
    cleared = await client.patch(f"/v1/links/{mine['id']}", json={"title": None}, headers=tenant.headers)
    assert cleared.json()["title"] is None
    done = await fetched_title(client, tenant, app, mine["id"])
    assert (done["title"], done["title_source"]) == ("Page B", "page")


async def test_a_title_given_while_the_fetch_runs_is_kept(
    client: httpx.AsyncClient, tenant: Tenant, app: MaskApp, pages: PageServer
) -> None:
    gate = asyncio.Event()
    pages.routes["/held"] = Route(body=html(b"From the page"), gate=gate)
    link = await create(client, tenant, pages.url("/held"))
    await eventually(lambda: "/held" in pages.requests, message="the fetch reaching the page")
    named = await client.patch(f"/v1/links/{link['id']}", json={"title": "Named meanwhile"}, headers=tenant.headers)
    assert named.status_code == 200
    gate.set()
    assert app.services.titles is not None
    fetched_before = app.services.titles.fetched
    await eventually(
        lambda: app.services.titles is not None and app.services.titles.fetched > fetched_before,
        message="the held fetch finishing",
    )
    assert (await link_of(client, tenant, link["id"]))["title"] == "Named meanwhile"


@pytest.mark.parametrize(("media_type", "status"), [("application/pdf", 200), ("text/html", 404), ("image/png", 200)])
async def test_no_title_from_a_missing_page_or_one_that_is_not_html(
    client: httpx.AsyncClient, tenant: Tenant, app: MaskApp, pages: PageServer, media_type: str, status: int
) -> None:
    pages.routes["/x"] = Route(status=status, headers={"content-type": media_type}, body=html(b"Nope"))
    link = await create(client, tenant, pages.url("/x"))
    assert (await fetched_title(client, tenant, app, link["id"]))["title"] is None


def test_titles_are_cut_to_255_characters_and_lose_control_characters() -> None:
    assert title_of("<title>" + "a" * 300 + "</title>") == "a" * 255
    assert title_of("<title>bell\x07 and\x1b escape</title>") == "bell and escape"
    assert title_of("<svg><title>icon</title></svg><title>Real</title>") == "Real"
    assert title_of("<title>   </title>") is None
    assert decode_page(b"<title>x</title>", "text/html; charset=no-such-charset") == "<title>x</title>"

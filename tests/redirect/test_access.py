"""What a click gets (mask.redirect.decision): passwords, start times, click limits and redirect statuses, through
real requests to the whole app, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import select

from mask.app import MaskApp
from mask.db import session_scope
from mask.models.event import Event
from tests.conftest import Tenant, TenantFactory
from tests.redirect.helpers import BROWSER, create_link, stored_clicks
from tests.waiting import eventually

SECRET_URL = "https://example.com/secret-destination"
HTML = {"Accept": "text/html,application/xhtml+xml", "User-Agent": BROWSER}


def cookie_of(response: httpx.Response) -> str:
    """The `name=value` of the password cookie (httpx keeps Secure cookies for https only, so tests send it)."""
    header = response.headers["set-cookie"]
    return header.split(";", 1)[0]


async def unlock(client: httpx.AsyncClient, slug: str, password: str) -> httpx.Response:
    return await client.post(f"/{slug}", data={"password": password}, headers=HTML)


async def test_a_password_link_asks_for_it_without_revealing_the_destination(
    client: httpx.AsyncClient, tenant: Tenant, app: MaskApp
) -> None:
    await create_link(client, tenant, slug="locked", url=SECRET_URL, password="open sesame", title="Secret plan")

    page = await client.get("/locked", headers=HTML)
    as_json = await client.get("/locked", headers={"Accept": "application/json"})

    assert page.status_code == 401
    assert "location" not in page.headers
    assert '<form method="post">' in page.text and 'type="password"' in page.text
    assert "example.com" not in page.text and "Secret plan" not in page.text
    assert "no-store" in page.headers["cache-control"]
    assert page.headers["x-robots-tag"] == "noindex"
    assert as_json.status_code == 401
    assert as_json.json()["error"]["code"] == "password_required"
    assert await stored_clicks(app) == []  # asking is not a click


async def test_the_right_password_sets_a_scoped_cookie_and_the_click_is_counted_once_let_through(
    client: httpx.AsyncClient, tenant: Tenant, app: MaskApp
) -> None:
    await create_link(client, tenant, slug="locked", url=SECRET_URL, password="open sesame")

    wrong = await unlock(client, "locked", "guess")
    right = await client.post("/locked?ref=mail", data={"password": "open sesame"}, headers=HTML)

    assert wrong.status_code == 401 and "Wrong password." in wrong.text and "set-cookie" not in wrong.headers
    assert right.status_code == 303 and right.headers["location"] == "/locked?ref=mail"
    set_cookie = right.headers["set-cookie"]
    for attribute in ("HttpOnly", "Secure", "Path=/locked", "SameSite=Lax"):
        assert attribute in set_cookie
    assert "open" not in set_cookie and "sesame" not in set_cookie
    through = await client.get("/locked?ref=mail", headers={**HTML, "Cookie": cookie_of(right)})
    assert (through.status_code, through.headers["location"]) == (302, SECRET_URL + "?ref=mail")
    clicks = await stored_clicks(app)
    assert len(clicks) == 1


async def test_changing_the_password_invalidates_cookies_and_removing_it_opens_the_link(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    link = await create_link(client, tenant, slug="locked", url=SECRET_URL, password="first one")
    assert link["password_protected"] is True and "password" not in link and "password_hash" not in link
    cookie = cookie_of(await unlock(client, "locked", "first one"))

    changed = await client.patch(f"/v1/links/{link['id']}", json={"password": "second one"}, headers=tenant.headers)
    assert changed.status_code == 200 and changed.json()["password_protected"] is True
    assert (await client.get("/locked", headers={**HTML, "Cookie": cookie})).status_code == 401
    forged = cookie.split(".", 1)[0] + ".AAAA"
    assert (await client.get("/locked", headers={**HTML, "Cookie": forged})).status_code == 401

    removed = await client.patch(f"/v1/links/{link['id']}", json={"password": None}, headers=tenant.headers)
    assert removed.json()["password_protected"] is False
    assert (await client.get("/locked")).status_code == 302


async def test_wrong_passwords_are_throttled_per_ip_and_link_with_retry_after(
    client: httpx.AsyncClient, tenant: Tenant, app: MaskApp
) -> None:
    await create_link(client, tenant, slug="locked", url=SECRET_URL, password="open sesame")
    await create_link(client, tenant, slug="other", url=SECRET_URL, password="open sesame")
    for _ in range(5):
        assert (await unlock(client, "locked", "guess")).status_code == 401

    throttled = await unlock(client, "locked", "open sesame")  # even the right one, once throttled
    as_json = await client.post("/locked", data={"password": "x"}, headers={"Accept": "application/json"})
    other_link = await unlock(client, "other", "open sesame")
    transport = httpx.ASGITransport(app=app, client=("198.51.100.7", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://localhost:8000") as elsewhere:
        other_ip = await unlock(elsewhere, "locked", "open sesame")

    assert throttled.status_code == 429 and int(throttled.headers["retry-after"]) > 0
    assert "set-cookie" not in throttled.headers
    assert as_json.status_code == 429 and as_json.json()["error"]["code"] == "too_many_attempts"
    assert other_link.status_code == 303
    assert other_ip.status_code == 303


async def test_post_to_a_link_without_password_or_to_no_link_is_405(client: httpx.AsyncClient, tenant: Tenant) -> None:
    await create_link(client, tenant, slug="plain")
    assert (await client.post("/plain", data={"password": "x"})).status_code == 405
    assert (await client.post("/nothing-here", data={"password": "x"})).status_code == 405


async def test_an_oversized_password_form_is_refused_unread(client: httpx.AsyncClient, tenant: Tenant) -> None:
    await create_link(client, tenant, slug="locked", password="open sesame")
    response = await client.post("/locked", content=b"password=" + b"a" * 10_000, headers=HTML)
    assert response.status_code == 413


async def test_before_starts_at_the_link_is_not_active_and_counts_nothing(
    client: httpx.AsyncClient, tenant: Tenant, app: MaskApp
) -> None:
    starts = datetime.now(UTC) + timedelta(days=1)
    link = await create_link(client, tenant, slug="soon", starts_at=starts.isoformat())
    assert link["starts_at"] is not None

    early = await client.get("/soon", headers=HTML)
    early_json = await client.get("/soon", headers={"Accept": "application/json"})
    assert early.status_code == 404 and "not active yet" in early.text
    assert early_json.json()["error"]["code"] == "link_not_active"
    assert await stored_clicks(app) == []

    past = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    await client.patch(f"/v1/links/{link['id']}", json={"starts_at": past}, headers=tenant.headers)
    assert (await client.get("/soon")).status_code == 302


async def test_after_max_clicks_the_link_behaves_as_expired_and_says_so(
    client: httpx.AsyncClient, tenant: Tenant, app: MaskApp
) -> None:
    link = await create_link(client, tenant, slug="few", max_clicks=2)
    assert (link["max_clicks"], link["clicks_remaining"]) == (2, 2)
    await create_link(client, tenant, slug="few-then", max_clicks=1, expired_url="https://example.com/sold-out")

    assert (await client.head("/few", headers=HTML)).status_code == 302  # HEAD is not a click
    answers = [(await client.get("/few", headers=HTML)).status_code for _ in range(4)]
    then = [(await client.get("/few-then", headers=HTML)).headers["location"] for _ in range(2)]

    assert answers == [302, 302, 410, 410]
    assert then == ["https://example.com/page", "https://example.com/sold-out"]
    read = await client.get(f"/v1/links/{link['id']}", headers=tenant.headers)
    assert read.json()["clicks_remaining"] == 0

    async def limit_events() -> list[Event]:
        async with session_scope(app.context.sessionmaker) as session:
            found = await session.execute(select(Event).where(Event.type == "link.limit_reached"))
            return list(found.scalars())

    async def both_recorded() -> bool:
        return len(await limit_events()) == 2

    await eventually(both_recorded, message="two link.limit_reached events")
    events = await limit_events()
    assert {event.data["slug"] for event in events} == {"few", "few-then"}


async def test_bots_do_not_spend_a_click_limit(client: httpx.AsyncClient, tenant: Tenant) -> None:
    await create_link(client, tenant, slug="one", max_clicks=1)
    bot = {"User-Agent": "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"}
    assert [(await client.get("/one", headers=bot)).status_code for _ in range(3)] == [302, 302, 302]
    assert (await client.get("/one", headers=HTML)).status_code == 302
    assert (await client.get("/one", headers=HTML)).status_code == 410


async def test_a_click_limit_is_exact_under_concurrent_clicks(client: httpx.AsyncClient, tenant: Tenant) -> None:
    await create_link(client, tenant, slug="rush", max_clicks=100, url="https://example.com/prize")

    async def click() -> int:
        return (await client.get("/rush", headers=HTML)).status_code

    statuses = await asyncio.gather(*(click() for _ in range(1000)))
    assert statuses.count(302) == 100
    assert statuses.count(410) == 900


async def test_redirect_status_is_the_one_chosen(client: httpx.AsyncClient, tenant: Tenant) -> None:
    for status in (301, 307, 308):
        await create_link(client, tenant, slug=f"s{status}", redirect_status=status)
        response = await client.get(f"/s{status}")
        assert (response.status_code, response.headers["location"]) == (status, "https://example.com/page")
    plain = await create_link(client, tenant, slug="plain")
    assert plain["redirect_status"] == 302


def errors_of(response: httpx.Response) -> dict[str, str]:
    return {error["param"]: error["code"] for error in response.json()["error"]["errors"]}


async def test_bad_access_fields_are_422_naming_each(client: httpx.AsyncClient, tenant: Tenant) -> None:
    now = datetime.now(UTC)
    body: dict[str, Any] = {
        "url": "https://example.com/",
        "starts_at": (now + timedelta(days=2)).isoformat(),
        "expires_at": (now + timedelta(days=1)).isoformat(),
        "password": "   ",
    }
    response = await client.post("/v1/links", json=body, headers=tenant.headers)
    assert response.status_code == 422
    assert errors_of(response) == {"starts_at": "schedule_overlap", "password": "blank"}
    for field, value in (("redirect_status", 303), ("max_clicks", 0), ("password", "")):
        bad = await client.post("/v1/links", json={"url": "https://example.com/", field: value}, headers=tenant.headers)
        assert bad.status_code == 422 and bad.json()["error"]["errors"][0]["param"] == field, bad.text


async def test_a_schedule_change_must_still_start_before_it_ends(client: httpx.AsyncClient, tenant: Tenant) -> None:
    now = datetime.now(UTC)
    link = await create_link(client, tenant, starts_at=(now + timedelta(days=2)).isoformat())
    response = await client.patch(
        f"/v1/links/{link['id']}", json={"expires_at": (now + timedelta(days=1)).isoformat()}, headers=tenant.headers
    )
    assert response.status_code == 422 and errors_of(response) == {"expires_at": "schedule_overlap"}


async def test_another_workspace_cannot_change_a_links_password(
    client: httpx.AsyncClient, make_tenant: TenantFactory
) -> None:
    owner, other = await make_tenant(), await make_tenant()
    link = await create_link(client, owner, password="mine mine")
    response = await client.patch(f"/v1/links/{link['id']}", json={"password": None}, headers=other.headers)
    assert response.status_code == 404
    assert (await client.get(f"/v1/links/{link['id']}", headers=owner.headers)).json()["password_protected"] is True

"""`link.clicked`: written in the click batch's transaction, only for subscribed workspaces, never a query per click."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import event, func, select

from mask.analytics.schemas import EVENT_FIELDS
from mask.app import MaskApp
from mask.click import service as click_service
from mask.click.schemas import EnrichedClick
from mask.db import session_scope
from mask.kit.ids import new_id
from mask.models.event import Event
from mask.webhook.policy import DeliveryPolicy
from tests.conftest import Tenant, TenantFactory
from tests.waiting import eventually
from tests.webhook.conftest import create_link, create_webhook, dispatcher_of
from tests.webhook.receiver import Receiver


def _click(tenant: Tenant, link_id: str, n: int, **fields: Any) -> EnrichedClick:
    at = datetime(2026, 5, 1, 12, tzinfo=UTC) + timedelta(seconds=n)
    return EnrichedClick(
        click_id=new_id("clk"),
        clicked_at=at,
        workspace_id=tenant.workspace_id,
        domain="localhost:8000",
        visitor_hash=f"visitor{n}",
        link_id=link_id,
        **fields,
    )


def _listeners(app: MaskApp) -> list[Any]:
    """The webhook click listener alone (other listeners — analytics, bio pages — are tested by their owners)."""
    runtime = app.services.webhooks
    assert runtime.clicks in app.services.clicks.listeners, "the composition root registers it"
    return [runtime.clicks]


async def _record(app: MaskApp, clicks: list[EnrichedClick]) -> None:
    async with session_scope(app.context.sessionmaker) as session:
        await click_service.record_batch(session, clicks, _listeners(app))


async def _clicked_events(app: MaskApp) -> list[Event]:
    async with session_scope(app.context.sessionmaker) as session:
        return list((await session.execute(select(Event).where(Event.type == "link.clicked"))).scalars())


@contextmanager
def statements_on(app: MaskApp, table: str) -> Iterator[list[str]]:
    """Every SQL statement the app runs that names `table`, while the block runs."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if table in statement:
            seen.append(statement)

    engine = app.context.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


async def test_clicks_reach_a_subscribed_endpoint_with_the_link_and_the_enriched_click(
    app: MaskApp, client: httpx.AsyncClient, tenant: Tenant, receiver: Receiver, fast: DeliveryPolicy
) -> None:
    await create_webhook(client, tenant, receiver, events=["link.clicked"])
    link = await create_link(client, tenant, "clicky")
    clicks = [
        _click(tenant, link["id"], 1, country="DE", browser="Firefox", referrer="news.ycombinator.com"),
        _click(tenant, link["id"], 2, is_bot=True, device="bot"),
    ]
    await _record(app, clicks)

    await eventually(lambda: len(receiver.received) == 2, message="two link.clicked deliveries")
    assert all(r.verified for r in receiver.received)
    payloads = sorted(receiver.payloads(), key=lambda p: p["data"]["click"]["clicked_at"])
    assert {p["type"] for p in payloads} == {"link.clicked"}
    current = (await client.get(f"/v1/links/{link['id']}", headers=tenant.headers)).json()
    first = payloads[0]["data"]
    assert first["link"] == current  # the link as the API returns it (clicks counted in the same transaction)
    assert first["click"] == clicks[0].public_dict()
    assert first["click"]["country"] == "DE" and first["click"]["clicked_at"] == "2026-05-01T12:00:01Z"
    assert "visitor_hash" not in first["click"] and "ip" not in first["click"]
    assert payloads[1]["data"]["click"]["is_bot"] is True


async def test_workspaces_without_a_subscribed_endpoint_get_no_click_events(
    app: MaskApp, client: httpx.AsyncClient, make_tenant: TenantFactory, receiver: Receiver
) -> None:
    watcher = await make_tenant()
    other = await make_tenant()
    await create_webhook(client, watcher, receiver, events=["link.created"])  # not link.clicked
    disabled = await make_tenant()
    await create_webhook(client, disabled, receiver, events=["link.clicked"], enabled=False)
    for tenant in (watcher, other, disabled):
        link = await create_link(client, tenant, f"nobody-{tenant.slug}")
        await _record(app, [_click(tenant, link["id"], n) for n in range(3)])
    assert await _clicked_events(app) == []


async def test_a_batch_costs_one_subscription_lookup_at_most_never_one_per_click(
    app: MaskApp, client: httpx.AsyncClient, make_tenant: TenantFactory, receiver: Receiver
) -> None:
    await dispatcher_of(app).stop()  # count only what the click path runs
    subscribed = await make_tenant()
    quiet = await make_tenant()
    await create_webhook(client, subscribed, receiver, events=["link.clicked"])
    hot = await create_link(client, subscribed, "hot")
    cold = await create_link(client, quiet, "cold")

    def batch() -> list[EnrichedClick]:
        return [_click(subscribed, hot["id"], n) for n in range(100)] + [
            _click(quiet, cold["id"], n) for n in range(100)
        ]

    with statements_on(app, "webhook_endpoints") as first:
        await _record(app, batch())
    with statements_on(app, "webhook_endpoints") as second:
        await _record(app, batch())
    assert len(first) <= 1, first
    assert second == [], "the answer is cached between batches"
    events = await _clicked_events(app)
    assert len(events) == 200 and {e.workspace_id for e in events} == {subscribed.workspace_id}


async def test_a_new_subscription_applies_to_the_next_batch_at_once(
    app: MaskApp, client: httpx.AsyncClient, tenant: Tenant, receiver: Receiver
) -> None:
    link = await create_link(client, tenant, "soon")
    await _record(app, [_click(tenant, link["id"], 1)])  # caches "not subscribed"
    await create_webhook(client, tenant, receiver, events=["link.clicked"])
    await _record(app, [_click(tenant, link["id"], 2)])
    events = await _clicked_events(app)
    assert [e.data["click"]["clicked_at"] for e in events] == ["2026-05-01T12:00:02Z"]


async def test_click_events_commit_with_the_clicks_or_not_at_all(
    app: MaskApp, client: httpx.AsyncClient, tenant: Tenant, receiver: Receiver
) -> None:
    await create_webhook(client, tenant, receiver, events=["link.clicked"])
    link = await create_link(client, tenant, "atomic")
    try:
        async with session_scope(app.context.sessionmaker) as session:
            await click_service.record_batch(session, [_click(tenant, link["id"], 1)], _listeners(app))
            raise RuntimeError("the batch transaction fails after the listeners ran")
    except RuntimeError:
        pass
    assert await _clicked_events(app) == []
    async with session_scope(app.context.sessionmaker) as session:
        assert await session.scalar(select(func.count()).select_from(Event).where(Event.type == "link.clicked")) == 0


async def test_a_click_through_an_ab_test_tells_the_webhook_what_was_decided(
    app: MaskApp, client: httpx.AsyncClient, tenant: Tenant, receiver: Receiver, fast: DeliveryPolicy
) -> None:
    await create_webhook(client, tenant, receiver, events=["link.clicked"])
    urls = ["https://example.com/a", "https://example.com/b"]
    created = await client.post(
        "/v1/links",
        headers=tenant.headers,
        json={"url": "https://example.com/", "slug": "ab", "variants": [{"url": u, "weight": 50} for u in urls]},
    )
    assert created.status_code == 201, created.text
    agent = "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0"
    redirect = await client.get("/ab", headers={"User-Agent": agent})
    assert redirect.status_code == 302
    assert await app.services.clicks.tracker.flush()

    await eventually(lambda: len(receiver.received) == 1, message="one link.clicked delivery")
    click = receiver.payloads()[0]["data"]["click"]
    assert set(click) == set(EVENT_FIELDS)  # the same click as the events endpoint shows
    location = redirect.headers["location"]
    assert (click["destination_url"], click["variant"]) == (location, urls.index(location))
    assert (click["rule_index"], click["passed_password"]) == (None, False)

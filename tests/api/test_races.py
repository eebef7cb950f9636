"""Races found by the adversarial pass (issue 17): concurrent API requests on one resource, on SQLite and
PostgreSQL, end in the answers one request at a time would give (a change to a deleted resource is `404`, never
`500`) and in one event per change."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from mask.app import MaskApp
from mask.db import session_scope
from mask.models.event import Event
from tests.conftest import Tenant

ROUNDS = 6


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"webhooks_allow_private": True}  # the webhooks below point at loopback, never called


async def events_of(app: MaskApp, tenant: Tenant, event_type: str) -> list[Event]:
    async with session_scope(app.context.sessionmaker) as session:
        statement = select(Event).where(Event.workspace_id == tenant.workspace_id, Event.type == event_type)
        return list((await session.execute(statement)).scalars())


async def race_patch_and_delete(
    client: httpx.AsyncClient, tenant: Tenant, path: str, patch: dict[str, Any]
) -> tuple[list[int], int]:
    """PATCHes and one DELETE of `path` at once; the PATCHes' statuses and the DELETE's."""
    answers = await asyncio.gather(
        *(client.patch(path, json=patch, headers=tenant.headers) for _ in range(3)),
        client.delete(path, headers=tenant.headers),
        *(client.patch(path, json=patch, headers=tenant.headers) for _ in range(3)),
    )
    deleted = answers.pop(3)
    return [answer.status_code for answer in answers], deleted.status_code


async def test_a_link_patched_while_it_is_deleted_answers_404_not_500(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    for n in range(ROUNDS):
        created = await client.post(
            "/v1/links", json={"url": f"https://example.com/{n}", "slug": f"race-{n}"}, headers=tenant.headers
        )
        assert created.status_code == 201, created.text
        patches, deleted = await race_patch_and_delete(
            client, tenant, f"/v1/links/{created.json()['id']}", {"url": f"https://example.org/{n}", "tags": ["t"]}
        )
        assert deleted == 204
        assert set(patches) <= {200, 404}, patches


async def test_a_bio_page_patched_while_it_is_deleted_answers_404_not_500(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    for n in range(ROUNDS):
        created = await client.post("/v1/bio-pages", json={"handle": f"race{n}"}, headers=tenant.headers)
        assert created.status_code == 201, created.text
        patches, deleted = await race_patch_and_delete(
            client, tenant, f"/v1/bio-pages/{created.json()['id']}", {"title": f"Title {n}"}
        )
        assert deleted == 204
        assert set(patches) <= {200, 404}, patches


async def test_a_webhook_patched_while_it_is_deleted_answers_404_not_500(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    for n in range(ROUNDS):
        created = await client.post(
            "/v1/webhooks",
            json={"url": f"http://127.0.0.1:9/hook{n}", "events": ["link.created"]},
            headers=tenant.headers,
        )
        assert created.status_code == 201, created.text
        patches, deleted = await race_patch_and_delete(
            client, tenant, f"/v1/webhooks/{created.json()['id']}", {"description": f"Hook {n}"}
        )
        assert deleted == 204
        assert set(patches) <= {200, 404}, patches


async def test_concurrent_deletes_of_one_link_delete_it_once_with_one_event(
    client: httpx.AsyncClient, tenant: Tenant, app: MaskApp
) -> None:
    for n in range(ROUNDS):
        created = await client.post(
            "/v1/links", json={"url": "https://example.com/", "slug": f"gone-{n}"}, headers=tenant.headers
        )
        link_id = created.json()["id"]
        answers = await asyncio.gather(
            *(client.delete(f"/v1/links/{link_id}", headers=tenant.headers) for _ in range(8))
        )
        statuses = sorted(answer.status_code for answer in answers)
        assert statuses == [204] + [404] * 7, statuses
        deleted = [event for event in await events_of(app, tenant, "link.deleted") if event.data["id"] == link_id]
        assert len(deleted) == 1, deleted


async def test_concurrent_deletes_of_one_bio_page_and_one_webhook_succeed_once(
    client: httpx.AsyncClient, tenant: Tenant, app: MaskApp
) -> None:
    page = (await client.post("/v1/bio-pages", json={"handle": "once"}, headers=tenant.headers)).json()
    hook = (
        await client.post(
            "/v1/webhooks", json={"url": "http://127.0.0.1:9/once", "events": ["link.created"]}, headers=tenant.headers
        )
    ).json()
    for path in (f"/v1/bio-pages/{page['id']}", f"/v1/webhooks/{hook['id']}"):
        answers = await asyncio.gather(*(client.delete(path, headers=tenant.headers) for _ in range(6)))
        assert sorted(answer.status_code for answer in answers) == [204] + [404] * 5, path
    assert len(await events_of(app, tenant, "bio_page.deleted")) == 1

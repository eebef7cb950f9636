"""`link_service.to_json` (the bulk answer's links, built without the model) equals the API's `Link` model."""

from __future__ import annotations

from datetime import datetime, timedelta

import httpx
from sqlalchemy import update

from mask.app import MaskApp
from mask.db import session_scope
from mask.kit.time import utcnow
from mask.link import service as link_service
from mask.models.link import Link
from tests.conftest import Tenant

LATER = (utcnow() + timedelta(days=30)).isoformat()
SOONER = (utcnow() + timedelta(days=2)).replace(microsecond=0).isoformat()

BODIES = [
    {"url": "https://example.com/plain"},
    {
        "url": "https://example.com/everything",
        "slug": "every-thing",
        "title": "Spring sale ✓",
        "notes": "line one\nline two",
        "external_id": "crm-1",
        "tags": ["b", "a"],
        "utm_source": "news",
        "utm_medium": "mail",
        "utm_campaign": "q1",
        "utm_term": "t",
        "utm_content": "c",
        "expires_at": LATER,
        "expired_url": "https://example.com/over",
        "archived": True,
        "disabled": True,
    },
    {"url": "https://example.com/guarded", "password": "hunter2", "max_clicks": 10, "starts_at": SOONER},
    {"url": "https://example.com/permanent", "redirect_status": 301, "expires_at": LATER},
    {"url": "https://example.com/targeted", "ios_url": "https://example.com/ios", "geo": {"US": "https://us.example/"}},
    {
        "url": "https://example.com/tested",
        "variants": [{"url": "https://a.example/", "weight": 40}, {"url": "https://b.example/", "weight": 60}],
    },
    {"url": "https://example.com/previewed", "preview": {"title": "Hello", "description": "A page"}},
]


async def test_to_json_is_the_link_models_json_form_for_every_kind_of_link(
    app: MaskApp, client: httpx.AsyncClient, tenant: Tenant
) -> None:
    ids = []
    for body in BODIES:
        response = await client.post("/v1/links", json=body, headers=tenant.headers)
        assert response.status_code == 201, response.text
        ids.append(response.json()["id"])
    async with session_scope(app.context.sessionmaker) as session:
        clicked_at = utcnow().replace(microsecond=123456)
        await session.execute(
            update(Link)
            .where(Link.id == ids[0])
            .values(clicks=7, last_clicked_at=clicked_at, suspended_at=clicked_at, clicks_reserved=3)
        )
    stamps: dict[datetime, str] = {}
    async with session_scope(app.context.sessionmaker) as session:
        for link_id in ids:
            view = await link_service.get(session, workspace_id=tenant.workspace_id, link_id=link_id)
            expected = link_service.to_schema(view).model_dump(mode="json")
            built = link_service.to_json(view, stamps)
            assert list(built.items()) == list(expected.items())  # the same keys, in the same order
    assert stamps  # the plain links went through the model-free path, which remembers the times it wrote

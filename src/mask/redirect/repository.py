"""The one query of the redirect path: links by (domain, slug), only the columns a redirect needs."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from mask.models.link import Link
from mask.models.workspace import Workspace

_COLUMNS = (
    Link.slug,
    Link.id,
    Link.workspace_id,
    Link.url,
    Link.utm_source,
    Link.utm_medium,
    Link.utm_campaign,
    Link.utm_term,
    Link.utm_content,
    Link.expires_at,
    Link.expired_url,
    Link.disabled,
    Link.password_hash,
    Link.starts_at,
    Link.max_clicks,
    Link.clicks_reserved,
    Link.redirect_status,
    Link.rules,
    Link.variants,
    Link.test_ends_at,
    Link.preview,
    # Suspended by the operator: the link, or its whole workspace (mask.abuse).
    (Link.suspended_at.is_not(None) | Workspace.suspended_at.is_not(None)).label("suspended"),
)


async def find_links(connection: AsyncConnection, domain: str, slugs: list[str]) -> list[Row[Any]]:
    """The links among `slugs` on `domain` (one index range per query, whatever the number of slugs);
    each row starts with the slug."""
    result = await connection.execute(
        select(*_COLUMNS)
        .join(Workspace, Workspace.id == Link.workspace_id)
        .where(Link.domain == domain, Link.slug.in_(slugs))
    )
    rows: list[Row[Any]] = list(result.all())
    return rows


async def reserve_click(engine: AsyncEngine, link_id: str) -> int | None:
    """Reserve one of a limited link's clicks: one conditional UPDATE (atomic on every backend, exact across
    workers), on the resolver's autocommit engine. The count reserved so far including this one, or None when
    the limit is spent."""
    statement = (
        update(Link)
        .where(Link.id == link_id, Link.max_clicks.is_not(None), Link.clicks_reserved < Link.max_clicks)
        .values(clicks_reserved=Link.clicks_reserved + 1)
        .returning(Link.clicks_reserved)
    )
    async with engine.connect() as connection:
        reserved = (await connection.execute(statement)).scalar_one_or_none()
    return None if reserved is None else int(reserved)

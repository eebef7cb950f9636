"""The one query of the redirect path: links by (domain, slug), only the columns a redirect needs."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.ext.asyncio import AsyncConnection

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
    rows: list[Row[Any]] = list(result.all())  # type: ignore[arg-type]
    return rows

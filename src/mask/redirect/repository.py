"""The one query of the redirect path: a link by (domain, slug), only the columns a redirect needs."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.ext.asyncio import AsyncConnection

from mask.link.models import Link

_COLUMNS = (Link.id, Link.workspace_id, Link.url, Link.utm_source, Link.utm_medium, Link.utm_campaign,
            Link.utm_term, Link.utm_content, Link.expires_at, Link.expired_url)


async def find_link(connection: AsyncConnection, domain: str, slug: str) -> Row[Any] | None:
    result = await connection.execute(select(*_COLUMNS).where(Link.domain == domain, Link.slug == slug))
    return result.first()  # type: ignore[return-value]

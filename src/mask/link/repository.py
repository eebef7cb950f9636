from __future__ import annotations

from datetime import datetime

from sqlalchemy import exists, or_, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from mask.db import keyset
from mask.models.link import Link
from mask.models.tag import link_tags


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class LinkRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, workspace_id: str, link_id: str) -> Link | None:
        result = await self.session.execute(select(Link).where(Link.id == link_id, Link.workspace_id == workspace_id))
        return result.scalar_one_or_none()

    async def slug_taken(self, domain: str, slug: str) -> bool:
        result = await self.session.execute(select(Link.id).where(Link.domain == domain, Link.slug == slug).limit(1))
        return result.first() is not None

    async def list_page(
        self,
        workspace_id: str,
        *,
        limit: int,
        after: tuple[datetime, str] | None,
        domain: str | None,
        tag_id: str | None,
        query: str | None,
        created_by: str | None = None,
    ) -> list[Link]:
        statement = select(Link).where(Link.workspace_id == workspace_id)
        if created_by is not None:
            column = Link.created_by_key_id if created_by.startswith("key_") else Link.created_by_user_id
            statement = statement.where(column == created_by)
        if domain is not None:
            statement = statement.where(Link.domain == domain)
        if tag_id is not None:
            statement = statement.where(exists().where(link_tags.c.link_id == Link.id, link_tags.c.tag_id == tag_id))
        if query:
            pattern = f"%{_like_escape(query)}%"
            statement = statement.where(or_(Link.url.like(pattern, escape="\\"), Link.slug.like(pattern, escape="\\")))
        if after is not None:
            statement = statement.where(tuple_(Link.created_at, Link.id) < keyset(after))
        statement = statement.order_by(Link.created_at.desc(), Link.id.desc()).limit(limit)
        return list((await self.session.execute(statement)).scalars())

    def add(self, link: Link) -> None:
        self.session.add(link)

    async def delete(self, link: Link) -> None:
        await self.session.delete(link)

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from mask.db import keyset
from mask.models.bio_page import BioPage
from mask.models.domain import Domain
from mask.models.link import Link


class DomainRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, workspace_id: str, domain_id: str) -> Domain | None:
        result = await self.session.execute(
            select(Domain).where(Domain.id == domain_id, Domain.workspace_id == workspace_id)
        )
        return result.scalar_one_or_none()

    async def get_by_name(self, name: str) -> Domain | None:
        result = await self.session.execute(select(Domain).where(Domain.domain == name))
        return result.scalar_one_or_none()

    async def exists(self, name: str) -> bool:
        result = await self.session.execute(select(Domain.id).where(Domain.domain == name).limit(1))
        return result.first() is not None

    async def list_page(self, workspace_id: str, *, limit: int, after: tuple[datetime, str] | None) -> list[Domain]:
        query = select(Domain).where(Domain.workspace_id == workspace_id)
        if after is not None:
            query = query.where(tuple_(Domain.created_at, Domain.id) < keyset(after))
        query = query.order_by(Domain.created_at.desc(), Domain.id.desc()).limit(limit)
        return list((await self.session.execute(query)).scalars())

    async def count_links(self, name: str) -> int:
        result = await self.session.execute(select(func.count()).select_from(Link).where(Link.domain == name))
        return int(result.scalar_one())

    async def count_bio_pages(self, name: str) -> int:
        result = await self.session.execute(select(func.count()).select_from(BioPage).where(BioPage.domain == name))
        return int(result.scalar_one())

    def add(self, domain: Domain) -> None:
        self.session.add(domain)

    async def delete(self, domain: Domain) -> None:
        await self.session.delete(domain)

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Row, delete, func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from mask.db import keyset
from mask.models.bio_page import BioPage
from mask.models.domain import Domain
from mask.models.link import Link
from mask.models.workspace import Workspace

# What a public page needs to know about a verified host name (mask.public.domains).
_STATE_COLUMNS = (
    Domain.domain,
    Domain.workspace_id,
    Domain.root_url,
    Domain.not_found_url,
    Domain.expired_url,
    Domain.robots,
    Domain.apple_app_site_association,
    Domain.asset_links,
)


class DomainRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, workspace_id: str, domain_id: str, *, fresh: bool = False) -> Domain | None:
        statement = select(Domain).where(Domain.id == domain_id, Domain.workspace_id == workspace_id)
        result = await self.session.execute(statement.execution_options(populate_existing=fresh))
        return result.scalar_one_or_none()

    async def get_by_id(self, domain_id: str) -> Domain | None:
        return await self.session.get(Domain, domain_id)

    async def claim(self, workspace_id: str, name: str) -> Domain | None:
        """The workspace's claim of `name`, if it has one."""
        result = await self.session.execute(
            select(Domain).where(Domain.domain == name, Domain.workspace_id == workspace_id)
        )
        return result.scalar_one_or_none()

    async def workspace_default(self, workspace_id: str) -> str | None:
        """The workspace's chosen default domain (its row is usually in the session already: no query then)."""
        workspace = await self.session.get(Workspace, workspace_id)
        return workspace.default_domain if workspace is not None else None

    async def verified_claim(self, name: str) -> Domain | None:
        """The one verified claim of `name`, if any workspace has proved it owns it."""
        result = await self.session.execute(select(Domain).where(Domain.domain == name, Domain.verified.is_(True)))
        return result.scalar_one_or_none()

    async def other_claims(self, name: str, *, besides: str) -> list[Domain]:
        """Every other workspace's claim of `name` (besides the claim `besides`)."""
        result = await self.session.execute(select(Domain).where(Domain.domain == name, Domain.id != besides))
        return list(result.scalars())

    async def exists(self, name: str) -> bool:
        result = await self.session.execute(select(Domain.id).where(Domain.domain == name).limit(1))
        return result.first() is not None

    async def list_page(self, workspace_id: str, *, limit: int, after: tuple[datetime, str] | None) -> list[Domain]:
        query = select(Domain).where(Domain.workspace_id == workspace_id)
        if after is not None:
            query = query.where(tuple_(Domain.created_at, Domain.id) < keyset(after))
        query = query.order_by(Domain.created_at.desc(), Domain.id.desc()).limit(limit)
        return list((await self.session.execute(query)).scalars())

    async def list_all(self, workspace_id: str | None) -> list[Domain]:
        query = select(Domain).order_by(Domain.domain, Domain.created_at)
        if workspace_id is not None:
            query = query.where(Domain.workspace_id == workspace_id)
        return list((await self.session.execute(query)).scalars())

    async def unverified_names(self, workspace_id: str) -> set[str]:
        """The workspace's host names that serve nothing yet (their claims are not verified)."""
        result = await self.session.execute(
            select(Domain.domain).where(Domain.workspace_id == workspace_id, Domain.verified.is_(False))
        )
        return set(result.scalars())

    async def due(self, now: datetime, *, limit: int) -> list[str]:
        """Ids of the claims whose next check is due, most overdue first."""
        result = await self.session.execute(
            select(Domain.id)
            .where(Domain.next_check_at.is_not(None), Domain.next_check_at <= now)
            .order_by(Domain.next_check_at)
            .limit(limit)
        )
        return list(result.scalars())

    async def next_due_at(self) -> datetime | None:
        result = await self.session.execute(select(func.min(Domain.next_check_at)))
        value: datetime | None = result.scalar_one()
        return value

    async def count_links(self, name: str, *, workspace_id: str) -> int:
        query = select(func.count()).select_from(Link).where(Link.domain == name, Link.workspace_id == workspace_id)
        return int((await self.session.execute(query)).scalar_one())

    async def count_bio_pages(self, name: str, *, workspace_id: str) -> int:
        query = (
            select(func.count())
            .select_from(BioPage)
            .where(BioPage.domain == name, BioPage.workspace_id == workspace_id)
        )
        return int((await self.session.execute(query)).scalar_one())

    async def delete_links_and_pages(self, name: str, *, workspace_id: str) -> tuple[int, int]:
        """Delete a workspace's links and bio pages on `name` (their tags and blocks go with them, by cascade);
        how many of each."""
        links = await self.count_links(name, workspace_id=workspace_id)
        pages = await self.count_bio_pages(name, workspace_id=workspace_id)
        await self.session.execute(delete(Link).where(Link.domain == name, Link.workspace_id == workspace_id))
        await self.session.execute(delete(BioPage).where(BioPage.domain == name, BioPage.workspace_id == workspace_id))
        return links, pages

    def add(self, domain: Domain) -> None:
        self.session.add(domain)

    async def delete(self, domain: Domain) -> None:
        await self.session.delete(domain)


async def find_verified(connection: AsyncConnection, names: list[str]) -> list[Row[Any]]:
    """The verified claims among `names`, with what public pages answer besides links (mask.public.domains);
    each row starts with the host name."""
    query = select(*_STATE_COLUMNS).where(Domain.domain.in_(names), Domain.verified.is_(True))
    rows: list[Row[Any]] = list((await connection.execute(query)).all())
    return rows

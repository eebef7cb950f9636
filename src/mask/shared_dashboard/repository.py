from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from mask.db import keyset
from mask.models.bio_page import BioPage
from mask.models.domain import Domain
from mask.models.link import Link
from mask.models.shared_dashboard import SharedDashboard
from mask.models.tag import Tag


class SharedDashboardRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, workspace_id: str, dashboard_id: str) -> SharedDashboard | None:
        result = await self.session.execute(
            select(SharedDashboard).where(
                SharedDashboard.id == dashboard_id, SharedDashboard.workspace_id == workspace_id
            )
        )
        return result.scalar_one_or_none()

    async def by_token_hash(self, token_hash: str) -> SharedDashboard | None:
        result = await self.session.execute(select(SharedDashboard).where(SharedDashboard.token_hash == token_hash))
        return result.scalar_one_or_none()

    async def lock(self, workspace_id: str, dashboard_id: str) -> bool:
        """Lock the row until this transaction ends (a no-op UPDATE: SQLite has no FOR UPDATE); False if the
        workspace has no such shared dashboard. Two rotations at once: the second waits, then rotates again."""
        statement = (
            update(SharedDashboard)
            .where(SharedDashboard.id == dashboard_id, SharedDashboard.workspace_id == workspace_id)
            .values(id=SharedDashboard.id)
            .execution_options(synchronize_session=False)
        )
        return bool((await self.session.execute(statement)).rowcount)  # type: ignore[attr-defined]

    async def list_page(
        self, workspace_id: str, *, limit: int, after: tuple[datetime, str] | None, target_id: str | None = None
    ) -> list[SharedDashboard]:
        query = select(SharedDashboard).where(SharedDashboard.workspace_id == workspace_id)
        if target_id is not None:
            query = query.where(SharedDashboard.target_id == target_id)
        if after is not None:
            query = query.where(tuple_(SharedDashboard.created_at, SharedDashboard.id) < keyset(after))
        query = query.order_by(SharedDashboard.created_at.desc(), SharedDashboard.id.desc()).limit(limit)
        return list((await self.session.execute(query)).scalars())

    def add(self, dashboard: SharedDashboard) -> None:
        self.session.add(dashboard)

    async def delete(self, dashboard: SharedDashboard) -> None:
        await self.session.delete(dashboard)

    # What a shared dashboard can show: the workspace's own objects only.

    async def link(self, workspace_id: str, link_id: str) -> Link | None:
        result = await self.session.execute(select(Link).where(Link.id == link_id, Link.workspace_id == workspace_id))
        return result.scalar_one_or_none()

    async def tag(self, workspace_id: str, id_or_name: str) -> Tag | None:
        result = await self.session.execute(
            select(Tag)
            .where(Tag.workspace_id == workspace_id, or_(Tag.id == id_or_name, Tag.name == id_or_name))
            .order_by(Tag.id)
            .limit(1)
        )
        return result.scalar_one_or_none()

    async def domain(self, workspace_id: str, id_or_name: str) -> Domain | None:
        result = await self.session.execute(
            select(Domain)
            .where(
                Domain.workspace_id == workspace_id, or_(Domain.id == id_or_name, Domain.domain == id_or_name.lower())
            )
            .order_by(Domain.id)
            .limit(1)
        )
        return result.scalar_one_or_none()

    async def bio_page(self, workspace_id: str, page_id: str) -> BioPage | None:
        result = await self.session.execute(
            select(BioPage).where(BioPage.id == page_id, BioPage.workspace_id == workspace_id)
        )
        return result.scalar_one_or_none()

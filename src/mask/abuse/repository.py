"""The SQL of mask.abuse: blocklist entries, links to screen and suspend, workspaces, reports."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from mask.models.abuse import AbuseReport, BlocklistEntry
from mask.models.bio_page import BioPage
from mask.models.link import Link
from mask.models.workspace import Workspace

BATCH = 500  # values per IN (…): well under every backend's bound-parameter limit


class BlocklistRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def first_blocked(self, keys: list[str]) -> str | None:
        """The first of `keys` on any list, or None."""
        if not keys:
            return None
        found = set(
            (await self.session.scalars(select(BlocklistEntry.value).where(BlocklistEntry.value.in_(keys)))).all()
        )
        return next((key for key in keys if key in found), None)

    async def empty(self) -> bool:
        """Whether no list has any entry."""
        return (await self.session.scalar(select(BlocklistEntry.value).limit(1))) is None

    async def blocked(self, keys: Iterable[str]) -> set[str]:
        """Those of `keys` on any list."""
        items = sorted(set(keys))
        found: set[str] = set()
        for start in range(0, len(items), BATCH):
            part = items[start : start + BATCH]
            found.update(
                (await self.session.scalars(select(BlocklistEntry.value).where(BlocklistEntry.value.in_(part)))).all()
            )
        return found

    async def values(self, source: str) -> set[str]:
        return set(
            (await self.session.scalars(select(BlocklistEntry.value).where(BlocklistEntry.source == source))).all()
        )

    async def add(self, source: str, values: Iterable[str], now: datetime) -> None:
        rows = [{"value": value, "source": source, "added_at": now} for value in values]
        for start in range(0, len(rows), BATCH):
            await self.session.execute(insert(BlocklistEntry), rows[start : start + BATCH])

    async def remove(self, source: str, values: Iterable[str]) -> None:
        items = list(values)
        for start in range(0, len(items), BATCH):
            await self.session.execute(
                delete(BlocklistEntry).where(
                    BlocklistEntry.source == source, BlocklistEntry.value.in_(items[start : start + BATCH])
                )
            )

    async def counts(self) -> list[tuple[str, int]]:
        rows = await self.session.execute(
            select(BlocklistEntry.source, func.count()).group_by(BlocklistEntry.source).order_by(BlocklistEntry.source)
        )
        return [(source, count) for source, count in rows]


class AbuseRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def unsuspended_links_after(self, after: str, limit: int) -> list[tuple[str, str, str | None]]:
        """(id, url, expired_url) of links not suspended, by id after `after`: a keyset scan of every link."""
        rows = await self.session.execute(
            select(Link.id, Link.url, Link.expired_url)
            .where(Link.id > after, Link.suspended_at.is_(None))
            .order_by(Link.id)
            .limit(limit)
        )
        return [(link_id, url, expired) for link_id, url, expired in rows]

    async def link(self, link_id: str) -> Link | None:
        return await self.session.get(Link, link_id)

    async def link_by_address(self, domain: str, slug: str) -> Link | None:
        return await self.session.scalar(select(Link).where(Link.domain == domain, Link.slug == slug))

    async def workspace(self, ref: str) -> Workspace | None:
        return await self.session.scalar(select(Workspace).where((Workspace.id == ref) | (Workspace.slug == ref)))

    async def workspace_domains(self, workspace_id: str) -> list[str]:
        rows = await self.session.scalars(select(Link.domain).where(Link.workspace_id == workspace_id).distinct())
        return list(rows.all())

    async def workspace_bio_pages(self, workspace_id: str) -> list[tuple[str, str]]:
        rows = await self.session.execute(
            select(BioPage.domain, BioPage.handle).where(BioPage.workspace_id == workspace_id)
        )
        return [(domain, handle) for domain, handle in rows]

    def add_report(self, report: AbuseReport) -> None:
        self.session.add(report)

    async def reports(self, *, status: str | None, limit: int) -> list[AbuseReport]:
        statement = select(AbuseReport).order_by(AbuseReport.created_at.desc(), AbuseReport.id.desc()).limit(limit)
        if status is not None:
            statement = statement.where(AbuseReport.status == status)
        return list((await self.session.scalars(statement)).all())

    async def resolve_reports(self, *, link_id: str | None = None, workspace_id: str | None = None) -> None:
        statement = update(AbuseReport).where(AbuseReport.status == "open").values(status="resolved")
        if link_id is not None:
            statement = statement.where(AbuseReport.link_id == link_id)
        if workspace_id is not None:
            statement = statement.where(AbuseReport.workspace_id == workspace_id)
        await self.session.execute(statement)

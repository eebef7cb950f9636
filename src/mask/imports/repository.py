from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Table, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from mask.models.imports import Import, ImportedLinkStats, ImportFile, ImportIssue

RUNNABLE = ("queued", "running")
ISSUES: Table = ImportIssue.__table__  # type: ignore[assignment]
STATS: Table = ImportedLinkStats.__table__  # type: ignore[assignment]


class ImportRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(self, job: Import, content: bytes | None) -> None:
        self.session.add(job)
        if content is not None:
            self.session.add(ImportFile(import_id=job.id, content=content))

    async def get(self, workspace_id: str, import_id: str) -> Import | None:
        result = await self.session.execute(
            select(Import).where(Import.id == import_id, Import.workspace_id == workspace_id)
        )
        return result.scalar_one_or_none()

    async def by_id(self, import_id: str) -> Import | None:
        statement = select(Import).where(Import.id == import_id).execution_options(populate_existing=True)
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def recent(self, workspace_id: str, limit: int) -> list[Import]:
        result = await self.session.execute(
            select(Import)
            .where(Import.workspace_id == workspace_id)
            .order_by(Import.created_at.desc(), Import.id.desc())
            .limit(limit)
        )
        return list(result.scalars())

    async def next_due(self, now: datetime) -> str | None:
        """The oldest job waiting, or running under a lease that ran out (its runner died)."""
        result = await self.session.execute(
            select(Import.id)
            .where(Import.status.in_(RUNNABLE), or_(Import.lease_until.is_(None), Import.lease_until < now))
            .order_by(Import.created_at, Import.id)
            .limit(1)
        )
        found = result.scalar_one_or_none()
        return None if found is None else str(found)

    async def lease(self, import_id: str, now: datetime, until: datetime) -> bool:
        """Take the job until `until`, unless another runner holds a live lease on it."""
        result = await self.session.execute(
            update(Import)
            .where(
                Import.id == import_id,
                Import.status.in_(RUNNABLE),
                or_(Import.lease_until.is_(None), Import.lease_until < now),
            )
            .values(status="running", lease_until=until)
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(result, "rowcount", 0))

    async def content(self, import_id: str) -> bytes | None:
        result = await self.session.execute(select(ImportFile.content).where(ImportFile.import_id == import_id))
        found = result.scalar_one_or_none()
        return None if found is None else bytes(found)

    async def drop_content(self, import_id: str) -> None:
        await self.session.execute(delete(ImportFile).where(ImportFile.import_id == import_id))

    # RETURNING makes SQLAlchemy send pages of rows as one multi-row INSERT each (mask.bulk.repository).

    async def add_issues(self, rows: list[dict[str, Any]]) -> None:
        if rows:
            await self.session.execute(ISSUES.insert().returning(ISSUES.c.row), rows)

    async def add_stats(self, rows: list[dict[str, Any]]) -> None:
        if rows:
            await self.session.execute(STATS.insert().returning(STATS.c.link_id), rows)

    async def issues(self, import_id: str, *, after: int, limit: int) -> list[ImportIssue]:
        result = await self.session.execute(
            select(ImportIssue)
            .where(ImportIssue.import_id == import_id, ImportIssue.row > after)
            .order_by(ImportIssue.row)
            .limit(limit)
        )
        return list(result.scalars())

    async def stats(self, link_ids: list[str]) -> dict[str, ImportedLinkStats]:
        result = await self.session.execute(select(ImportedLinkStats).where(ImportedLinkStats.link_id.in_(link_ids)))
        return {row.link_id: row for row in result.scalars()}

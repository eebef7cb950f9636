from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import delete, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from mask.db import keyset
from mask.models.bio_page import BioBlock, BioPage
from mask.models.workspace import Workspace


class BioPageRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, workspace_id: str, page_id: str) -> BioPage | None:
        result = await self.session.execute(
            select(BioPage).where(BioPage.id == page_id, BioPage.workspace_id == workspace_id)
        )
        return result.scalar_one_or_none()

    async def lock(self, workspace_id: str, page_id: str) -> bool:
        """Lock the page's row until this transaction ends; False if the workspace has no such page.

        A no-op UPDATE rather than SELECT … FOR UPDATE, which SQLite lacks: there it takes the database's write
        lock. A concurrent change or delete of the page waits for this transaction, then sees its outcome (a
        PATCH racing a DELETE answers 404, two DELETEs delete once)."""
        statement = (
            update(BioPage)
            .where(BioPage.id == page_id, BioPage.workspace_id == workspace_id)
            .values(id=BioPage.id)
            .execution_options(synchronize_session=False)
        )
        return bool((await self.session.execute(statement)).rowcount)  # type: ignore[attr-defined]

    async def get_by_handle(self, domain: str, handle: str) -> BioPage | None:
        result = await self.session.execute(select(BioPage).where(BioPage.domain == domain, BioPage.handle == handle))
        return result.scalar_one_or_none()

    async def workspace_suspended(self, workspace_id: str) -> bool:
        suspended = await self.session.scalar(select(Workspace.suspended_at).where(Workspace.id == workspace_id))
        return suspended is not None

    async def existing_ids(self, workspace_id: str, page_ids: Iterable[str]) -> set[str]:
        result = await self.session.execute(
            select(BioPage.id).where(BioPage.workspace_id == workspace_id, BioPage.id.in_(list(page_ids)))
        )
        return set(result.scalars())

    async def handle_taken(self, domain: str, handle: str) -> bool:
        result = await self.session.execute(
            select(BioPage.id).where(BioPage.domain == domain, BioPage.handle == handle).limit(1)
        )
        return result.first() is not None

    async def list_page(
        self, workspace_id: str, *, limit: int, after: tuple[datetime, str] | None, domain: str | None
    ) -> list[BioPage]:
        statement = select(BioPage).where(BioPage.workspace_id == workspace_id)
        if domain is not None:
            statement = statement.where(BioPage.domain == domain)
        if after is not None:
            statement = statement.where(tuple_(BioPage.created_at, BioPage.id) < keyset(after))
        statement = statement.order_by(BioPage.created_at.desc(), BioPage.id.desc()).limit(limit)
        return list((await self.session.execute(statement)).scalars())

    async def blocks_for(self, page_ids: Iterable[str]) -> dict[str, list[BioBlock]]:
        """Each page's blocks in display order."""
        ids = list(page_ids)
        found: dict[str, list[BioBlock]] = {page_id: [] for page_id in ids}
        if not ids:
            return found
        result = await self.session.execute(
            select(BioBlock).where(BioBlock.bio_page_id.in_(ids)).order_by(BioBlock.bio_page_id, BioBlock.position)
        )
        for block in result.scalars():
            found[block.bio_page_id].append(block)
        return found

    async def get_block(self, page_id: str, block_id: str) -> BioBlock | None:
        result = await self.session.execute(
            select(BioBlock).where(BioBlock.id == block_id, BioBlock.bio_page_id == page_id)
        )
        return result.scalar_one_or_none()

    def add(self, row: BioPage | BioBlock) -> None:
        self.session.add(row)

    async def delete_blocks(self, page_id: str, block_ids: Iterable[str]) -> None:
        ids = list(block_ids)
        if ids:
            await self.session.execute(delete(BioBlock).where(BioBlock.bio_page_id == page_id, BioBlock.id.in_(ids)))

    async def delete(self, page: BioPage) -> None:
        await self.session.execute(delete(BioBlock).where(BioBlock.bio_page_id == page.id))
        await self.session.delete(page)

    async def add_counts(self, *, views: Counter[str], clicks: Counter[str], block_clicks: Counter[str]) -> None:
        """One UPDATE per page and per block per batch; sorted so concurrent writers lock rows in one order."""
        for page_id in sorted(views.keys() | clicks.keys()):
            await self.session.execute(
                update(BioPage)
                .where(BioPage.id == page_id)
                .values(views=BioPage.views + views[page_id], clicks=BioPage.clicks + clicks[page_id])
            )
        for block_id, count in sorted(block_clicks.items()):
            await self.session.execute(
                update(BioBlock).where(BioBlock.id == block_id).values(clicks=BioBlock.clicks + count)
            )

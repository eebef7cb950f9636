"""Bio pages as visitors meet them: the published page, and the counters their views and clicks bump."""

from __future__ import annotations

from collections import Counter

from sqlalchemy.ext.asyncio import AsyncSession

from mask.bio_page.repository import BioPageRepository
from mask.bio_page.service import BioPageView
from mask.click.schemas import EnrichedClick


async def find_published(session: AsyncSession, *, domain: str, handle: str) -> BioPageView | None:
    """The published page at `domain`/@`handle` with its blocks, or None (also when the operator suspended its
    workspace: mask.abuse)."""
    repository = BioPageRepository(session)
    page = await repository.get_by_handle(domain, handle)
    if page is None or not page.published or await repository.workspace_suspended(page.workspace_id):
        return None
    blocks = await repository.blocks_for([page.id])
    return BioPageView(page=page, blocks=blocks[page.id])


async def on_clicks(session: AsyncSession, clicks: list[EnrichedClick]) -> None:
    """Click listener: bump the page and block counters for the batch's human views and clicks.

    A bio page's traffic travels the click pipeline: a row with `bio_page_id` and `bio_block_id` is a click
    on that block; a row with `bio_page_id` and no `bio_block_id` is a view of the page.
    """
    views: Counter[str] = Counter()
    page_clicks: Counter[str] = Counter()
    block_clicks: Counter[str] = Counter()
    for click in clicks:
        if click.bio_page_id is None or click.is_bot:
            continue
        if click.bio_block_id is None:
            views[click.bio_page_id] += 1
        else:
            page_clicks[click.bio_page_id] += 1
            block_clicks[click.bio_block_id] += 1
    if views or page_clicks:
        await BioPageRepository(session).add_counts(views=views, clicks=page_clicks, block_clicks=block_clicks)

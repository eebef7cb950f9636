"""Storing clicks: one transaction per batch writes the raw rows, decides uniqueness, bumps link counters
and runs the click listeners (analytics rollups, webhook events) so that all of it agrees or none of it exists.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable, Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from mask.click.repository import ClickRepository
from mask.click.schemas import EnrichedClick
from mask.kit.time import as_utc

# Called inside the batch transaction with the clicks that were new (duplicates already dropped).
ClickListener = Callable[[AsyncSession, list[EnrichedClick]], Awaitable[None]]


async def record_batch(session: AsyncSession, clicks: Sequence[EnrichedClick],
                       listeners: Sequence[ClickListener] = ()) -> list[EnrichedClick]:
    """Store a batch of enriched clicks exactly once each; return the ones that were new.

    A click is unique when it is its visitor's first human click on the target that UTC day. Only human
    clicks count in `links.clicks`; bots are stored and flagged.
    """
    if not clicks:
        return []
    repository = ClickRepository(session)
    by_id = {click.click_id: click for click in clicks}  # a batch may repeat a re-delivered click
    inserted = await repository.insert_new(list(by_id.values()))
    new = [click for click in by_id.values() if click.click_id in inserted]
    humans = [click for click in new if not click.is_bot]
    keys = sorted({(c.target_id, as_utc(c.clicked_at).date(), c.visitor_hash) for c in humans})
    first = await repository.first_sightings(keys)
    unique_ids: list[str] = []
    seen: set[tuple[object, ...]] = set()
    for click in sorted(humans, key=lambda c: c.clicked_at):
        key = (click.target_id, as_utc(click.clicked_at).date(), click.visitor_hash)
        if key in first and key not in seen:
            seen.add(key)
            click.is_unique = True
            unique_ids.append(click.click_id)
    await repository.mark_unique(unique_ids)
    await repository.add_link_clicks(Counter(click.link_id for click in humans if click.link_id))
    for listener in listeners:
        await listener(session, new)
    return new

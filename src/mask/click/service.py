"""Storing clicks: one transaction per batch writes the raw rows, decides uniqueness, bumps link counters
and runs the click listeners (analytics rollups, webhook events) so that all of it agrees or none of it exists.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from mask.click.enrichment import Enricher
from mask.click.repository import ClickRepository
from mask.click.schemas import EnrichedClick, RawClick
from mask.db import session_scope
from mask.kit.time import as_utc

ENRICH_CHUNK = 25
MAX_RETRY_PAUSE = 5.0  # seconds between retries of a batch the database refuses

# Called inside the batch transaction with the clicks that were new (duplicates already dropped).
ClickListener = Callable[[AsyncSession, list[EnrichedClick]], Awaitable[None]]


async def record_batch(
    session: AsyncSession, clicks: Sequence[EnrichedClick], listeners: Sequence[ClickListener] = ()
) -> list[EnrichedClick]:
    """Store a batch of enriched clicks exactly once each; return the ones that were new.

    A click is unique when it is its visitor's first human click on the target that UTC day. Only human
    clicks count in `links.clicks`; bots, previews and prefetches are stored and flagged, and orphan hits
    (an unknown slug, a domain root, an expired link) never count in a link's numbers.
    """
    if not clicks:
        return []
    repository = ClickRepository(session)
    by_id = {click.click_id: click for click in clicks}  # a batch may repeat a re-delivered click
    existing = await repository.existing_ids(sorted(by_id))
    candidates = [click for click_id, click in by_id.items() if click_id not in existing]
    # Uniqueness is decided before the clicks are inserted, so that they are written once, flag included.
    for click in candidates:
        click.is_unique = False  # decided here, afresh if a failed batch is retried
    humans = [click for click in candidates if not click.is_bot]
    keys = sorted({(c.target_id, as_utc(c.clicked_at).date(), c.visitor_hash) for c in humans})
    first = await repository.first_sightings(keys)
    chosen: dict[tuple[str, date, str], EnrichedClick] = {}
    for click in sorted(humans, key=lambda c: c.clicked_at):
        key = (click.target_id, as_utc(click.clicked_at).date(), click.visitor_hash)
        if key in first and key not in chosen:
            chosen[key] = click
            click.is_unique = True
    inserted = await repository.insert_new(candidates)
    new = [click for click in candidates if click.click_id in inserted]
    humans = [click for click in new if not click.is_bot]
    lost = {key for key, click in chosen.items() if click.click_id not in inserted}
    if lost:  # another writer stored the click chosen unique meanwhile: the next one of its key inherits it
        await repository.mark_unique(_inherit_unique(humans, lost))
    humans = [click for click in humans if click.orphan_type is None]  # an expired link's hits are not clicks
    latest: dict[str, datetime] = {}
    for click in humans:
        if click.link_id and (click.link_id not in latest or click.clicked_at > latest[click.link_id]):
            latest[click.link_id] = click.clicked_at
    await repository.add_link_clicks(Counter(click.link_id for click in humans if click.link_id), latest)
    for listener in listeners:
        await listener(session, new)
    return new


def _inherit_unique(humans: list[EnrichedClick], lost: set[tuple[str, date, str]]) -> list[str]:
    """The earliest stored click of each key whose chosen unique click was not stored, flagged unique."""
    heirs: list[str] = []
    for click in sorted(humans, key=lambda c: c.clicked_at):
        key = (click.target_id, as_utc(click.clicked_at).date(), click.visitor_hash)
        if key in lost:
            lost.discard(key)
            click.is_unique = True
            heirs.append(click.click_id)
    return heirs


async def enrich(enricher: Enricher, raws: Sequence[RawClick]) -> list[EnrichedClick]:
    """Enrich on the event loop in small chunks rather than in a thread: a CPU-bound thread would take the GIL
    from the loop for 5 ms at a time, which every other task of the process would pay."""
    enriched: list[EnrichedClick] = []
    for start in range(0, len(raws), ENRICH_CHUNK):
        enriched.extend(enricher.enrich_all(list(raws[start : start + ENRICH_CHUNK])))
        await asyncio.sleep(0)
    return enriched


async def store_clicks(
    sessionmaker: async_sessionmaker[AsyncSession],
    enricher: Enricher,
    raws: list[RawClick],
    listeners: Sequence[ClickListener],
) -> int:
    """Enrich and store one batch in one transaction; return how many clicks were new."""
    enriched = await enrich(enricher, raws)
    async with session_scope(sessionmaker) as session:
        new = await record_batch(session, enriched, listeners)
    return len(new)

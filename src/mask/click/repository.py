from __future__ import annotations

from collections import Counter
from datetime import date
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from mask.click.models import Click, ClickVisitor
from mask.click.schemas import EnrichedClick
from mask.db_dialect import insert_ignore
from mask.link.models import Link

# SQLite allows 32,766 bound parameters per statement; a click row binds ~25.
INSERT_CHUNK = 1000


class ClickRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def insert_new(self, clicks: list[EnrichedClick]) -> set[str]:
        """Insert clicks whose click_id is new; return the click_ids actually inserted."""
        inserted: set[str] = set()
        for start in range(0, len(clicks), INSERT_CHUNK):
            chunk = clicks[start : start + INSERT_CHUNK]
            rows = [_row(click) for click in chunk]
            statement = insert_ignore(self.session, Click.__table__, rows,  # type: ignore[arg-type]
                                      conflict=["click_id"]).returning(Click.click_id)
            result = await self.session.execute(statement)
            inserted.update(result.scalars())
        return inserted

    async def first_sightings(self, keys: list[tuple[str, date, str]]) -> set[tuple[str, date, str]]:
        """Record (target, day, visitor) sightings; return those that were new."""
        new: set[tuple[str, date, str]] = set()
        for start in range(0, len(keys), INSERT_CHUNK):
            chunk = keys[start : start + INSERT_CHUNK]
            rows = [{"target_id": t, "day": d, "visitor_hash": v} for t, d, v in chunk]
            statement = insert_ignore(
                self.session, ClickVisitor.__table__, rows,  # type: ignore[arg-type]
                conflict=["target_id", "day", "visitor_hash"],
            ).returning(ClickVisitor.target_id, ClickVisitor.day, ClickVisitor.visitor_hash)
            result = await self.session.execute(statement)
            new.update((row[0], row[1], row[2]) for row in result)
        return new

    async def mark_unique(self, click_ids: list[str]) -> None:
        for start in range(0, len(click_ids), INSERT_CHUNK):
            chunk = click_ids[start : start + INSERT_CHUNK]
            await self.session.execute(update(Click).where(Click.click_id.in_(chunk)).values(is_unique=True))

    async def add_link_clicks(self, counts: Counter[str]) -> None:
        """One UPDATE per link per batch: a hot link costs one row write per flush, not one per click."""
        for link_id, count in sorted(counts.items()):  # sorted: concurrent writers lock rows in the same order
            await self.session.execute(update(Link).where(Link.id == link_id).values(clicks=Link.clicks + count))


def _row(click: EnrichedClick) -> dict[str, Any]:
    return {
        "click_id": click.click_id, "workspace_id": click.workspace_id, "link_id": click.link_id,
        "bio_page_id": click.bio_page_id, "bio_block_id": click.bio_block_id, "domain": click.domain,
        "clicked_at": click.clicked_at, "country": click.country, "city": click.city, "device": click.device,
        "browser": click.browser, "os": click.os, "referrer": click.referrer, "referrer_url": click.referrer_url,
        "utm_source": click.utm_source, "utm_medium": click.utm_medium, "utm_campaign": click.utm_campaign,
        "utm_term": click.utm_term, "utm_content": click.utm_content, "is_bot": click.is_bot,
        "visitor_hash": click.visitor_hash, "is_unique": False,
    }

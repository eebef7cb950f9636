"""The one interface analytics reads and writes clicks through.

`SqlClickStore` (mask.analytics.repository) keeps hourly/daily rollups next to the raw clicks in SQLite or
PostgreSQL. A columnar engine (ClickHouse) can later implement the same protocol over the raw clicks alone:
`record` would insert them there, and every query method has a plain GROUP BY equivalent.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from mask.analytics.query import ClickQuery, Counts, Row
from mask.click.schemas import EnrichedClick


class ClickStore(Protocol):
    async def record(self, clicks: Sequence[EnrichedClick]) -> None:
        """Take newly stored clicks into account (called inside the click batch's transaction)."""

    async def totals(self, query: ClickQuery) -> Counts:
        """Clicks and unique clicks matching the query."""

    async def timeseries(self, query: ClickQuery, starts: Sequence[datetime]) -> list[Counts]:
        """Counts per bucket; bucket i is [starts[i], starts[i+1]) (the last one ends at query.end)."""

    async def breakdown(self, query: ClickQuery, columns: tuple[str, ...], *, limit: int) -> list[Row]:
        """Top `limit` groups of `columns` (dimensions, targets or "domain"), most clicks first.

        Rows without a target (a bio-page click in a link breakdown) are left out; unknown dimension
        values are one row with the key None.
        """

    async def tag_breakdown(self, query: ClickQuery, *, limit: int) -> list[Row]:
        """Top tags by the clicks of the links that carry them (a link with two tags counts for both)."""

    async def first_click_at(self, query: ClickQuery) -> datetime | None:
        """About when the first click matching the query's link filter (or of the workspace) happened."""

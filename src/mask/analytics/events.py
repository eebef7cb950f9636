"""Click events (GET /v1/analytics/events): the clicks themselves, newest first, as pages or as one export.

An export streams every event of the question at constant memory: it reads a page, writes it, and reads the
next one in a new short transaction, so no pooled connection waits on a slow reader and no result set is held.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from mask.analytics import service as analytics_service
from mask.analytics.export import csv_cell
from mask.analytics.query import ClickQuery
from mask.analytics.repository import ClickEventRepository
from mask.analytics.schemas import EVENT_FIELDS, ClickEventPage, EventsParams
from mask.kit.pagination import decode_cursor, encode_cursor
from mask.kit.time import isoformat_z

EXPORT_BATCH = 1000  # rows per read of an export: one short transaction each


def event_of(row: RowMapping) -> dict[str, Any]:
    """A stored click as the API shows it (the `link.clicked` webhook's click: no visitor hash, no row id)."""
    event = dict(row)
    event["clicked_at"] = isoformat_z(row["clicked_at"])
    return event


async def page(session: AsyncSession, *, workspace_id: str, params: EventsParams) -> ClickEventPage:
    """One page of the question's events, newest first, and the cursor of the next one."""
    query = await analytics_service.resolve_query(session, workspace_id=workspace_id, params=params)
    before = decode_cursor(params.cursor) if params.cursor is not None else None
    rows = await ClickEventRepository(session).page(query, EVENT_FIELDS, limit=params.limit + 1, before=before)
    has_more = len(rows) > params.limit
    rows = rows[: params.limit]
    cursor = encode_cursor(rows[-1]["clicked_at"], rows[-1]["click_id"]) if has_more else None
    return ClickEventPage.model_validate(
        {"data": [event_of(row) for row in rows], "has_more": has_more, "next_cursor": cursor}
    )


async def export(
    sessionmaker: async_sessionmaker[AsyncSession], query: ClickQuery, *, format: str
) -> AsyncIterator[bytes]:
    """Every event of `query`, newest first, as CSV (a header line first) or NDJSON, a batch at a time."""
    if format == "csv":
        yield _csv_lines([list(EVENT_FIELDS)])
    before: tuple[datetime, str] | None = None
    while True:
        async with sessionmaker() as session:
            rows = await ClickEventRepository(session).page(query, EVENT_FIELDS, limit=EXPORT_BATCH, before=before)
        if not rows:
            return
        events = [event_of(row) for row in rows]
        if format == "csv":
            yield _csv_lines([[csv_cell(event[name]) for name in EVENT_FIELDS] for event in events])
        else:
            yield "".join(json.dumps(event, ensure_ascii=False) + "\n" for event in events).encode()
        if len(rows) < EXPORT_BATCH:
            return
        before = (rows[-1]["clicked_at"], rows[-1]["click_id"])


def _csv_lines(rows: Sequence[Sequence[Any]]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue().encode()

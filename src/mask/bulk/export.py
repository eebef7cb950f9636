"""Exports: every link of a workspace that a list filter selects, as CSV or NDJSON, streamed page by page.

Each page of `PAGE` links is read in a short session of its own (keyset pagination, newest first), written out
and dropped: memory stays flat however many links there are, and no transaction stays open while a slow client
reads. The CSV has the columns MASK's CSV import reads back (mask.imports.formats `mask-csv`). A text cell that
a spreadsheet would run as a formula (it starts with `=`, `+`, `-`, `@`, a tab or a carriage return) is
prefixed with `'`, as is one that starts with `'` itself, so that the import's un-escaping is exact.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from mask.db import session_scope
from mask.kit.time import isoformat_z
from mask.link import service as link_service
from mask.link.service import LinkView, ListQuery

PAGE = 1000
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "'")
COLUMNS = (
    "id",
    "short_url",
    "domain",
    "slug",
    "url",
    "title",
    "notes",
    "external_id",
    "tags",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "utm_term",
    "utm_content",
    "expires_at",
    "expired_url",
    "archived",
    "disabled",
    "clicks",
    "created_at",
)
TEXT_COLUMNS = frozenset(COLUMNS) - {"archived", "disabled", "clicks", "created_at", "expires_at", "id"}


def escape_cell(value: str) -> str:
    """A cell a spreadsheet shows as text, never evaluates."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def unescape_cell(value: str) -> str:
    """The value `escape_cell` was given."""
    return value[1:] if value.startswith("'") else value


def join_tags(tags: list[str]) -> str:
    """Comma-separated; a JSON array when a tag has a comma (or a quote, or starts with `[`) in it."""
    if any("," in tag or '"' in tag or tag.startswith("[") for tag in tags):
        return json.dumps(tags, ensure_ascii=False)
    return ",".join(tags)


def csv_row(view: LinkView) -> dict[str, str]:
    schema = link_service.to_schema(view)
    row: dict[str, Any] = schema.model_dump()
    values: dict[str, str] = {}
    for column in COLUMNS:
        value = row[column]
        if column == "tags":
            value = join_tags(value)
        if value is None:
            values[column] = ""
        elif isinstance(value, bool):
            values[column] = "true" if value else "false"
        elif column in ("expires_at", "created_at"):
            values[column] = isoformat_z(value)
        else:
            values[column] = str(value)
        if column in TEXT_COLUMNS:
            values[column] = escape_cell(values[column])
    return values


def _csv_text(rows: list[dict[str, str]], *, header: bool) -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\r\n")
    if header:
        writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def _ndjson(views: list[LinkView]) -> bytes:
    return b"".join(
        json.dumps(link_service.to_schema(view).model_dump(mode="json")).encode()
        + b"\n"  # ASCII: no U+2028 to split on
        for view in views
    )


async def first_page(
    session: AsyncSession, *, workspace_id: str, query: ListQuery
) -> tuple[list[LinkView], str | None]:
    """The first page, read before the answer starts: a bad filter is still a 422, not a broken stream."""
    return await link_service.list_page(session, workspace_id=workspace_id, limit=PAGE, cursor=None, query=query)


async def stream(
    sessionmaker: async_sessionmaker[AsyncSession],
    *,
    workspace_id: str,
    query: ListQuery,
    format: str,
    first: tuple[list[LinkView], str | None],
) -> AsyncIterator[bytes]:
    """The export's bytes: a UTF-8 BOM-less CSV with a header line, or one JSON link per line."""
    views, cursor = first
    header = True
    while True:
        if format == "csv":
            yield _csv_text([csv_row(view) for view in views], header=header)
        else:
            yield _ndjson(views)
        header = False
        if cursor is None:
            return
        async with session_scope(sessionmaker) as session:
            views, cursor = await link_service.list_page(
                session, workspace_id=workspace_id, limit=PAGE, cursor=cursor, query=query
            )

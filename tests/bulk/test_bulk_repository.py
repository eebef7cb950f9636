"""The driver-level bulk inserts (COPY on PostgreSQL, executemany on SQLite) store what SQLAlchemy's INSERT would,
and a broken constraint is an IntegrityError that a savepoint recovers from."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import event, select, text
from sqlalchemy.exc import IntegrityError

from mask.app import MaskApp
from mask.bulk.repository import LINKS, BulkRepository
from mask.db import session_scope
from mask.kit.ids import new_id
from mask.models.link import Link, LinkTitleFetch
from mask.models.tag import link_tags
from mask.tag.repository import TagRepository
from tests.conftest import Tenant

WHEN = datetime(2026, 12, 6, 20, 15, 1, 250000, tzinfo=UTC)


def _row(workspace_id: str, slug: str, **changes: Any) -> dict[str, Any]:
    return {
        "id": new_id("lnk"),
        "workspace_id": workspace_id,
        "domain": "localhost:8000",
        "slug": slug,
        "url": f"https://example.com/{slug}",
        "title": None,
        "archived": False,
        "disabled": True,
        "clicks": 0,
        "expires_at": None,
        "created_at": WHEN,
        "updated_at": WHEN,
    } | changes


async def test_rows_stored_by_the_driver_read_back_as_sqlalchemy_stores_them(app: MaskApp, tenant: Tenant) -> None:
    fast = [_row(tenant.workspace_id, f"fast{n}", title=f"Title {n} ✓", expires_at=WHEN) for n in range(3)]
    slow = [_row(tenant.workspace_id, f"slow{n}", title=f"Title {n} ✓", expires_at=WHEN) for n in range(3)]
    through_sqlalchemy: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        through_sqlalchemy.append(statement)

    async with session_scope(app.context.sessionmaker) as session:
        repository = BulkRepository(session)
        tag_ids = await TagRepository(session).ensure(tenant.workspace_id, ["a", "b"])
        event.listen(app.context.engine.sync_engine, "before_cursor_execute", seen)
        try:
            async with session.begin_nested():  # as the bulk create writes: in a transaction, in a savepoint
                await repository.insert_links(fast)
                await repository.insert_link_tags(
                    [{"link_id": row["id"], "tag_id": tag} for row in fast for tag in tag_ids]
                )
        finally:
            event.remove(app.context.engine.sync_engine, "before_cursor_execute", seen)
        await session.execute(LINKS.insert(), slow)  # SQLAlchemy's own INSERT, for comparison
    assert not [statement for statement in through_sqlalchemy if "INSERT" in statement]  # the driver's way in
    columns = [column for column in LINKS.c if column.key not in ("id", "slug", "url")]
    async with session_scope(app.context.sessionmaker) as session:
        stored = {
            row.slug: row
            for row in (await session.execute(select(LINKS.c.slug, *columns).order_by(LINKS.c.slug))).all()
        }
        raw_rules = (await session.execute(text("SELECT rules IS NULL FROM links WHERE slug = 'fast0'"))).scalar_one()
        tagged = (await session.execute(select(link_tags.c.link_id))).scalars().all()
    for n in range(3):
        assert stored[f"fast{n}"][1:] == stored[f"slow{n}"][1:]  # defaults, times, flags, text: all alike
    assert stored["fast0"].expires_at == WHEN and stored["fast0"].redirect_status == 302
    assert raw_rules in (True, 1)  # a column left out is SQL NULL, not JSON null
    assert sorted(tagged) == sorted(row["id"] for row in fast for _tag in tag_ids)


async def test_a_taken_slug_is_an_integrity_error_and_the_savepoint_recovers(app: MaskApp, tenant: Tenant) -> None:
    async with session_scope(app.context.sessionmaker) as session:
        await BulkRepository(session).insert_links([_row(tenant.workspace_id, "taken")])
    rows = [_row(tenant.workspace_id, "free1"), _row(tenant.workspace_id, "taken"), _row(tenant.workspace_id, "free2")]
    async with session_scope(app.context.sessionmaker) as session:
        repository = BulkRepository(session)
        with pytest.raises(IntegrityError):
            async with session.begin_nested():
                await repository.insert_links(rows)
        async with session.begin_nested():
            await repository.insert_links([rows[0], rows[2]])
    async with session_scope(app.context.sessionmaker) as session:
        slugs = (await session.execute(select(Link.slug).order_by(Link.slug))).scalars().all()
    assert slugs == ["free1", "free2", "taken"]


async def test_title_fetches_go_in_with_their_times(app: MaskApp, tenant: Tenant) -> None:
    row = _row(tenant.workspace_id, "titled")
    async with session_scope(app.context.sessionmaker) as session:
        repository = BulkRepository(session)
        async with session.begin_nested():
            await repository.insert_links([row])
            fetch = {
                "link_id": row["id"],
                "url": row["url"],
                "attempts": 0,
                "next_attempt_at": WHEN,
                "created_at": WHEN,
            }
            await repository.insert_title_fetches([fetch])
    async with session_scope(app.context.sessionmaker) as session:
        stored = (await session.execute(select(LinkTitleFetch))).scalar_one()
    assert (stored.link_id, stored.url, stored.attempts, stored.last_error) == (row["id"], row["url"], 0, None)
    assert stored.next_attempt_at == WHEN and stored.created_at == WHEN

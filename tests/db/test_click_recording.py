from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from mask.app import MaskApp
from mask.click import service as click_service
from mask.click.schemas import EnrichedClick
from mask.db import session_scope
from mask.kit.ids import new_id
from mask.models.click import Click
from mask.models.link import Link
from tests.conftest import Tenant


async def _link(app: MaskApp, tenant: Tenant) -> str:
    async with session_scope(app.context.sessionmaker) as session:
        link = Link(
            id=new_id("lnk"),
            workspace_id=tenant.workspace_id,
            domain="localhost:8000",
            slug="abc",
            url="https://example.com/",
        )
        session.add(link)
    return link.id


def _click(tenant: Tenant, link_id: str, visitor: str, at: datetime, *, bot: bool = False) -> EnrichedClick:
    return EnrichedClick(
        click_id=new_id("clk"),
        clicked_at=at,
        workspace_id=tenant.workspace_id,
        domain="localhost:8000",
        visitor_hash=visitor,
        link_id=link_id,
        is_bot=bot,
    )


async def test_batch_is_stored_once_counts_humans_and_marks_first_daily_visit_unique(
    app: MaskApp, tenant: Tenant
) -> None:
    link_id = await _link(app, tenant)
    day = datetime(2026, 3, 1, 10, tzinfo=UTC)
    clicks = [
        _click(tenant, link_id, "v1", day),
        _click(tenant, link_id, "v1", day + timedelta(minutes=5)),
        _click(tenant, link_id, "v2", day),
        _click(tenant, link_id, "v1", day + timedelta(days=1)),
        _click(tenant, link_id, "bot", day, bot=True),
    ]
    seen: list[int] = []

    async def listener(_session: object, new: list[EnrichedClick]) -> None:
        seen.append(len(new))

    async with session_scope(app.context.sessionmaker) as session:
        await click_service.record_batch(session, clicks, [listener])
    async with session_scope(app.context.sessionmaker) as session:  # a re-delivery changes nothing
        await click_service.record_batch(session, clicks[:2], [listener])

    async with session_scope(app.context.sessionmaker) as session:
        total = await session.scalar(select(func.count()).select_from(Click))
        unique = await session.scalar(select(func.count()).select_from(Click).where(Click.is_unique))
        counter = await session.scalar(select(Link.clicks).where(Link.id == link_id))
    assert (total, unique, counter) == (5, 3, 4)
    assert seen == [5, 0]

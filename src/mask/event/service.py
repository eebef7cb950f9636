"""Record what happened, in the caller's transaction (the outbox). Webhook delivery picks events up later."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from mask.kit.ids import new_id
from mask.kit.time import utcnow
from mask.models.event import Event
from mask.signals import EventsRecorded, emit


async def record(session: AsyncSession, *, workspace_id: str, type: str, data: dict[str, Any]) -> Event:
    """Add an event row; it commits (or not) with the change it describes."""
    event = Event(id=new_id("evt"), workspace_id=workspace_id, type=type, data=data, created_at=utcnow())
    session.add(event)
    emit(session, EventsRecorded())
    return event

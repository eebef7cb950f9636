"""Record what happened, in the caller's transaction (the outbox). Webhook delivery picks events up later."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from mask import audit
from mask.kit.ids import new_id
from mask.kit.time import utcnow
from mask.models.event import Event
from mask.signals import EventsRecorded, emit

NOT_AUDITED = frozenset({"link.clicked", "link.limit_reached"})  # visits (and what they lead to), not changes
SUMMARY_FIELDS = ("short_url", "url", "domain", "handle", "title")


def _summary(data: dict[str, Any]) -> dict[str, Any]:
    """What the audit entry keeps of the event: enough to recognise the thing, not a copy of it."""
    return {name: data[name] for name in SUMMARY_FIELDS if isinstance(data.get(name), str)}


async def record(session: AsyncSession, *, workspace_id: str, type: str, data: dict[str, Any]) -> Event:
    """Add an event row; it commits (or not) with the change it describes."""
    event = Event(id=new_id("evt"), workspace_id=workspace_id, type=type, data=data, created_at=utcnow())
    session.add(event)
    if type not in NOT_AUDITED:  # a change someone made: the audit log says who
        kind = type.split(".", 1)[0]
        target = data.get("id")
        audit.record(
            session,
            workspace_id=workspace_id,
            action=type,
            target_type=kind,
            target_id=target if isinstance(target, str) else None,
            details=_summary(data),
        )
    emit(session, EventsRecorded())
    return event

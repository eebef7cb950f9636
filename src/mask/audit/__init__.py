"""The audit log's writing side: who is acting (an `Actor`, carried by the unit of work's session) and `record`,
which adds an entry in the caller's transaction, like the webhook outbox: an entry exists if and only if the
change committed. Reading it is mask.audit_log (the API) and the dashboard's page."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy.ext.asyncio import AsyncSession

from mask.kit.ids import new_id
from mask.kit.time import utcnow
from mask.models.audit import AuditEntry

SESSION_KEY = "mask.audit.actor"


@dataclass(frozen=True)
class Actor:
    """Who acts in this unit of work: a member (dashboard), an API key, or the system (the CLI, a job)."""

    kind: Literal["user", "api_key", "system"]
    id: str | None
    label: str
    ip_prefix: str | None = None
    user_id: str | None = None  # the member behind it: the user, or the member who made the key


SYSTEM = Actor(kind="system", id=None, label="system")


def set_actor(session: AsyncSession, actor: Actor) -> None:
    """Say who acts in this session's unit of work (the API's authenticator, the dashboard's view wrapper)."""
    session.info[SESSION_KEY] = actor


def actor_of(session: AsyncSession) -> Actor:
    actor = session.info.get(SESSION_KEY)
    return actor if isinstance(actor, Actor) else SYSTEM


def record(
    session: AsyncSession,
    *,
    workspace_id: str,
    action: str,
    target_type: str | None = None,
    target_id: str | None = None,
    details: dict[str, Any] | None = None,
    actor: Actor | None = None,
) -> AuditEntry:
    """Add an audit entry for a change in the caller's transaction (it commits, or not, with the change)."""
    who = actor or actor_of(session)
    entry = AuditEntry(
        id=new_id("aud"),
        workspace_id=workspace_id,
        at=utcnow(),
        actor_type=who.kind,
        actor_id=who.id,
        actor_label=who.label[:254],
        action=action,
        target_type=target_type,
        target_id=target_id,
        ip_prefix=who.ip_prefix,
        details=details or {},
    )
    session.add(entry)
    return entry

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, and_, bindparam, delete, func, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from mask.db import keyset
from mask.db_dialect import insert_ignore
from mask.models.event import Event
from mask.models.link import Link
from mask.models.webhook import WebhookAttempt, WebhookDelivery, WebhookEndpoint

DELETE_CHUNK = 1000


@dataclass(frozen=True)
class ClaimedJob:
    """Everything one attempt needs, read once when the delivery is claimed."""

    delivery_id: str
    lease_id: str
    attempt_number: int
    endpoint_id: str
    url: str
    secrets: tuple[str, ...]
    event: Event


class WebhookRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # Endpoints

    async def get(self, workspace_id: str, endpoint_id: str) -> WebhookEndpoint | None:
        result = await self.session.execute(
            select(WebhookEndpoint).where(
                WebhookEndpoint.id == endpoint_id, WebhookEndpoint.workspace_id == workspace_id
            )
        )
        return result.scalar_one_or_none()

    async def lock(self, workspace_id: str, endpoint_id: str) -> bool:
        """Lock the endpoint's row until this transaction ends; False if the workspace has no such endpoint.

        A no-op UPDATE rather than SELECT … FOR UPDATE, which SQLite lacks: there it takes the database's write
        lock. A concurrent change or delete of the endpoint waits for this transaction, then sees its outcome (a
        PATCH racing a DELETE answers 404, two DELETEs delete once)."""
        statement = (
            update(WebhookEndpoint)
            .where(WebhookEndpoint.id == endpoint_id, WebhookEndpoint.workspace_id == workspace_id)
            .values(id=WebhookEndpoint.id)
            .execution_options(synchronize_session=False)
        )
        return bool((await self.session.execute(statement)).rowcount)  # type: ignore[attr-defined]

    async def list_page(
        self, workspace_id: str, *, limit: int, after: tuple[datetime, str] | None
    ) -> list[WebhookEndpoint]:
        query = select(WebhookEndpoint).where(WebhookEndpoint.workspace_id == workspace_id)
        if after is not None:
            query = query.where(tuple_(WebhookEndpoint.created_at, WebhookEndpoint.id) < keyset(after))
        query = query.order_by(WebhookEndpoint.created_at.desc(), WebhookEndpoint.id.desc()).limit(limit)
        return list((await self.session.execute(query)).scalars())

    def add(self, endpoint: WebhookEndpoint) -> None:
        self.session.add(endpoint)

    async def delete(self, endpoint: WebhookEndpoint) -> None:
        await self.session.delete(endpoint)

    async def enabled_endpoints(self, workspace_ids: Iterable[str]) -> list[WebhookEndpoint]:
        ids = sorted(set(workspace_ids))
        if not ids:
            return []
        result = await self.session.execute(
            select(WebhookEndpoint).where(WebhookEndpoint.workspace_id.in_(ids), WebhookEndpoint.enabled)
        )
        return list(result.scalars())

    async def subscriptions(self, workspace_ids: Iterable[str]) -> dict[str, set[str]]:
        """Event types each workspace's enabled endpoints subscribe to (workspaces with none are absent)."""
        ids = sorted(set(workspace_ids))
        found: dict[str, set[str]] = defaultdict(set)
        if not ids:
            return found
        result = await self.session.execute(
            select(WebhookEndpoint.workspace_id, WebhookEndpoint.events).where(
                WebhookEndpoint.workspace_id.in_(ids), WebhookEndpoint.enabled
            )
        )
        for workspace_id, events in result:
            found[workspace_id].update(events)
        return found

    async def links(self, link_ids: Iterable[str]) -> list[Link]:
        ids = sorted(set(link_ids))
        if not ids:
            return []
        return list((await self.session.execute(select(Link).where(Link.id.in_(ids)))).scalars())

    # Deliveries, as the API shows them

    async def get_delivery(self, endpoint_id: str, delivery_id: str) -> WebhookDelivery | None:
        result = await self.session.execute(
            select(WebhookDelivery).where(WebhookDelivery.id == delivery_id, WebhookDelivery.endpoint_id == endpoint_id)
        )
        return result.scalar_one_or_none()

    async def list_deliveries(
        self,
        endpoint_id: str,
        *,
        limit: int,
        after: tuple[datetime, str] | None,
        status: str | None,
        event_type: str | None,
    ) -> list[WebhookDelivery]:
        query = select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint_id)
        if status is not None:
            query = query.where(WebhookDelivery.status == status)
        if event_type is not None:
            query = query.where(WebhookDelivery.event_type == event_type)
        if after is not None:
            query = query.where(tuple_(WebhookDelivery.created_at, WebhookDelivery.id) < keyset(after))
        query = query.order_by(WebhookDelivery.created_at.desc(), WebhookDelivery.id.desc()).limit(limit)
        return list((await self.session.execute(query)).scalars())

    async def attempts_for(self, delivery_ids: Iterable[str]) -> dict[str, list[WebhookAttempt]]:
        ids = list(delivery_ids)
        found: dict[str, list[WebhookAttempt]] = defaultdict(list)
        if not ids:
            return found
        result = await self.session.execute(
            select(WebhookAttempt)
            .where(WebhookAttempt.delivery_id.in_(ids))
            .order_by(WebhookAttempt.delivery_id, WebhookAttempt.number, WebhookAttempt.attempted_at)
        )
        for attempt in result.scalars():
            found[attempt.delivery_id].append(attempt)
        return found

    async def get_event(self, event_id: str) -> Event | None:
        return await self.session.get(Event, event_id)

    def add_event(self, event: Event) -> None:
        self.session.add(event)

    def add_delivery(self, delivery: WebhookDelivery) -> None:
        self.session.add(delivery)

    # Fan-out: outbox events → one delivery per subscribed endpoint

    async def undispatched_events(self, limit: int) -> list[Event]:
        query = (
            select(Event)
            .where(Event.dispatched_at.is_(None))
            .order_by(Event.created_at, Event.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return list((await self.session.execute(query)).scalars())

    async def insert_deliveries(self, rows: list[dict[str, Any]]) -> None:
        for start in range(0, len(rows), DELETE_CHUNK):
            statement = insert_ignore(
                self.session,
                WebhookDelivery.__table__,  # type: ignore[arg-type]
                rows[start : start + DELETE_CHUNK],
                conflict=["endpoint_id", "event_id"],
            )
            await self.session.execute(statement)

    async def mark_dispatched(self, event_ids: Sequence[str], at: datetime) -> None:
        for start in range(0, len(event_ids), DELETE_CHUNK):
            chunk = list(event_ids[start : start + DELETE_CHUNK])
            await self.session.execute(update(Event).where(Event.id.in_(chunk)).values(dispatched_at=at))

    # Claiming due deliveries

    async def due_deliveries(
        self, now: datetime, *, limit: int, exclude_endpoints: Iterable[str]
    ) -> list[tuple[str, str]]:
        """(delivery id, endpoint id) of pending deliveries due now on enabled endpoints, oldest due first.

        On PostgreSQL the rows are locked, skipping rows another dispatcher is claiming right now.
        """
        query = (
            select(WebhookDelivery.id, WebhookDelivery.endpoint_id)
            .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
            .where(
                WebhookDelivery.status == "pending",
                WebhookDelivery.next_attempt_at <= now,
                WebhookEndpoint.enabled,
            )
        )
        excluded = sorted(set(exclude_endpoints))
        if excluded:
            query = query.where(WebhookDelivery.endpoint_id.not_in(excluded))
        query = (
            query.order_by(WebhookDelivery.next_attempt_at)
            .limit(limit)
            .with_for_update(skip_locked=True, of=WebhookDelivery)
        )
        return [(row[0], row[1]) for row in await self.session.execute(query)]

    async def lease(self, delivery_ids: list[str], *, lease_id: str, now: datetime, until: datetime) -> list[str]:
        """Take the deliveries still due; the others were claimed meanwhile (SQLite, another process)."""
        if not delivery_ids:
            return []
        result = await self.session.execute(
            update(WebhookDelivery)
            .where(
                WebhookDelivery.id.in_(delivery_ids),
                WebhookDelivery.status == "pending",
                WebhookDelivery.next_attempt_at <= now,
            )
            .values(lease_id=lease_id, next_attempt_at=until)
            .returning(WebhookDelivery.id)
        )
        return list(result.scalars())

    async def claimed_jobs(self, lease_id: str, now: datetime) -> list[ClaimedJob]:
        result = await self.session.execute(
            select(WebhookDelivery, WebhookEndpoint, Event)
            .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
            .join(Event, Event.id == WebhookDelivery.event_id)
            .where(WebhookDelivery.lease_id == lease_id)
        )
        jobs = []
        for delivery, endpoint, event in result:
            secrets = [endpoint.secret]
            if (
                endpoint.previous_secret
                and endpoint.previous_secret_expires_at is not None
                and endpoint.previous_secret_expires_at > now
            ):
                secrets.append(endpoint.previous_secret)
            jobs.append(
                ClaimedJob(
                    delivery_id=delivery.id,
                    lease_id=lease_id,
                    attempt_number=delivery.attempt_count + 1,
                    endpoint_id=endpoint.id,
                    url=endpoint.url,
                    secrets=tuple(secrets),
                    event=event,
                )
            )
        return jobs

    # Outcomes

    async def existing_deliveries(self, delivery_ids: Iterable[str]) -> set[str]:
        ids = sorted(set(delivery_ids))
        if not ids:
            return set()
        result = await self.session.execute(select(WebhookDelivery.id).where(WebhookDelivery.id.in_(ids)))
        return set(result.scalars())

    def add_attempt(self, attempt: WebhookAttempt) -> None:
        self.session.add(attempt)

    async def finish_attempts(self, rows: list[dict[str, Any]]) -> None:
        """Apply attempt outcomes (one executemany), each only where this dispatcher still holds the lease.

        Keys: id, lease_id, status, attempt_count, next_attempt_at, last_status_code, last_attempt_at,
        completed_at. A row whose lease was lost (taken over, retried by hand) is left as it is.
        """
        if not rows:
            return
        table = cast(Table, WebhookDelivery.__table__)
        columns = ("status", "attempt_count", "next_attempt_at", "last_status_code", "last_attempt_at", "completed_at")
        statement = (
            update(table)
            .where(table.c.id == bindparam("b_id"), table.c.lease_id == bindparam("b_lease_id"))
            .values(lease_id=None, **{name: bindparam(f"b_{name}", type_=table.c[name].type) for name in columns})
        )
        await self.session.execute(statement, [{f"b_{key}": value for key, value in row.items()} for row in rows])

    async def endpoint_succeeded(
        self,
        endpoint_id: str,
        *,
        failures_after: int,
        failing_since: datetime | None,
        last_success_at: datetime,
        last_failure_at: datetime | None,
    ) -> None:
        values: dict[str, Any] = {
            "consecutive_failures": failures_after,
            "failing_since": failing_since,
            "last_success_at": last_success_at,
        }
        if last_failure_at is not None:
            values["last_failure_at"] = last_failure_at
        await self.session.execute(update(WebhookEndpoint).where(WebhookEndpoint.id == endpoint_id).values(**values))

    async def endpoint_failed(
        self, endpoint_id: str, *, failures: int, first_failure_at: datetime, last_failure_at: datetime
    ) -> None:
        await self.session.execute(
            update(WebhookEndpoint)
            .where(WebhookEndpoint.id == endpoint_id)
            .values(
                consecutive_failures=WebhookEndpoint.consecutive_failures + failures,
                failing_since=func.coalesce(WebhookEndpoint.failing_since, first_failure_at),
                last_failure_at=last_failure_at,
            )
        )

    async def disable_if_failing(
        self, endpoint_id: str, *, min_failures: int, failing_before: datetime, now: datetime
    ) -> bool:
        result = await self.session.execute(
            update(WebhookEndpoint)
            .where(
                WebhookEndpoint.id == endpoint_id,
                WebhookEndpoint.enabled,
                WebhookEndpoint.consecutive_failures >= min_failures,
                WebhookEndpoint.failing_since <= failing_before,
            )
            .values(enabled=False, disabled_reason="failing", disabled_at=now, updated_at=now)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def release(self, delivery_id: str, lease_id: str, now: datetime) -> None:
        await self.session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.id == delivery_id, WebhookDelivery.lease_id == lease_id)
            .values(lease_id=None, next_attempt_at=now)
        )

    # Retention

    async def prune_deliveries(self, before: datetime) -> int:
        """Delete finished deliveries (and their attempts) completed before `before`; one chunk."""
        ids = (
            select(WebhookDelivery.id)
            .where(and_(WebhookDelivery.status != "pending", WebhookDelivery.completed_at < before))
            .limit(DELETE_CHUNK)
        )
        chosen = list((await self.session.execute(ids)).scalars())
        if chosen:
            await self.session.execute(delete(WebhookAttempt).where(WebhookAttempt.delivery_id.in_(chosen)))
            await self.session.execute(delete(WebhookDelivery).where(WebhookDelivery.id.in_(chosen)))
        return len(chosen)

    async def prune_events(self, before: datetime) -> int:
        """Delete outbox events dispatched before `before` (their deliveries go with them); one chunk."""
        ids = select(Event.id).where(Event.dispatched_at < before).limit(DELETE_CHUNK)
        chosen = list((await self.session.execute(ids)).scalars())
        if chosen:
            doomed = select(WebhookDelivery.id).where(WebhookDelivery.event_id.in_(chosen))
            await self.session.execute(delete(WebhookAttempt).where(WebhookAttempt.delivery_id.in_(doomed)))
            await self.session.execute(delete(WebhookDelivery).where(WebhookDelivery.event_id.in_(chosen)))
            await self.session.execute(delete(Event).where(Event.id.in_(chosen)))
        return len(chosen)

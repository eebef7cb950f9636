"""`link.clicked` events: written in each click batch's transaction for workspaces that subscribe to them."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from mask.click.schemas import EnrichedClick
from mask.event import service as event_service
from mask.link import service as link_service
from mask.webhook.repository import WebhookRepository

LINK_CLICKED = "link.clicked"
SUBSCRIPTION_TTL = 5.0  # seconds a "does this workspace want link.clicked?" answer is reused
SUBSCRIPTION_CACHE_SIZE = 50_000


# link.clicked


async def record_link_clicks(session: AsyncSession, *, clicks: Sequence[EnrichedClick]) -> int:
    """Write a `link.clicked` event per click (the link as the API shows it, the enriched click)."""
    link_ids = {click.link_id for click in clicks if click.link_id}
    links = {link.id: link for link in await WebhookRepository(session).links(link_ids)}
    schemas = {
        view.link.id: link_service.to_schema(view).model_dump(mode="json")
        for view in await link_service.views(session, list(links.values()))
    }
    recorded = 0
    for click in clicks:
        link = links.get(click.link_id or "")
        if link is None or link.workspace_id != click.workspace_id or click.orphan_type is not None:
            continue  # deleted since, or not a link click (an expired link's hit is an orphan, not a click)
        await event_service.record(
            session,
            workspace_id=click.workspace_id,
            type=LINK_CLICKED,
            data={"link": schemas[link.id], "click": click.public_dict()},
        )
        recorded += 1
    return recorded


async def workspaces_subscribed(session: AsyncSession, *, workspace_ids: Sequence[str], event_type: str) -> set[str]:
    """Which of these workspaces have an enabled endpoint subscribed to `event_type`."""
    subscriptions = await WebhookRepository(session).subscriptions(workspace_ids)
    return {workspace_id for workspace_id, types in subscriptions.items() if event_type in types}


@dataclass
class LinkClickedRecorder:
    """A click listener: writes `link.clicked` events, in the click batch's transaction, for workspaces that
    have an enabled endpoint subscribed to it. Whether they do is cached briefly, so a batch costs at most one
    query for the workspaces not seen lately, never one per click; a change made in this process clears it."""

    ttl: float = SUBSCRIPTION_TTL
    _answers: dict[str, tuple[float, bool]] = field(default_factory=dict)

    def forget(self, workspace_id: str | None = None) -> None:
        if workspace_id is None:
            self._answers.clear()
        else:
            self._answers.pop(workspace_id, None)

    async def __call__(self, session: AsyncSession, clicks: list[EnrichedClick]) -> None:
        link_clicks = [click for click in clicks if click.link_id]
        if not link_clicks:
            return
        now = time.monotonic()
        workspaces = {click.workspace_id for click in link_clicks}
        unknown = [w for w in workspaces if w not in self._answers or self._answers[w][0] <= now]
        if unknown:
            if len(self._answers) > SUBSCRIPTION_CACHE_SIZE:
                self._answers = {w: answer for w, answer in self._answers.items() if answer[0] > now}
            subscribed = await workspaces_subscribed(session, workspace_ids=unknown, event_type=LINK_CLICKED)
            for workspace_id in unknown:
                self._answers[workspace_id] = (now + self.ttl, workspace_id in subscribed)
        wanted = [click for click in link_clicks if self._answers[click.workspace_id][1]]
        if wanted:
            await record_link_clicks(session, clicks=wanted)

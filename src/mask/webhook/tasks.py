"""Wiring webhooks into a MASK process: the dispatcher as a background service, and `link.clicked` events."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from mask.click.schemas import EnrichedClick
from mask.context import AppContext, BackgroundService
from mask.db import AfterCommit, after_commit
from mask.webhook import service as webhook_service
from mask.webhook.dispatcher import WebhookDispatcher

RUNTIME_KEY = "webhooks"
SUBSCRIPTION_TTL = 5.0  # seconds a "does this workspace want link.clicked?" answer is reused
SUBSCRIPTION_CACHE_SIZE = 50_000


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
            subscribed = await webhook_service.workspaces_subscribed(
                session, workspace_ids=unknown, event_type=webhook_service.LINK_CLICKED
            )
            for workspace_id in unknown:
                self._answers[workspace_id] = (now + self.ttl, workspace_id in subscribed)
        wanted = [click for click in link_clicks if self._answers[click.workspace_id][1]]
        if wanted:
            await webhook_service.record_link_clicks(session, clicks=wanted)


@dataclass
class WebhookRuntime:
    dispatcher: WebhookDispatcher
    clicks: LinkClickedRecorder

    def on_change(self, workspace_id: str) -> AfterCommit:
        async def changed() -> None:
            self.clicks.forget(workspace_id)
            self.dispatcher.wake()

        return changed


def install(context: AppContext) -> WebhookRuntime:
    """Register the dispatcher (runs in `mask worker`: the one `mask serve` starts, or your own) and the click
    listener."""
    runtime = WebhookRuntime(dispatcher=WebhookDispatcher(context), clicks=LinkClickedRecorder())
    context.extras[RUNTIME_KEY] = runtime
    context.background.append(
        BackgroundService("webhook dispatcher", runtime.dispatcher.start, runtime.dispatcher.stop)
    )
    context.click_listeners.append(runtime.clicks)
    return runtime


def runtime_of(context: AppContext) -> WebhookRuntime | None:
    runtime = context.extras.get(RUNTIME_KEY)
    return runtime if isinstance(runtime, WebhookRuntime) else None


def after_change(session: AsyncSession, context: AppContext, *, workspace_id: str) -> None:
    """Once this request commits: forget cached subscriptions and wake the dispatcher."""
    runtime = runtime_of(context)
    if runtime is not None:
        after_commit(session, runtime.on_change(workspace_id))


__all__: Sequence[str] = ["LinkClickedRecorder", "WebhookRuntime", "after_change", "install", "runtime_of"]

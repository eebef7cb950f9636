"""A process's webhook machinery: the dispatcher (it runs in the background process) and the `link.clicked`
recorder (a click listener), with how each reacts to the signals the composition root connects them to."""

from __future__ import annotations

from dataclasses import dataclass

from mask.signals import EventsRecorded, WebhooksChanged
from mask.webhook.clicks import LinkClickedRecorder
from mask.webhook.dispatcher import WebhookDispatcher


@dataclass
class WebhookRuntime:
    dispatcher: WebhookDispatcher
    clicks: LinkClickedRecorder

    async def on_webhooks_changed(self, signal: WebhooksChanged) -> None:
        """Endpoints changed: forget the cached subscription answer, look for deliveries now."""
        self.clicks.forget(signal.workspace_id)
        self.dispatcher.wake()

    async def on_events_recorded(self, _signal: EventsRecorded) -> None:
        """Deliver new events at once rather than at the next poll."""
        self.dispatcher.wake()

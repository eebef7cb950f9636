"""`client.webhooks`: endpoints that receive signed events (`/v1/webhooks`), and their deliveries.
Scopes `webhooks:read`, `webhooks:write`. Verify what they receive with `mask_sdk.webhooks.verify`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, TypeVar

from mask_sdk._endpoint import NOT_GIVEN, Args, Json, NoContent, NotGiven, Resource, endpoint, given, paginated
from mask_sdk.models import Delivery, DeliveryDetail, Page, Webhook, WebhookCreate, WebhookUpdate, WebhookWithSecret

R = TypeVar("R")

DeliveryStatus = Literal["pending", "succeeded", "failed"]


class Deliveries(Resource[R]):
    """`client.webhooks.deliveries`: the log of what was sent to a webhook, attempt by attempt."""

    @paginated("/v1/webhooks/{webhook_id}/deliveries", item=Delivery)
    def list(
        self,
        webhook_id: str,
        *,
        status: DeliveryStatus | None = None,
        event_type: str | None = None,
        limit: int | None = None,
        max_items: int | None = None,
    ) -> Args:
        """Every delivery of a webhook, newest first, each with its attempts."""
        return given(locals())

    @endpoint("GET", "/v1/webhooks/{webhook_id}/deliveries", returns=Json(Page[Delivery]))
    def list_page(
        self,
        webhook_id: str,
        *,
        status: DeliveryStatus | None = None,
        event_type: str | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> Args:
        """One page of deliveries."""
        return given(locals())

    @endpoint("GET", "/v1/webhooks/{webhook_id}/deliveries/{delivery_id}", returns=Json(DeliveryDetail))
    def get(self, webhook_id: str, delivery_id: str) -> Args:
        """A delivery with the payload it carries."""
        return given(locals())

    @endpoint("POST", "/v1/webhooks/{webhook_id}/deliveries/{delivery_id}/retry", returns=Json(Delivery))
    def retry(self, webhook_id: str, delivery_id: str, *, idempotency_key: str | None = None) -> Args:
        """Send the same event (same `webhook-id`) again now; a disabled webhook is `ConflictError`."""
        return given(locals())


class Webhooks(Resource[R]):
    def __init__(self, runner: R) -> None:
        super().__init__(runner)
        self.deliveries: Deliveries[R] = Deliveries(runner)

    @endpoint("POST", "/v1/webhooks", returns=Json(WebhookWithSecret), body=WebhookCreate)
    def create(
        self,
        *,
        url: str,
        events: Sequence[str],
        description: str = "",
        enabled: bool = True,
        idempotency_key: str | None = None,
    ) -> Args:
        """Subscribe `url` to `events` (`link.created`, `link.clicked`, …). The answer's `secret` signs every
        delivery; it is shown only here (and after `rotate_secret`)."""
        return given(locals())

    @paginated("/v1/webhooks", item=Webhook)
    def list(self, *, limit: int | None = None, max_items: int | None = None) -> Args:
        """Every webhook, newest first."""
        return given(locals())

    @endpoint("GET", "/v1/webhooks", returns=Json(Page[Webhook]))
    def list_page(self, *, limit: int | None = None, cursor: str | None = None) -> Args:
        """One page of webhooks."""
        return given(locals())

    @endpoint("GET", "/v1/webhooks/{webhook_id}", returns=Json(Webhook))
    def get(self, webhook_id: str) -> Args:
        """One webhook of the workspace (without its secret) and its health."""
        return given(locals())

    @endpoint("PATCH", "/v1/webhooks/{webhook_id}", returns=Json(Webhook), body=WebhookUpdate)
    def update(
        self,
        webhook_id: str,
        *,
        url: str | NotGiven = NOT_GIVEN,
        events: Sequence[str] | NotGiven = NOT_GIVEN,
        description: str | NotGiven = NOT_GIVEN,
        enabled: bool | NotGiven = NOT_GIVEN,
    ) -> Args:
        """Change the fields given; `enabled=True` re-enables a webhook switched off after failing."""
        return given(locals())

    @endpoint("DELETE", "/v1/webhooks/{webhook_id}", returns=NoContent())
    def delete(self, webhook_id: str) -> Args:
        """Delete a webhook and its delivery log."""
        return given(locals())

    @endpoint("POST", "/v1/webhooks/{webhook_id}/rotate-secret", returns=Json(WebhookWithSecret))
    def rotate_secret(self, webhook_id: str, *, idempotency_key: str | None = None) -> Args:
        """A new signing secret, in this answer only. For 24 hours the old one signs too (a second signature),
        so pass both to `mask_sdk.webhooks.verify` while your receiver switches."""
        return given(locals())

    @endpoint("POST", "/v1/webhooks/{webhook_id}/test", returns=Json(Delivery))
    def send_test(self, webhook_id: str, *, idempotency_key: str | None = None) -> Args:
        """Queue a signed `ping` event to this webhook; follow it in its deliveries."""
        return given(locals())

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, StrictBool

from mask.kit.schemas import RequestSchema, Schema, UTCDatetime, stated
from mask.kit.time import isoformat_z
from mask.models.event import Event

# What an endpoint can subscribe to; each is written to the outbox by the service that makes the change.
EVENT_TYPES: tuple[str, ...] = (
    "link.created",
    "link.updated",
    "link.deleted",
    "link.clicked",
    "link.limit_reached",
    "link.clicks_deleted",
    "bio_page.created",
    "bio_page.updated",
    "bio_page.deleted",
    "bio_page.clicks_deleted",
    "domain.created",
    "domain.updated",
    "domain.deleted",
    "domain.verified",
    "domain.verification_failed",
    "link.bulk_created",
    "link.bulk_updated",
    "link.bulk_deleted",
    "import.completed",
)
PING = "ping"  # sent by `POST /v1/webhooks/{id}/test`; never subscribed to

EVENTS_DESCRIPTION = "Event types to receive, at least one of: " + ", ".join(f"`{t}`" for t in EVENT_TYPES) + "."


class WebhookCreate(RequestSchema):
    url: str = Field(
        max_length=2048,
        examples=["https://example.com/webhooks/mask"],
        description="Where events are POSTed. https in production; never a private or loopback address.",
    )
    events: list[str] = Field(
        max_length=len(EVENT_TYPES) * 2,
        json_schema_extra=stated(minItems=1),
        examples=[["link.created", "link.clicked"]],
        description=EVENTS_DESCRIPTION,
    )
    description: str = Field(default="", max_length=500)
    enabled: StrictBool = True


class WebhookUpdate(RequestSchema):
    """Every field optional. `enabled: true` re-enables a disabled endpoint (and resets its failures)."""

    url: str | None = Field(default=None, max_length=2048, json_schema_extra=stated(nullable=False))
    events: list[str] | None = Field(
        default=None,
        max_length=len(EVENT_TYPES) * 2,
        json_schema_extra=stated(nullable=False, minItems=1),
        description=EVENTS_DESCRIPTION,
    )
    description: str | None = Field(default=None, max_length=500)
    enabled: StrictBool | None = Field(default=None, json_schema_extra=stated(nullable=False))


class Webhook(Schema):
    id: str = Field(examples=["wh_0Ks5Jx3b9pQ2h1Vw8mZtRc"])
    url: str
    events: list[str]
    description: str
    enabled: bool
    disabled_reason: Literal["manual", "failing"] | None = Field(
        description="`manual`: switched off through the API; `failing`: switched off after a day of failures."
    )
    disabled_at: UTCDatetime | None
    consecutive_failures: int = Field(description="Failed attempts in a row since the last success.")
    failing_since: UTCDatetime | None = Field(description="When the current run of failures began.")
    last_success_at: UTCDatetime | None
    last_failure_at: UTCDatetime | None
    workspace_id: str
    created_at: UTCDatetime
    updated_at: UTCDatetime


class WebhookWithSecret(Webhook):
    secret: str = Field(
        examples=["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"],
        description="The signing secret. Shown only now; store it with your receiver.",
    )


class DeliveryAttempt(Schema):
    id: str
    number: int = Field(description="1 for the first attempt.")
    attempted_at: UTCDatetime
    duration_ms: int
    status_code: int | None = Field(description="The receiver's HTTP status; null when no answer came.")
    succeeded: bool
    response_excerpt: str | None = Field(description="The first 1 KB of the response body.")
    error: str | None = Field(description="Why no answer came (timeout, connection refused, blocked address, …).")
    next_retry_at: UTCDatetime | None = Field(description="When the retry that follows this attempt was scheduled.")


class Delivery(Schema):
    id: str = Field(examples=["whd_0Ks5Jx3b9pQ2h1Vw8mZtRc"])
    webhook_id: str
    event_id: str
    event_type: str
    status: Literal["pending", "succeeded", "failed"]
    attempt_count: int
    next_retry_at: UTCDatetime | None = Field(description="When the next attempt is due (pending deliveries).")
    last_status_code: int | None
    last_attempt_at: UTCDatetime | None
    created_at: UTCDatetime
    completed_at: UTCDatetime | None
    attempts: list[DeliveryAttempt] = Field(description="Every attempt, oldest first.")


class DeliveryDetail(Delivery):
    payload: dict[str, Any] | None = Field(description="The body sent (null once the event aged out).")


def event_payload(event: Event) -> dict[str, Any]:
    """The body every receiver gets: the event envelope around the resource as the API returns it."""
    return {
        "id": event.id,
        "type": event.type,
        "created_at": isoformat_z(event.created_at),
        "workspace_id": event.workspace_id,
        "data": event.data,
    }

"""Verify the webhooks MASK sends (Standard Webhooks: https://www.standardwebhooks.com).

    from mask_sdk.webhooks import verify

    event = verify(request_body, request_headers, secret=os.environ["MASK_WEBHOOK_SECRET"])

Pass the body exactly as received (bytes), not re-serialised JSON. After `client.webhooks.rotate_secret()`, MASK
signs with both the new and the old secret for 24 hours; pass both (`secret=[new, old]`) until then so that
your receiver can switch without a gap. Deduplicate on `event.id` (also the `webhook-id` header): a retried
delivery carries the same id.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import ValidationError
from standardwebhooks.webhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError as SignatureError

from mask_sdk.errors import WebhookVerificationError
from mask_sdk.models import EVENT_MODELS, Event, WebhookEvent

__all__ = ["WebhookVerificationError", "parse_event", "verify"]


def verify(body: bytes | str, headers: Mapping[str, str], secret: str | Sequence[str]) -> Event:
    """The event in `body` if one of the secrets signed it within the last five minutes (the library's
    tolerance, against replays); `WebhookVerificationError` otherwise."""
    secrets = [secret] if isinstance(secret, str) else list(secret)
    if not secrets or not all(secrets):
        raise ValueError("verify needs at least one webhook secret (whsec_…)")
    lowered = {name.lower(): value for name, value in headers.items()}
    reasons = []
    for one in secrets:
        try:
            Webhook(one).verify(body, lowered, json_parse=False)
        except SignatureError as error:
            reasons.append(str(error))
            continue
        return parse_event(body)
    raise WebhookVerificationError(f"Not a genuine MASK webhook: {'; '.join(dict.fromkeys(reasons))}.")


def parse_event(body: bytes | str) -> Event:
    """The typed event of a body already verified (by `verify`): `LinkEvent`, `LinkClickedEvent`,
    `BioPageEvent`, `DomainEvent`, `PingEvent`, or `WebhookEvent` for a type this SDK does not know yet."""
    try:
        payload: Any = json.loads(body)
        kind = payload.get("type") if isinstance(payload, dict) else None
        return EVENT_MODELS.get(str(kind), WebhookEvent).model_validate(payload)
    except (ValueError, ValidationError) as error:
        raise WebhookVerificationError(f"The body is not a MASK event: {error}") from error

"""Standard Webhooks signatures (https://www.standardwebhooks.com), made by the `standardwebhooks` package.

Headers: `webhook-id` (the event id, stable across retries, for deduplication), `webhook-timestamp` (Unix
seconds) and `webhook-signature`: `v1,<base64 HMAC-SHA256 of "id.timestamp.body">`, one per valid secret,
space-separated (the previous secret signs too for a day after a rotation).
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Sequence
from datetime import datetime

from standardwebhooks.webhooks import Webhook

SECRET_PREFIX = "whsec_"  # noqa: S105 - the prefix, not a secret
SECRET_BYTES = 24  # 192 bits, as the specification recommends at least; same length as Svix's


def generate_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode("ascii")


def signature_headers(*, secrets_: Sequence[str], message_id: str, timestamp: datetime, body: str) -> dict[str, str]:
    """The three Standard Webhooks headers for `body`, signed with every secret given."""
    signatures = [Webhook(secret).sign(message_id, timestamp, body) for secret in secrets_]
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(timestamp.timestamp())),
        "webhook-signature": " ".join(signatures),
    }

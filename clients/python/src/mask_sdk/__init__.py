"""The Python SDK for MASK's REST API: `Mask` (blocking) and `AsyncMask` (asyncio), with the same resources
(`links`, `domains`, `tags`, `analytics`, `bio_pages`, `webhooks`, `shared_dashboards`, `keys`, `members`,
`invitations`, `workspace`, …), typed models (`mask_sdk.models`), one exception
per kind of failure (`mask_sdk.errors`) and webhook verification (`mask_sdk.webhooks.verify`).
"""

from mask_sdk import models, webhooks
from mask_sdk._client import AsyncMask, Mask
from mask_sdk._core import VERSION as __version__
from mask_sdk._endpoint import NOT_GIVEN, NotGiven
from mask_sdk._pagination import AsyncPager, Pager
from mask_sdk.errors import (
    APIConnectionError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    InternalServerError,
    MaskError,
    NotFoundError,
    PermissionDeniedError,
    RateLimit,
    RateLimitError,
    UnprocessableEntityError,
    WebhookVerificationError,
)

__all__ = [
    "NOT_GIVEN",
    "APIConnectionError",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "AsyncMask",
    "AsyncPager",
    "AuthenticationError",
    "BadRequestError",
    "ConflictError",
    "InternalServerError",
    "Mask",
    "MaskError",
    "NotFoundError",
    "NotGiven",
    "Pager",
    "PermissionDeniedError",
    "RateLimit",
    "RateLimitError",
    "UnprocessableEntityError",
    "WebhookVerificationError",
    "__version__",
    "models",
    "webhooks",
]

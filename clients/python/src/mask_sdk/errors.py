"""Every failure the SDK reports is a `MaskError`.

An answer of the API other than 2xx becomes an `APIStatusError` subclass chosen by its status, carrying the API's
error object (`type`, `code`, `message`, `param`, `request_id`, and for `422` the `errors` field list). A request
that got no answer is an `APIConnectionError` (`APITimeoutError` when it timed out).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
from pydantic import ValidationError

from mask_sdk.models import ErrorBody, ErrorDetail, ErrorObject


@dataclass(frozen=True)
class RateLimit:
    """The `X-RateLimit-*` headers of an answer: the window's allowance, what is left, and when it next grows."""

    limit: int
    remaining: int
    reset: int  # Unix time, seconds

    @classmethod
    def from_headers(cls, headers: httpx.Headers) -> RateLimit | None:
        try:
            return cls(
                limit=int(headers["x-ratelimit-limit"]),
                remaining=int(headers["x-ratelimit-remaining"]),
                reset=int(headers["x-ratelimit-reset"]),
            )
        except (KeyError, ValueError):
            return None  # the server runs without rate limits (MASK_RATE_LIMIT_ENABLED=false)


class MaskError(Exception):
    """The base of every exception this SDK raises."""


class APIConnectionError(MaskError):
    """No answer: the connection failed or broke before a response arrived."""

    def __init__(self, message: str, *, request: httpx.Request) -> None:
        super().__init__(message)
        self.message = message
        self.request = request


class APITimeoutError(APIConnectionError):
    """No answer within the timeout."""


class APIResponseValidationError(MaskError):
    """A 2xx answer whose body is not what the API documents (a proxy in the way, or a server this SDK predates
    in an incompatible way)."""

    def __init__(self, message: str, *, response: httpx.Response) -> None:
        super().__init__(message)
        self.message = message
        self.response = response
        self.status = response.status_code
        self.request_id = response.headers.get("x-request-id")


class APIStatusError(MaskError):
    """A non-2xx answer; the attributes are the API's error object (`{"error": {...}}`)."""

    status: int
    type: str | None
    code: str | None
    message: str
    param: str | None
    request_id: str | None
    errors: list[ErrorDetail]
    error: ErrorObject | None

    def __init__(self, *, response: httpx.Response) -> None:
        self.response = response
        self.status = response.status_code
        self.headers = response.headers
        self.rate_limit = RateLimit.from_headers(response.headers)
        self.body = _json_or_none(response)
        error = _error_object(self.body)
        if error is not None:
            self.type = error.error.type
            self.code = error.error.code
            self.message = error.error.message
            self.param = error.error.param
            self.request_id = error.error.request_id or response.headers.get("x-request-id")
            self.errors = list(error.error.errors or [])
            self.error = error.error
        else:  # not MASK's error shape (a proxy's page, an empty body): keep what there is
            self.type = None
            self.code = None
            self.message = response.text[:500] or response.reason_phrase or f"HTTP {response.status_code}"
            self.param = None
            self.request_id = response.headers.get("x-request-id")
            self.errors = []
            self.error = None
        super().__init__(self._describe())

    def _describe(self) -> str:
        code = f" {self.code}" if self.code else ""
        request = f" (request {self.request_id})" if self.request_id else ""
        return f"{self.status}{code}: {self.message}{request}"

    @property
    def retry_after(self) -> float | None:
        """Seconds the server asked to wait (`Retry-After`), if it said."""
        return parse_retry_after(self.headers.get("retry-after"))


class BadRequestError(APIStatusError):
    """400: malformed JSON, a body that is not an object, a bad header."""


class AuthenticationError(APIStatusError):
    """401: the API key is missing, malformed, unknown or revoked."""


class PermissionDeniedError(APIStatusError):
    """403: the key lacks the scope the endpoint needs (`required_scope`), or the request is refused."""

    @property
    def required_scope(self) -> str | None:
        return self.error.required_scope if self.error is not None else None


class NotFoundError(APIStatusError):
    """404: no such resource in this workspace (another workspace's ids are 404 too)."""


class ConflictError(APIStatusError):
    """409: the request conflicts with what is stored (a taken slug, a domain in use)."""


class UnprocessableEntityError(APIStatusError):
    """422: invalid fields; `errors` lists every one (`param`, `code`, `message`)."""


class RateLimitError(APIStatusError):
    """429: the workspace's rate limit is spent; `retry_after` says for how long."""


class InternalServerError(APIStatusError):
    """5xx: the server failed; `request_id` identifies the failure in its logs."""


STATUS_ERRORS: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: UnprocessableEntityError,
    429: RateLimitError,
}


def error_for(response: httpx.Response) -> APIStatusError:
    """The exception for a non-2xx answer."""
    status = response.status_code
    cls = STATUS_ERRORS.get(status) or (InternalServerError if status >= 500 else APIStatusError)
    return cls(response=response)


def parse_retry_after(value: str | None) -> float | None:
    """`Retry-After` in seconds (MASK sends whole seconds; an HTTP date is accepted too), or None."""
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - datetime.now(UTC)).total_seconds()
    return max(seconds, 0.0)


def _json_or_none(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _error_object(body: Any) -> ErrorBody | None:
    try:
        return ErrorBody.model_validate(body)
    except ValidationError:
        return None


class WebhookVerificationError(MaskError):
    """A webhook request that is not a genuine, fresh MASK event: missing or bad signature headers, no signature
    made with any of the secrets given, a timestamp outside the tolerance, or a body that is not an event."""

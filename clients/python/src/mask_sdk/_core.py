"""What both clients share, without doing any I/O: building requests, retrying, reading answers.

One call is an *exchange*: a generator that yields what it needs done, `Send(request)` or `Sleep(seconds)`, and
returns the result. It is sent back each answer (or has the transport's exception thrown into it), decides whether
to retry and how long to wait, and turns the final answer into a model or an exception. The sync client drives it
with `httpx.Client` and `time.sleep`, the async client with `httpx.AsyncClient` and `asyncio.sleep`
(`_client.py`); neither knows anything about MASK's API.
"""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Generator, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TypeAlias, TypeVar
from urllib.parse import quote

import httpx
from pydantic import ValidationError

from mask_sdk._endpoint import Args, Operation, Returns
from mask_sdk.errors import (
    APIConnectionError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    ConflictError,
    MaskError,
    RateLimit,
    error_for,
)

T = TypeVar("T")

VERSION = "0.1.0"
USER_AGENT = f"mask-sdk-python/{VERSION}"
DEFAULT_BASE_URL = "http://127.0.0.1:8000"
DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=5.0)
DEFAULT_MAX_RETRIES = 2

# 409s that say "the same request is still running, or the key was being released: send it again".
RETRYABLE_CONFLICTS = frozenset({"idempotency_in_progress", "idempotency_retry"})
# Failures of the connection (nothing, or not all, came back); the others are mistakes a retry repeats.
RETRYABLE_TRANSPORT = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)


@dataclass(frozen=True)
class Send:
    request: httpx.Request


@dataclass(frozen=True)
class Sleep:
    seconds: float


Action: TypeAlias = Send | Sleep
Exchange: TypeAlias = Generator[Action, httpx.Response | None, T]


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with full jitter: before retry n (from 0), a random wait in
    [0, min(max_delay, initial_delay * 2**n)], unless the answer said how long (`Retry-After`)."""

    max_retries: int = DEFAULT_MAX_RETRIES
    initial_delay: float = 0.5
    max_delay: float = 8.0
    max_retry_after: float = 60.0  # a longer Retry-After is not waited for: the error is raised at once

    def delay(self, retries_made: int, failure: MaskError, rng: random.Random) -> float | None:
        """Seconds to wait before retrying after `failure`, or None to raise it."""
        if retries_made >= self.max_retries or not is_retryable(failure):
            return None
        if isinstance(failure, APIStatusError):
            retry_after = failure.retry_after
            if retry_after is not None:
                return retry_after if retry_after <= self.max_retry_after else None
        return rng.uniform(0, min(self.max_delay, self.initial_delay * 2**retries_made))


def is_retryable(failure: MaskError) -> bool:
    """Connection failures, 429, 5xx, and a 409 that asks for the same request again."""
    if isinstance(failure, APIConnectionError):
        return isinstance(failure.__cause__, RETRYABLE_TRANSPORT)
    if isinstance(failure, ConflictError):
        return failure.code in RETRYABLE_CONFLICTS
    if isinstance(failure, APIStatusError):
        return failure.status == 429 or failure.status >= 500
    return False


class ClientCore:
    """Configuration and state of one client; builds its requests and runs their exchanges."""

    def __init__(self, *, api_key: str, base_url: str, timeout: httpx.Timeout | float, max_retries: int) -> None:
        if not api_key:
            raise MaskError("No API key: pass api_key=… or set MASK_API_KEY.")
        if max_retries < 0:
            raise ValueError("max_retries must be 0 or more")
        self.api_key = api_key
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout)
        self.retry = RetryPolicy(max_retries=max_retries)
        self.rng = random.Random()
        self.last_rate_limit: RateLimit | None = None
        self.last_request_id: str | None = None

    def call(self, operation: Operation, args: Args) -> Exchange[Any]:
        """The exchange of one call of `operation` with these arguments."""
        arguments = dict(args)
        idempotency_key = arguments.pop("idempotency_key", None)
        request = self.build_request(operation, arguments, idempotency_key=idempotency_key)
        return self.exchange(request, operation.returns, arguments)

    def build_request(
        self, operation: Operation, args: Mapping[str, Any], *, idempotency_key: str | None = None
    ) -> httpx.Request:
        arguments = dict(args)
        path = operation.path.format(
            **{name: quote(str(arguments.pop(name)), safe="") for name in operation.path_params}
        )
        headers = {
            "Authorization": f"Bearer {self.api_key}",
            "Accept": "application/json",
            "User-Agent": USER_AGENT,
        }
        params: dict[str, str] = dict(operation.query or {})
        content: bytes | None = None
        if operation.body is not None:
            if operation.method == "POST":  # creating: None is the same as leaving a field out
                arguments = {name: value for name, value in arguments.items() if value is not None}
            body = operation.body.model_validate(arguments).model_dump(mode="json", include=set(arguments))
            content = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
            headers["Content-Type"] = "application/json"
        else:
            params.update({name: query_value(value) for name, value in arguments.items() if value is not None})
        if operation.method == "POST":  # so that a retry never creates twice
            headers["Idempotency-Key"] = idempotency_key or str(uuid.uuid4())
        request = httpx.Request(operation.method, self.base_url + path, params=params, headers=headers, content=content)
        request.extensions["timeout"] = self.timeout.as_dict()
        return request

    def exchange(self, request: httpx.Request, returns: Returns[T], args: Mapping[str, Any]) -> Exchange[T]:
        """Send `request` (again after a retryable failure, after a wait) and return its parsed answer."""
        retries_made = 0
        while True:
            try:
                response = yield Send(request)
            except httpx.TransportError as transport_error:
                failure: MaskError = connection_error(transport_error, request)
            else:
                assert response is not None, "the driver sends back the response"
                self.observe(response)
                if response.is_success:
                    return parse(returns, response, args)
                failure = error_for(response)
            delay = self.retry.delay(retries_made, failure, self.rng)
            if delay is None:
                raise failure
            retries_made += 1
            yield Sleep(delay)

    def observe(self, response: httpx.Response) -> None:
        self.last_rate_limit = RateLimit.from_headers(response.headers)
        self.last_request_id = response.headers.get("x-request-id")


def connection_error(error: httpx.TransportError, request: httpx.Request) -> APIConnectionError:
    """The SDK's exception for a transport failure, caused by it (`__cause__`, which `is_retryable` reads)."""
    failure: APIConnectionError
    if isinstance(error, httpx.TimeoutException):
        failure = APITimeoutError(f"No answer from {request.url.host} in time ({error!r}).", request=request)
    else:
        failure = APIConnectionError(f"Could not reach {request.url.host}: {error!r}", request=request)
    failure.__cause__ = error
    return failure


def parse(returns: Returns[T], response: httpx.Response, args: Mapping[str, Any]) -> T:
    try:
        return returns.parse(response, args)
    except (ValidationError, ValueError) as error:
        raise APIResponseValidationError(
            f"The answer to {response.request.method} {response.request.url.path} is not what the API documents: "
            f"{error}",
            response=response,
        ) from error


def query_value(value: Any) -> str:
    """A query parameter as the API reads it: booleans as true/false, times in ISO 8601, lists comma-joined."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list | tuple | set | frozenset):
        return ",".join(query_value(item) for item in value)
    return str(value)

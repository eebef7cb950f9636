"""The SDK's retry decisions, on their own: which failures are retried, and how long the client waits.

(Retries against a real server are in test_errors_and_retries.py and test_rate_limits.py.)
"""

from __future__ import annotations

import random

import httpx
from mask_sdk import APIConnectionError, ConflictError, MaskError, NotFoundError, RateLimitError
from mask_sdk._core import RetryPolicy, connection_error, is_retryable
from mask_sdk.errors import error_for

REQUEST = httpx.Request("POST", "http://mask.test/v1/links")


def answer(status: int, *, code: str = "x", headers: dict[str, str] | None = None) -> httpx.Response:
    body = {"error": {"type": "invalid_request_error", "code": code, "message": "…", "param": None}}
    return httpx.Response(status, json=body, headers=headers, request=REQUEST)


def test_connection_failures_429_5xx_and_a_busy_idempotency_key_are_retried() -> None:
    retried = [
        connection_error(httpx.ConnectError("refused", request=REQUEST), REQUEST),
        connection_error(httpx.ReadTimeout("slow", request=REQUEST), REQUEST),
        connection_error(httpx.RemoteProtocolError("cut", request=REQUEST), REQUEST),
        error_for(answer(429)),
        error_for(answer(500)),
        error_for(answer(503)),
        error_for(answer(409, code="idempotency_in_progress")),
    ]
    assert all(is_retryable(failure) for failure in retried)


def test_what_a_retry_would_repeat_is_raised_at_once() -> None:
    final = [
        connection_error(httpx.UnsupportedProtocol("ftp", request=REQUEST), REQUEST),
        error_for(answer(400)),
        error_for(answer(401)),
        error_for(answer(404)),
        error_for(answer(409, code="slug_taken")),
        error_for(answer(422)),
        MaskError("not an answer"),
    ]
    assert not any(is_retryable(failure) for failure in final)
    assert isinstance(final[0], APIConnectionError) and isinstance(final[3], NotFoundError)
    assert isinstance(final[4], ConflictError)


def test_backoff_is_exponential_with_full_jitter_up_to_a_cap() -> None:
    policy = RetryPolicy(max_retries=10, initial_delay=0.5, max_delay=8.0)
    rng = random.Random(7)
    failure = error_for(answer(503))
    for retries_made, cap in enumerate([0.5, 1.0, 2.0, 4.0, 8.0, 8.0, 8.0]):
        delays = [policy.delay(retries_made, failure, rng) for _ in range(2000)]
        assert all(delay is not None and 0 <= delay <= cap for delay in delays)
        assert min(d for d in delays if d is not None) < cap * 0.05  # the whole range is used, from 0…
        assert max(d for d in delays if d is not None) > cap * 0.95  # …to the cap


def test_retry_after_is_waited_for_when_reasonable_and_retries_run_out() -> None:
    policy = RetryPolicy(max_retries=2, max_retry_after=60.0)
    rng = random.Random(7)
    limited = error_for(answer(429, headers={"Retry-After": "12"}))
    assert isinstance(limited, RateLimitError) and limited.retry_after == 12
    assert policy.delay(0, limited, rng) == 12
    assert policy.delay(1, limited, rng) == 12
    assert policy.delay(2, limited, rng) is None  # max_retries=2: the third failure is raised
    assert policy.delay(0, error_for(answer(429, headers={"Retry-After": "3600"})), rng) is None  # an hour: raise
    assert RetryPolicy(max_retries=0).delay(0, limited, rng) is None

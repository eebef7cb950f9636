"""Rate limits through the SDK, against a real `mask serve` counting requests: the headers after every call, a
`RateLimitError` with `retry_after`, and retries that wait what `Retry-After` says.

Workspaces on the Hobby plan get `HOBBY_REQUESTS` per `HOBBY_WINDOW_SECONDS` here (`mask plans set-limit`, in
conftest.py). No test asserts how fast anything is: a slow machine only makes the 429 come later.
"""

from __future__ import annotations

import time

import httpx
import pytest
from mask_sdk import RateLimitError

from tests.sdk.conftest import HOBBY_REQUESTS, HOBBY_WINDOW_SECONDS, SdkServer

pytestmark = pytest.mark.slow

ENOUGH = 200  # calls after which a 429 must have come (the limit is 2 per 3 s: it comes after the third)


class Timed(httpx.HTTPTransport):
    """The real transport, noting when each request left and each answer came back."""

    def __init__(self) -> None:
        super().__init__()
        self.exchanges: list[tuple[float, httpx.Response, float]] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        sent = time.monotonic()
        response = super().handle_request(request)
        response.read()
        self.exchanges.append((sent, response, time.monotonic()))
        return response


def test_every_answer_updates_the_rate_limit_and_request_id(server: SdkServer) -> None:
    with server.client(server.workspace().key) as client:
        assert client.last_rate_limit is None and client.last_request_id is None
        client.tags.list()
        first = client.last_rate_limit
        assert first is not None and first.limit == 6000
        client.links.list_page()
        second = client.last_rate_limit
        assert second is not None and second.remaining == first.remaining - 1  # nobody else uses this workspace
        assert second.reset >= int(time.time()) - 1  # a Unix time, not a number of seconds
        assert client.last_request_id is not None and client.last_request_id.startswith("req_")


def test_over_the_limit_is_a_rate_limit_error_with_retry_after(server: SdkServer) -> None:
    with server.client(server.workspace(plan="hobby").key, max_retries=0) as client:
        for _ in range(ENOUGH):
            try:
                client.tags.list()
            except RateLimitError as error:
                limited = error
                break
        else:
            pytest.fail(f"no 429 in {ENOUGH} calls")
    assert (limited.status, limited.type, limited.code) == (429, "rate_limit_error", "rate_limit_exceeded")
    assert limited.retry_after is not None and 1 <= limited.retry_after <= HOBBY_WINDOW_SECONDS
    assert limited.rate_limit is not None
    assert (limited.rate_limit.limit, limited.rate_limit.remaining) == (HOBBY_REQUESTS, 0)
    assert client.last_rate_limit == limited.rate_limit
    assert limited.request_id == client.last_request_id


def test_a_429_is_retried_after_retry_after_and_succeeds(server: SdkServer) -> None:
    transport = Timed()
    with (
        httpx.Client(transport=transport) as http,
        server.client(server.workspace(plan="hobby").key, http_client=http, max_retries=3) as client,
    ):
        for _ in range(ENOUGH):
            client.tags.list()  # never raises: each 429 is waited out and retried
            if any(response.status_code == 429 for _, response, _ in transport.exchanges):
                break
        else:
            pytest.fail(f"no 429 in {ENOUGH} calls")
    index = next(i for i, (_, response, _) in enumerate(transport.exchanges) if response.status_code == 429)
    _, refused, answered_at = transport.exchanges[index]
    retried_at, retried, _ = transport.exchanges[index + 1]
    assert retried.status_code == 200
    assert retried_at - answered_at >= int(refused.headers["retry-after"])  # it waited at least what was asked

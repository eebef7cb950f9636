"""The API's errors as the SDK's exceptions, and retries that never create twice, against a real `mask serve`.

The failures a retry is for (a response lost on the way back, a proxy's 502, a server that does not answer) are
made with httpx transports wrapped around the real one, or with a socket that never answers: MASK itself is
real in every test, and sees every request the SDK sends.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import httpx
import pytest
from mask_sdk import (
    APIConnectionError,
    APITimeoutError,
    AuthenticationError,
    ConflictError,
    InternalServerError,
    Mask,
    MaskError,
    NotFoundError,
    PermissionDeniedError,
    UnprocessableEntityError,
)

from tests.redirect.servers import free_port
from tests.sdk.conftest import SdkServer, eventually

pytestmark = pytest.mark.slow


class Recording(httpx.HTTPTransport):
    """The real transport, keeping every request sent and every response received."""

    def __init__(self) -> None:
        super().__init__()
        self.requests: list[httpx.Request] = []
        self.responses: list[httpx.Response] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        response = super().handle_request(request)
        response.read()
        self.responses.append(response)
        return response


class LosesFirstAnswer(Recording):
    """The first POST reaches MASK and is carried out, but its answer is lost: the connection breaks first."""

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = super().handle_request(request)
        if request.method == "POST" and len(self.requests) == 1:
            raise httpx.ReadError("connection reset by peer after the request was sent", request=request)
        return response


class GatewayFails(Recording):
    """A proxy in front of MASK answering `502 Bad Gateway` to the first `failures` requests, MASK after that."""

    def __init__(self, failures: int) -> None:
        super().__init__()
        self.failures = failures
        self.refused = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if self.refused < self.failures:
            self.refused += 1
            return httpx.Response(502, text="<html>502 Bad Gateway</html>", request=request)
        return super().handle_request(request)


def test_another_workspaces_id_is_not_found_and_unchanged(server: SdkServer) -> None:
    owner, other = server.workspace(), server.workspace()
    with server.client(owner.key) as client, server.client(other.key) as intruder:
        link = client.links.create(url="https://example.com/mine")
        for attempt in (
            lambda: intruder.links.get(link.id),
            lambda: intruder.links.update(link.id, url="https://evil.example/"),
            lambda: intruder.links.delete(link.id),
        ):
            with pytest.raises(NotFoundError) as missing:
                attempt()
            error = missing.value
            assert (error.status, error.type, error.code) == (404, "invalid_request_error", "link_not_found")
            assert error.param == "id"
            assert error.request_id is not None and error.request_id.startswith("req_")
            assert error.request_id == intruder.last_request_id
        assert client.links.get(link.id) == link


def test_a_key_without_the_scope_is_refused_with_the_scope_it_needs(server: SdkServer) -> None:
    workspace = server.workspace()
    read_only = server.cli("keys", "create", "--workspace", workspace.slug, "--scope", "links:read", "--name", "ro")
    with server.client(read_only) as client:
        assert list(client.links.list()) == []
        with pytest.raises(PermissionDeniedError) as refused:
            client.links.create(url="https://example.com/")
        assert refused.value.required_scope == "links:write"
        assert (refused.value.status, refused.value.type, refused.value.code) == (
            403,
            "permission_error",
            "insufficient_scope",
        )
        with pytest.raises(PermissionDeniedError) as refused:
            client.analytics.clicks()
        assert refused.value.required_scope == "analytics:read"


def test_an_unknown_key_is_an_authentication_error(server: SdkServer) -> None:
    with server.client("mk_live_" + "x" * 43) as client, pytest.raises(AuthenticationError) as refused:
        client.tags.list()
    assert (refused.value.status, refused.value.type) == (401, "authentication_error")


def test_every_invalid_field_is_listed(server: SdkServer) -> None:
    with server.client(server.workspace().key) as client, pytest.raises(UnprocessableEntityError) as invalid:
        client.links.create(url="ftp://example.com/file", slug="no spaces", tags=["x" * 60])
    error = invalid.value
    assert {(field.param, field.code) for field in error.errors} == {
        ("url", "unsupported_scheme"),
        ("slug", "invalid_slug"),
        ("tags.0", "invalid_tag"),
    }
    assert error.status == 422 and error.param in {"url", "slug", "tags.0"}
    assert all(field.message for field in error.errors)


def test_a_taken_slug_is_a_conflict(server: SdkServer) -> None:
    with server.client(server.workspace().key) as client:
        client.links.create(url="https://example.com/a", slug="taken-slug-" + server.backend)
        with pytest.raises(ConflictError) as taken:
            client.links.create(url="https://example.com/b", slug="taken-slug-" + server.backend)
    assert (taken.value.status, taken.value.code, taken.value.param) == (409, "slug_taken", "slug")


def test_a_post_whose_answer_was_lost_is_retried_with_its_idempotency_key_and_creates_once(
    server: SdkServer,
) -> None:
    transport = LosesFirstAnswer()
    with (
        httpx.Client(transport=transport) as http,
        server.client(server.workspace().key, http_client=http) as client,
    ):
        link = client.links.create(url="https://example.com/once", tags=["retried"])

        first, second = transport.requests
        assert first.headers["idempotency-key"] == second.headers["idempotency-key"]
        assert transport.responses[0].status_code == 201  # MASK created it the first time…
        assert transport.responses[1].headers.get("idempotent-replayed") == "true"  # …and replayed that answer
        assert [found.id for found in client.links.list(tag="retried")] == [link.id]


def test_each_post_gets_its_own_idempotency_key_unless_one_is_given(server: SdkServer) -> None:
    transport = Recording()
    with (
        httpx.Client(transport=transport) as http,
        server.client(server.workspace().key, http_client=http) as client,
    ):
        one = client.links.create(url="https://example.com/1")
        two = client.links.create(url="https://example.com/1")
        assert one.id != two.id
        keys = [request.headers["idempotency-key"] for request in transport.requests]
        assert len(set(keys)) == 2

        again = client.links.create(url="https://example.com/2", idempotency_key="order-42")
        assert client.links.create(url="https://example.com/2", idempotency_key="order-42") == again
        with pytest.raises(UnprocessableEntityError) as reused:
            client.links.create(url="https://example.com/3", idempotency_key="order-42")
        assert [(field.param, field.code) for field in reused.value.errors] == [
            ("Idempotency-Key", "idempotency_key_reused")
        ]
        assert client.links.get(again.id) == again


def test_a_gateway_error_is_retried_and_raised_when_retries_run_out(server: SdkServer) -> None:
    key = server.workspace().key
    transport = GatewayFails(failures=1)
    with httpx.Client(transport=transport) as http, server.client(key, http_client=http) as client:
        link = client.links.create(url="https://example.com/through-a-proxy", tags=["proxied"])
        assert (transport.refused, len(transport.requests)) == (1, 1)  # the refused one never reached MASK
        assert [found.id for found in client.links.list(tag="proxied")] == [link.id]

    transport = GatewayFails(failures=3)
    with (
        httpx.Client(transport=transport) as http,
        server.client(key, http_client=http, max_retries=2) as client,
        pytest.raises(InternalServerError) as failed,
    ):
        client.links.create(url="https://example.com/never")
    assert failed.value.status == 502 and "Bad Gateway" in failed.value.message
    assert failed.value.code is None  # not MASK's error shape: a proxy's page
    assert transport.refused == 3


def test_a_refused_connection_is_retried_then_raised() -> None:
    transport = Recording()
    with (
        httpx.Client(transport=transport) as http,
        pytest.raises(APIConnectionError) as failed,
        Mask(api_key="mk_live_unused", base_url=f"http://127.0.0.1:{free_port()}", http_client=http) as client,
    ):
        client.links.list_page()
    assert not isinstance(failed.value, APITimeoutError)
    assert isinstance(failed.value.__cause__, httpx.ConnectError)
    assert len(transport.requests) == 3  # the first try and max_retries=2 retries


@pytest.fixture
def silent_port() -> Iterator[tuple[int, list[socket.socket]]]:
    """A port that accepts connections and never answers; the connections it accepted."""
    listener = socket.create_server(("127.0.0.1", 0))
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield listener.getsockname()[1], accepted
    stop.set()
    thread.join()
    for connection in accepted:
        connection.close()
    listener.close()


def test_no_answer_in_time_is_a_timeout_error_after_the_retries(silent_port: tuple[int, list[socket.socket]]) -> None:
    port, accepted = silent_port
    with (
        Mask(api_key="mk_live_unused", base_url=f"http://127.0.0.1:{port}", timeout=0.3, max_retries=1) as client,
        pytest.raises(APITimeoutError) as failed,
    ):
        client.domains.get("dom_x")
    assert isinstance(failed.value, APIConnectionError) and isinstance(failed.value, MaskError)
    eventually(lambda: len(accepted) == 2, message="the retry's connection")  # the listener's thread may lag

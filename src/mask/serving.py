"""The HTTP protocol `mask serve` runs: uvicorn's httptools protocol, with MASK's limits and answers.

Uvicorn answers some requests itself, in plain text: a malformed request (400), an app that failed before it
answered (500). Here those answers are in the API's error shape with `X-Request-Id`, like every other answer,
and the protocol adds two limits of its own:

- the request head (request line and headers) is at most MAX_HEAD_BYTES, else `431` and the connection closes;
  counted as the bytes arrive, so a client cannot make the worker buffer a 100 MB header;
- a worker serves at most `MASK_MAX_CONCURRENT_REQUESTS` requests at once; one more is answered `503` with
  `Retry-After` at once, without reaching the app (uvicorn's own `limit_concurrency` counts idle keep-alive
  connections too, and answers in plain text).
"""

from __future__ import annotations

import asyncio
import logging
from functools import cache
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send
from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol, RequestResponseCycle
from uvicorn.server import ServerState

from mask.config import get_settings
from mask.kit.errors import BadRequest, HeadersTooLarge, InternalError, MaskError, ServiceUnavailable
from mask.kit.http import json_dumps, new_request_id

logger = logging.getLogger("mask.serving")

# Above the longest request the API's own schema allows (every analytics filter at its length limit comes to
# about 40 KB), so the cap refuses only what no valid request needs; nginx's default buffers stop at 32 KB.
MAX_HEAD_BYTES = 64 * 1024
RETRY_AFTER_SECONDS = 1  # a request over the cap: the worker is busy now, not broken


@cache
def _max_concurrent_requests() -> int:
    """Read once per worker (settings are the environment's, fixed for the process's life)."""
    return get_settings().max_concurrent_requests


class _HeadTooLarge(Exception):
    """Raised from a parser callback to stop parsing a head that was refused."""


def error_bytes(error: MaskError, default_headers: list[tuple[bytes, bytes]]) -> bytes:
    """A whole HTTP/1.1 response carrying `error` in the error shape, after which the connection closes."""
    request_id = new_request_id()
    body = json_dumps(error.body(request_id))
    headers = [
        *default_headers,
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"x-request-id", request_id.encode()),
        (b"connection", b"close"),
        *((name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in error.headers.items()),
    ]
    return b"".join([STATUS_LINE[error.status_code], *(name + b": " + value + b"\r\n" for name, value in headers)]) + (
        b"\r\n" + body
    )


def error_app(error: MaskError) -> ASGIApp:
    """An ASGI app that answers `error` in the error shape, with a fresh request id, and closes the connection."""

    async def app(_scope: Scope, _receive: Receive, send: Send) -> None:
        request_id = new_request_id()
        body = json_dumps(error.body(request_id))
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"x-request-id", request_id.encode()),
            (b"connection", b"close"),
            *((name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in error.headers.items()),
        ]
        await send({"type": "http.response.start", "status": error.status_code, "headers": headers})
        await send({"type": "http.response.body", "body": body, "more_body": False})

    return app


_OVER_CAPACITY = error_app(
    ServiceUnavailable(
        "This server is answering as many requests as it can; retry shortly.",
        code="over_capacity",
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )
)
_FAILED = error_app(InternalError("Something went wrong on our side. The request id identifies it."))


class _Cycle(RequestResponseCycle):
    """Uvicorn's request cycle, whose fallback 500 (the app raised or returned before answering) is in the
    error shape."""

    async def send_500_response(self) -> None:
        await _FAILED(self.scope, self.receive, self.send)  # type: ignore[arg-type]


class MaskHttpProtocol(HttpToolsProtocol):
    """`mask serve`'s HTTP/1.1 protocol (`uvicorn --http mask.serving:MaskHttpProtocol`)."""

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self.max_concurrent_requests = _max_concurrent_requests()
        self.head_pending = True  # between two requests, and until a request's headers are complete
        self.head_bytes = 0  # bytes received while the head was pending (an upper bound of the head's size)
        self.head_size = 0  # the parsed head: target and headers

    def data_received(self, data: bytes) -> None:
        if self.head_pending:
            self.head_bytes += len(data)
        super().data_received(data)
        # A head still incomplete after all it was sent: what the parser holds is that head.
        if self.head_pending and self.head_bytes > MAX_HEAD_BYTES:
            self._refuse_head()

    def send_400_response(self, msg: str) -> None:
        if self.transport.is_closing():  # refused already (a head too large stops the parser)
            return
        error = BadRequest("The request is not valid HTTP/1.1.", code="malformed_request")
        self.transport.write(error_bytes(error, self.server_state.default_headers))
        self.transport.close()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self.head_size = 0

    def on_url(self, url: bytes) -> None:
        self.head_size += len(url)
        if self.head_size > MAX_HEAD_BYTES:
            self._refuse_head()
            raise _HeadTooLarge
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self.head_size += len(name) + len(value) + 4
        if self.head_size > MAX_HEAD_BYTES:
            self._refuse_head()
            raise _HeadTooLarge
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self.head_pending = False
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self.head_pending = True
        self.head_bytes = 0

    def _refuse_head(self) -> None:
        if self.transport.is_closing():
            return
        error = HeadersTooLarge(f"The request line and headers are larger than {MAX_HEAD_BYTES} bytes.")
        self.transport.write(error_bytes(error, self.server_state.default_headers))
        self.transport.close()

    def _start_asgi_task(self, cycle: RequestResponseCycle, app: Any) -> None:
        cycle.__class__ = _Cycle
        if self.max_concurrent_requests and len(self.tasks) >= self.max_concurrent_requests:
            app = _OVER_CAPACITY
        super()._start_asgi_task(cycle, app)

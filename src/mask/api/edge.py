"""The API's outermost layer: request id, the edge guard (rate limit), HTTPS in production, HSTS, body size and
content type, before FastAPI sees the request.

A request with a body is authenticated before its body is read, and the body is read here, whole, before any
database work: at most MAX_BODY_BYTES whatever the framing (chunked included), within `body_read_timeout`.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Protocol

from fastapi.security.utils import get_authorization_scheme_param
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mask.auth import service as auth_service
from mask.auth.service import ResolvedKey
from mask.config import Settings
from mask.dependencies import REQUEST_SESSION_STATE
from mask.imports.service import MAX_IMPORT_BYTES
from mask.kit.errors import (
    Forbidden,
    InternalError,
    MaskError,
    PayloadTooLarge,
    RequestTimeout,
    ServiceUnavailable,
    UnsupportedMediaType,
)
from mask.kit.http import HSTS, busy_error, database_busy, error_response, new_request_id, request_id_var
from mask.kit.net import is_secure

logger = logging.getLogger("mask.api")

MAX_BODY_BYTES = 1_000_000
# An import's file (`POST /v1/imports`, multipart): the one body allowed to be large, and not JSON.
UPLOAD_PATH = "/v1/imports"
MAX_UPLOAD_BYTES = MAX_IMPORT_BYTES + 100_000  # the file and the form around it


class EdgeGuard(Protocol):
    """Runs first on every request (the rate limiter): returns headers for whatever answer is sent, and an error
    that answers instead of the app (429), or None. `finish` runs once the request is over, whatever happened."""

    async def __call__(self, scope: Scope) -> tuple[list[tuple[bytes, bytes]], MaskError | None]: ...

    async def finish(self, scope: Scope) -> None: ...


class ApiEdgeMiddleware:
    """Outermost layer of the API: request id, rate limit (`guard`), HTTPS in production, HSTS, body size."""

    def __init__(
        self,
        app: ASGIApp,
        settings: Settings,
        guard: EdgeGuard | None = None,
        *,
        sessionmaker: async_sessionmaker[AsyncSession] | None = None,
    ) -> None:
        self.app = app
        self.settings = settings
        self.guard = guard
        self.sessionmaker = sessionmaker  # where the edge looks an API key up before reading a body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = request_id_var.get() or new_request_id()
        token = request_id_var.set(request_id)
        secure = is_secure(scope, self.settings.trusted_proxy_networks)
        guard_headers: list[tuple[bytes, bytes]] = []

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode()))
                headers.extend(guard_headers)
                if secure:
                    headers.append((b"strict-transport-security", HSTS))
                message["headers"] = headers
            await send(message)

        try:
            if self.guard is not None:
                guard_headers, refusal = await self.guard(scope)
                if refusal is not None:
                    await _refuse(refusal, scope, receive, send_with_headers)
                    return
            if self.settings.is_production and not secure and scope["path"] != "/health":
                error: MaskError = Forbidden(
                    "The API is served over HTTPS only; repeat the request with https://.", code="https_required"
                )
                await _refuse(error, scope, receive, send_with_headers)
                return
            length = _content_length(scope)
            upload = scope["path"] == UPLOAD_PATH and scope["method"] == "POST"
            limit = MAX_UPLOAD_BYTES if upload else MAX_BODY_BYTES
            if length is not None and length > limit:
                error = PayloadTooLarge(f"The request body is larger than {limit} bytes.")
                await _refuse_unread(error, scope, receive, send_with_headers)
                return
            if scope["method"] in ("POST", "PATCH", "PUT"):
                content_type = _header(scope, b"content-type")
                if content_type is None:  # `curl -d` without a type: read the body as JSON, the API's only format
                    scope = dict(scope, headers=[*scope["headers"], (b"content-type", b"application/json")])
                elif not _is_json(content_type) and not (
                    scope["path"] == UPLOAD_PATH and _is_multipart(content_type)  # any method: the router says 405
                ):
                    error = UnsupportedMediaType(
                        "Send the body as JSON with `Content-Type: application/json`.", code="unsupported_media_type"
                    )
                    await _refuse_unread(error, scope, receive, send_with_headers)
                    return
            if _has_body(scope):
                # Who is asking before what they send: a client without a valid key never gets its body read.
                refusal = await self._authenticate(scope) if scope["path"].startswith("/v1/") else None
                # An import's file may be 50 times a JSON body: it gets as many times the time to arrive.
                seconds = self.settings.body_read_timeout * (MAX_UPLOAD_BYTES // MAX_BODY_BYTES if upload else 1)
                body = refusal or await _read_body(receive, seconds=seconds, limit=limit)
                if isinstance(body, MaskError):
                    await _refuse_unread(body, scope, receive, send_with_headers)
                    return
                receive = _replay(body, receive)
            await self._serve(scope, receive, send_with_headers)
        finally:
            try:
                if self.guard is not None:
                    await self.guard.finish(scope)
                unadopted = scope.get("state", {}).pop(REQUEST_SESSION_STATE, None)  # the edge's key lookup
                if unadopted is not None:
                    await unadopted.close()
            finally:
                request_id_var.reset(token)

    async def _serve(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The app, whose failures still answer in the error shape (with this request's id) when nothing was sent:
        a database out of reach (the pool's timeout) is 503, anything else 500."""
        started = False

        async def watch(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, watch)
        except Exception as exc:
            if started:
                raise
            error: MaskError
            if database_busy(exc) or isinstance(exc, OSError):
                logger.warning("database unavailable for %s %s: %r", scope["method"], scope["path"], exc)
                error = busy_error()
            else:
                logger.exception(
                    "unhandled error in %s %s (request %s)", scope["method"], scope["path"], request_id_var.get()
                )
                error = InternalError("Something went wrong on our side. The request id identifies it.")
            await error_response(error)(scope, receive, send)

    async def _authenticate(self, scope: Scope) -> MaskError | None:
        """Resolve the bearer key unless the rate limiter did, leaving it (and the session it was read in, its
        connection returned) for the Authenticator: the refusal if it admits nobody, else None."""
        state = scope.setdefault("state", {})
        resolved = state.get(ResolvedKey.STATE)
        token = _bearer_token(scope)
        if token is None:
            return auth_service.no_credentials(header_sent=_header(scope, b"authorization") is not None)
        if not isinstance(resolved, ResolvedKey) or resolved.token != token:
            if self.sessionmaker is None:
                return None  # an app without a database (unit tests of the edge): the Authenticator decides
            session = self.sessionmaker()
            try:
                resolved = await auth_service.resolve(session, token=token)
                await session.commit()  # the connection goes back to the pool while the body is read
            except (SQLAlchemyError, OSError):
                await session.close()
                logger.exception("could not resolve an API key")
                return ServiceUnavailable(
                    "The server cannot check API keys right now; retry shortly.", headers={"Retry-After": "2"}
                )
            previous = state.pop(REQUEST_SESSION_STATE, None)
            if previous is not None:
                await previous.close()
            state[ResolvedKey.STATE] = resolved
            state[REQUEST_SESSION_STATE] = session
        return resolved.error if resolved.subject is None else None


class BodyFirst:
    """For an app outside the API that reads bodies (the dashboard's forms): the body read whole before the app
    (and its database session) sees the request, on the API's terms: MAX_BODY_BYTES whatever the framing
    (`413`), within `body_read_timeout` (`408`), answered in the error shape."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not _has_body(scope):
            await self.app(scope, receive, send)
            return
        length = _content_length(scope)
        body: bytes | MaskError
        if length is not None and length > MAX_BODY_BYTES:
            body = PayloadTooLarge(f"The request body is larger than {MAX_BODY_BYTES} bytes.")
        else:
            body = await _read_body(receive, seconds=self.settings.body_read_timeout)
        if isinstance(body, MaskError):
            request_id = new_request_id()
            token = request_id_var.set(request_id)

            async def send_with_id(message: Message) -> None:
                if message["type"] == "http.response.start":
                    message["headers"] = [*message.get("headers", []), (b"x-request-id", request_id.encode())]
                await send(message)

            try:
                await _refuse_unread(body, scope, receive, send_with_id)
            finally:
                request_id_var.reset(token)
            return
        await self.app(scope, _replay(body, receive), send)


def _has_body(scope: Scope) -> bool:
    """Whether the request announces a body: a non-zero Content-Length, or any Transfer-Encoding (chunked)."""
    length = _content_length(scope)
    return bool(length) or _header(scope, b"transfer-encoding") is not None


async def _read_body(receive: Receive, *, seconds: float, limit: int = MAX_BODY_BYTES) -> bytes | MaskError:
    """The whole body, refused (413) as soon as it passes `limit` bytes whatever the framing, or when it
    takes longer than `seconds` to arrive (408). Nothing waits for the database meanwhile."""
    chunks: list[bytes] = []
    size = 0
    try:
        async with asyncio.timeout(seconds):
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    break
                chunk = message.get("body", b"")
                size += len(chunk)
                if size > limit:
                    return PayloadTooLarge(f"The request body is larger than {limit} bytes.")
                chunks.append(chunk)
                if not message.get("more_body", False):
                    break
    except TimeoutError:
        return RequestTimeout(f"The request body did not arrive within {seconds:g} seconds.")
    return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    """The body read at the edge, in one message; then the connection's own messages (a disconnect)."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


async def _refuse_unread(error: MaskError, scope: Scope, receive: Receive, send: Send) -> None:
    """Answer `error` without reading the rest of the body; the connection closes after the answer, so the
    server does not read (and discard) whatever the client goes on sending."""
    error.headers.setdefault("Connection", "close")
    await error_response(error)(scope, receive, send)


async def _refuse(error: MaskError, scope: Scope, receive: Receive, send: Send) -> None:
    """Answer `error` before the body was read: closing the connection if there is one to come."""
    if _has_body(scope):
        await _refuse_unread(error, scope, receive, send)
    else:
        await error_response(error)(scope, receive, send)


def _bearer_token(scope: Scope) -> str | None:
    """The token exactly as the Authenticator reads it (FastAPI's HTTPBearer parsing, then stripped)."""
    value = _header(scope, b"authorization")
    if value is None:
        return None
    scheme, credentials = get_authorization_scheme_param(value.decode("latin-1"))
    if scheme.lower() != "bearer" or not credentials:
        return None
    return credentials.strip()


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return bytes(value)
    return None


def _is_json(content_type: bytes) -> bool:
    media_type = content_type.split(b";", 1)[0].strip().lower()
    return media_type == b"application/json" or media_type.endswith(b"+json")


def _is_multipart(content_type: bytes) -> bool:
    return content_type.split(b";", 1)[0].strip().lower() == b"multipart/form-data"


def _content_length(scope: Scope) -> int | None:
    value = _header(scope, b"content-length")
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None

"""The API's outermost layer: request id, the edge guard (rate limit), HTTPS in production, HSTS, body size and
content type, before FastAPI sees the request."""

from __future__ import annotations

from typing import Protocol

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mask.config import Settings
from mask.imports.service import MAX_IMPORT_BYTES
from mask.kit.errors import Forbidden, MaskError, PayloadTooLarge, UnsupportedMediaType
from mask.kit.http import HSTS, error_response, new_request_id, request_id_var
from mask.kit.net import is_secure

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

    def __init__(self, app: ASGIApp, settings: Settings, guard: EdgeGuard | None = None) -> None:
        self.app = app
        self.settings = settings
        self.guard = guard

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = new_request_id()
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
                    await error_response(refusal)(scope, receive, send_with_headers)
                    return
            if self.settings.is_production and not secure and scope["path"] != "/health":
                error: MaskError = Forbidden(
                    "The API is served over HTTPS only; repeat the request with https://.", code="https_required"
                )
                await error_response(error)(scope, receive, send_with_headers)
                return
            length = _content_length(scope)
            upload = scope["path"] == UPLOAD_PATH and scope["method"] == "POST"
            limit = MAX_UPLOAD_BYTES if upload else MAX_BODY_BYTES
            if length is not None and length > limit:
                error = PayloadTooLarge(f"The request body is larger than {limit} bytes.")
                await error_response(error)(scope, receive, send_with_headers)
                return
            if scope["method"] in ("POST", "PATCH", "PUT"):
                content_type = _header(scope, b"content-type")
                if content_type is None:  # `curl -d` without a type: read the body as JSON, the API's only format
                    scope = dict(scope, headers=[*scope["headers"], (b"content-type", b"application/json")])
                elif not _is_json(content_type) and not (upload and _is_multipart(content_type)):
                    error = UnsupportedMediaType(
                        "Send the body as JSON with `Content-Type: application/json`.", code="unsupported_media_type"
                    )
                    await error_response(error)(scope, receive, send_with_headers)
                    return
            await self.app(scope, receive, send_with_headers)
        finally:
            try:
                if self.guard is not None:
                    await self.guard.finish(scope)
            finally:
                request_id_var.reset(token)


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

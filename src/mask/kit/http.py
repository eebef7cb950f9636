"""The API's HTTP plumbing: request ids, the error shape for every failure, HTTPS in production."""

from __future__ import annotations

import contextvars
import json
import logging
import secrets
from typing import Any, Protocol

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mask.config import Settings
from mask.kit.errors import (
    BadRequest,
    FieldError,
    Forbidden,
    InternalError,
    MaskError,
    MethodNotAllowed,
    NotFound,
    PayloadTooLarge,
    UnsupportedMediaType,
    ValidationFailed,
)
from mask.kit.net import is_secure

logger = logging.getLogger("mask.api")

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)

MAX_BODY_BYTES = 1_000_000
HSTS = b"max-age=63072000; includeSubDomains"


def new_request_id() -> str:
    return f"req_{secrets.token_hex(12)}"


def error_response(error: MaskError) -> JSONResponse:
    return JSONResponse(error.body(request_id_var.get()), status_code=error.status_code, headers=error.headers)


def _param_from_loc(loc: tuple[Any, ...]) -> str:
    parts = [str(part) for part in loc if part not in ("body", "query", "path", "header")]
    return ".".join(parts) if parts else "body"


def _validation_error(exc: RequestValidationError) -> MaskError:
    errors = exc.errors()
    for error in errors:
        if error.get("type") == "json_invalid":
            return BadRequest("The request body is not valid JSON.", code="invalid_json")
        if tuple(error.get("loc", ())) == ("body",) and error.get("type") in ("model_attributes_type", "dict_type"):
            return BadRequest("The request body must be a JSON object.", code="invalid_body")
        if tuple(error.get("loc", ())) == ("body",) and error.get("type") == "missing":
            return BadRequest("A JSON object body is required.", code="missing_body")
    field_errors = []
    for error in errors:
        loc = tuple(error.get("loc", ()))
        kind = str(error.get("type", "invalid"))
        message = str(error.get("msg", "Invalid value."))
        if kind == "extra_forbidden":
            kind, message = "unknown_field", "This field is not part of the API."
        elif kind == "missing":
            kind, message = "required", "This field is required."
        field_errors.append(FieldError(_param_from_loc(loc), kind, message))
    return ValidationFailed(field_errors)


def install_error_handlers(app: FastAPI) -> None:
    """Every failure the API can produce goes through one of these, into the one error shape."""

    async def on_mask_error(_request: Request, exc: Exception) -> Response:
        assert isinstance(exc, MaskError)
        return error_response(exc)

    async def on_validation(_request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        return error_response(_validation_error(exc))

    async def on_http_exception(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        if exc.status_code == 404:
            return error_response(NotFound(f"No route {request.method} {request.url.path}.", code="route_not_found"))
        if exc.status_code == 405:
            error = MethodNotAllowed(f"{request.method} is not allowed on {request.url.path}.")
            error.headers.update(exc.headers or {})
            return error_response(error)
        generic = MaskError(str(exc.detail), code="http_error")
        generic.status_code = exc.status_code  # type: ignore[misc]
        return error_response(generic)

    async def on_unexpected(request: Request, exc: Exception) -> Response:
        logger.exception(
            "unhandled error in %s %s (request %s)", request.method, request.url.path, request_id_var.get()
        )
        return error_response(InternalError("Something went wrong on our side. The request id identifies it."))

    app.add_exception_handler(MaskError, on_mask_error)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http_exception)
    app.add_exception_handler(Exception, on_unexpected)


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
            if length is not None and length > MAX_BODY_BYTES:
                error = PayloadTooLarge(f"The request body is larger than {MAX_BODY_BYTES} bytes.")
                await error_response(error)(scope, receive, send_with_headers)
                return
            if scope["method"] in ("POST", "PATCH", "PUT"):
                content_type = _header(scope, b"content-type")
                if content_type is None:  # `curl -d` without a type: read the body as JSON, the API's only format
                    scope = dict(scope, headers=[*scope["headers"], (b"content-type", b"application/json")])
                elif not _is_json(content_type):
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


def _content_length(scope: Scope) -> int | None:
    value = _header(scope, b"content-length")
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def json_dumps(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")

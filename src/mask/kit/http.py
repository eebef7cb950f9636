"""HTTP plumbing shared by every app: request ids, the error shape for every failure, JSON bytes."""

from __future__ import annotations

import contextvars
import json
import logging
import re
import secrets
from typing import Any

import sqlalchemy.exc
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse, Response
from starlette.routing import Match

from mask.kit.errors import (
    BadRequest,
    FieldError,
    InternalError,
    MaskError,
    MethodNotAllowed,
    NotFound,
    ServiceUnavailable,
    ValidationFailed,
)

logger = logging.getLogger("mask.api")

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)

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


def database_busy(exc: BaseException) -> bool:
    """A failure that a retry may well not meet: every pooled connection stayed busy for the pool's whole
    timeout, or SQLite's write lock stayed taken for its whole busy timeout."""
    if isinstance(exc, sqlalchemy.exc.TimeoutError):
        return True
    return isinstance(exc, sqlalchemy.exc.OperationalError) and "database is locked" in str(exc.orig)


def busy_error() -> ServiceUnavailable:
    return ServiceUnavailable(
        "The server is too busy to answer this request; retry shortly.", headers={"Retry-After": "2"}
    )


METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def _allowed_methods(request: Request) -> list[str]:
    """Every method the path answers (Starlette's 405 names only the first matching route's): as the OpenAPI
    document lists them, where a path it names literally (`/v1/links/info`) is that resource's, not also one of
    a template's (`/v1/links/{link_id}`); for an undocumented path, the methods of the routes matching it."""
    documented = _documented_methods(request.app.openapi().get("paths", {}), request.url.path)
    if documented:
        return documented
    routes = request.app.router.routes
    return [
        method
        for method in METHODS
        if any(route.matches({**request.scope, "method": method})[0] is Match.FULL for route in routes)
    ]


def _documented_methods(paths: dict[str, Any], path: str) -> list[str]:
    literal = paths.get(path)
    matching = (
        [literal]
        if literal is not None
        else [
            item
            for template, item in paths.items()
            if "{" in template and re.fullmatch(re.sub(r"\\{[^/]+?\\}", "[^/]+", re.escape(template)), path)
        ]
    )
    named = {method.upper() for item in matching for method in item}
    return [method for method in METHODS if method in named]


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
            allowed = _allowed_methods(request)
            error = MethodNotAllowed(f"{request.method} is not allowed on {request.url.path}.")
            error.headers.update(exc.headers or {})
            if allowed:
                error.headers["Allow"] = ", ".join(allowed)
            return error_response(error)
        if exc.status_code == 400 and isinstance(exc.__cause__, UnicodeDecodeError | RecursionError | ValueError):
            # FastAPI's body parsing: bytes that are not UTF-8, nesting deeper than the parser goes, an integer
            # of more digits than Python converts. JSON that cannot be read, like a syntax error.
            return error_response(BadRequest("The request body is not valid JSON.", code="invalid_json"))
        generic = MaskError(str(exc.detail), code="http_error")
        generic.status_code = exc.status_code  # type: ignore[misc]
        return error_response(generic)

    async def on_unexpected(request: Request, exc: Exception) -> Response:
        logger.exception(
            "unhandled error in %s %s (request %s)", request.method, request.url.path, request_id_var.get()
        )
        return error_response(InternalError("Something went wrong on our side. The request id identifies it."))

    async def on_database_error(request: Request, exc: Exception) -> Response:
        if not database_busy(exc):
            return await on_unexpected(request, exc)
        logger.warning("database busy for %s %s: %s", request.method, request.url.path, exc)
        return error_response(busy_error())

    app.add_exception_handler(MaskError, on_mask_error)
    app.add_exception_handler(sqlalchemy.exc.TimeoutError, on_database_error)
    app.add_exception_handler(sqlalchemy.exc.OperationalError, on_database_error)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http_exception)
    app.add_exception_handler(Exception, on_unexpected)


def json_dumps(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")

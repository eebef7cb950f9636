"""HTTP plumbing shared by every app: request ids, the error shape for every failure, JSON bytes."""

from __future__ import annotations

import contextvars
import json
import logging
import secrets
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse, Response

from mask.kit.errors import (
    BadRequest,
    FieldError,
    InternalError,
    MaskError,
    MethodNotAllowed,
    NotFound,
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


def validation_failed(errors: Sequence[Any]) -> MaskError:
    """What the API answers for these Pydantic errors (a bulk item validated on its own)."""
    return _validation_error(RequestValidationError(errors))


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


def json_dumps(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")

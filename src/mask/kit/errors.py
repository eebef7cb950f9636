"""Typed domain errors. Each carries its HTTP status and error code; the API maps them to one JSON shape.

The shape (every non-2xx answer of the API):
    {"error": {"type": ..., "code": ..., "message": ..., "param": ..., "request_id": "req_..."}}
422 answers add "errors": [{"param", "code", "message"}, ...], one per invalid field.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar


@dataclass(frozen=True)
class FieldError:
    param: str
    code: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"param": self.param, "code": self.code, "message": self.message}


class MaskError(Exception):
    status_code: ClassVar[int] = 400
    type: ClassVar[str] = "invalid_request_error"
    code: ClassVar[str] = "invalid_request"

    def __init__(
        self, message: str, *, param: str | None = None, code: str | None = None, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.param = param
        self.headers = headers or {}
        if code is not None:
            self.code = code  # type: ignore[misc]

    def body(self, request_id: str | None) -> dict[str, Any]:
        error: dict[str, Any] = {
            "type": self.type,
            "code": self.code,
            "message": self.message,
            "param": self.param,
            "request_id": request_id,
        }
        return {"error": error}


class BadRequest(MaskError):
    status_code = 400
    code = "bad_request"


class Unauthenticated(MaskError):
    status_code = 401
    type = "authentication_error"
    code = "invalid_api_key"


class Forbidden(MaskError):
    status_code = 403
    type = "permission_error"
    code = "forbidden"


class InsufficientScope(Forbidden):
    code = "insufficient_scope"

    def __init__(self, scope: str) -> None:
        super().__init__(f"This API key lacks the scope `{scope}` required for this request.")
        self.required_scope = scope

    def body(self, request_id: str | None) -> dict[str, Any]:
        body = super().body(request_id)
        body["error"]["required_scope"] = self.required_scope
        return body


class NotFound(MaskError):
    status_code = 404
    code = "not_found"


class MethodNotAllowed(MaskError):
    status_code = 405
    code = "method_not_allowed"


class Conflict(MaskError):
    status_code = 409
    code = "conflict"


class ValidationFailed(MaskError):
    """422: one or more fields are invalid; every one is listed."""

    status_code = 422
    code = "validation_error"

    def __init__(self, errors: list[FieldError], message: str | None = None) -> None:
        if not errors:
            raise ValueError("ValidationFailed needs at least one field error")
        first = errors[0]
        super().__init__(message or f"{first.param}: {first.message}", param=first.param)
        self.errors = errors

    @classmethod
    def single(cls, param: str, code: str, message: str) -> ValidationFailed:
        return cls([FieldError(param, code, message)])

    def body(self, request_id: str | None) -> dict[str, Any]:
        body = super().body(request_id)
        body["error"]["errors"] = [error.as_dict() for error in self.errors]
        return body


class PayloadTooLarge(MaskError):
    status_code = 413
    code = "payload_too_large"


class UnsupportedMediaType(MaskError):
    status_code = 415
    code = "unsupported_media_type"


class RateLimited(MaskError):
    status_code = 429
    type = "rate_limit_error"
    code = "rate_limit_exceeded"


class InternalError(MaskError):
    status_code = 500
    type = "api_error"
    code = "internal_error"


class RequestTimeout(MaskError):
    status_code = 408
    code = "request_timeout"


class HeadersTooLarge(MaskError):
    status_code = 431
    code = "headers_too_large"


class ServiceUnavailable(MaskError):
    """503: this server cannot take the request now (too many at once, the database out of reach); retry."""

    status_code = 503
    type = "api_error"
    code = "service_unavailable"

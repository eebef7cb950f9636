"""Pydantic building blocks shared by every domain's schemas."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, PlainSerializer, field_validator

from mask.kit.time import as_utc, isoformat_z

# Timestamps: accepted with any offset (naive means UTC), always emitted as UTC ISO 8601 with `Z`.
UTCDatetime = Annotated[
    datetime,
    AfterValidator(as_utc),
    PlainSerializer(isoformat_z, return_type=str, when_used="json-unless-none"),
]


# What the OpenAPI document states about a cursor (`next_cursor` is base64url without padding; empty is the first
# page). Stated, not enforced by Pydantic: the service refuses a malformed cursor with its own code.
CURSOR_SCHEMA: dict[str, Any] = {"pattern": "^[A-Za-z0-9_-]*$"}


def stated(*, nullable: bool = True, **rules: Any) -> Callable[[dict[str, Any]], None]:
    """A Field's `json_schema_extra`: rules the OpenAPI document states that the service checks itself (so its
    error codes stay its own). `nullable=False`: the field may be left out but `null` is refused, so the document
    does not offer `null`."""

    def state(schema: dict[str, Any]) -> None:
        options = schema.pop("anyOf", None)
        if options is not None:
            kept = [option for option in options if nullable or option.get("type") != "null"]
            if len(kept) == 1:
                schema.update(kept[0])
            else:
                schema["anyOf"] = kept
        target = schema if "anyOf" not in schema else next(o for o in schema["anyOf"] if o.get("type") != "null")
        target.update(rules)

    return state


class Schema(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class RequestSchema(BaseModel):
    """Request bodies refuse unknown fields: a typo (`utm_sorce`) is an error, not silently ignored.

    NUL characters are refused everywhere: PostgreSQL cannot store them in text, and no real value has one.
    """

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)

    @field_validator("*", mode="after")
    @classmethod
    def _refuse_nul(cls, value: Any) -> Any:
        texts = value if isinstance(value, list) else [value]
        if any(isinstance(text, str) and "\x00" in text for text in texts):
            raise ValueError("must not contain NUL (\\u0000) characters")
        return value


class ErrorDetail(BaseModel):
    param: str
    code: str
    message: str


class ErrorObject(BaseModel):
    type: str
    code: str
    message: str
    param: str | None = None
    request_id: str | None = None
    required_scope: str | None = None
    errors: list[ErrorDetail] | None = None


class ErrorBody(BaseModel):
    """The one shape of every non-2xx answer."""

    error: ErrorObject


ERROR_DESCRIPTIONS = {
    400: "Bad request: malformed JSON, a body that is not an object, or a bad header.",
    401: "Missing, malformed, unknown or revoked API key.",
    403: "The API key lacks the scope this endpoint needs (`required_scope` names it).",
    404: "No such resource in this workspace.",
    409: "Conflict with existing state (e.g. the slug is taken on this domain).",
    422: "One or more fields are invalid; `errors` lists every one with the reason.",
    429: "Rate limit exceeded; retry after `Retry-After` seconds.",
    500: "Unexpected server error; the `request_id` identifies it in the logs.",
}


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for the given status codes, all with the error shape."""
    every = sorted({*codes, 401, 429, 500})
    return {code: {"model": ErrorBody, "description": ERROR_DESCRIPTIONS[code]} for code in every}

"""The rate limit headers in the OpenAPI document: defined once under components/headers, referenced by every
response of every /v1 operation, plus `Retry-After` and the error body on 429."""

from __future__ import annotations

from typing import Any

RATE_LIMIT_HEADERS: dict[str, dict[str, Any]] = {
    "X-RateLimit-Limit": {
        "description": "Requests allowed per window (one minute): the workspace's plan, all its keys "
        "together (Hobby 60, Pro 600, Enterprise 6,000), or, for requests without a valid API "
        "key, the per-client-IP limit (MASK_RATE_LIMIT_ANONYMOUS_PER_MINUTE, default 60).",
        "schema": {"type": "integer", "example": 60},
    },
    "X-RateLimit-Remaining": {
        "description": "Requests left in the sliding window, this one counted.",
        "schema": {"type": "integer", "example": 59},
    },
    "X-RateLimit-Reset": {
        "description": "Unix time in whole seconds (UTC) at which Remaining next grows: when the oldest "
        "request counted in the sliding window leaves it. When Remaining is 0, the moment "
        "from which a request is accepted again.",
        "schema": {"type": "integer", "format": "unix-time", "example": 1767225600},
    },
}
RETRY_AFTER_HEADER: dict[str, Any] = {
    "description": "Whole seconds to wait before retrying (RFC 9110). A request sent after that is accepted, "
    "unless other requests counted against the same limit use the freed allowance first.",
    "schema": {"type": "integer", "minimum": 1, "example": 12},
}
TOO_MANY_REQUESTS = "Too many requests: the limit is spent (code `rate_limit_exceeded`); see Retry-After."
HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


def document_rate_limits(schema: dict[str, Any]) -> dict[str, Any]:
    """Add the rate limit headers to every /v1 response of an OpenAPI document, and a 429 answer."""
    components = schema.setdefault("components", {})
    headers = components.setdefault("headers", {})
    headers.update(RATE_LIMIT_HEADERS)
    headers["Retry-After"] = RETRY_AFTER_HEADER
    error_body = "ErrorBody" in components.get("schemas", {})
    for path, item in schema.get("paths", {}).items():
        if not (path == "/v1" or path.startswith("/v1/")):
            continue
        for method, operation in item.items():
            if method not in HTTP_METHODS:
                continue
            responses = operation.setdefault("responses", {})
            if "429" not in responses:
                responses["429"] = {"description": TOO_MANY_REQUESTS}
                if error_body:
                    responses["429"]["content"] = {
                        "application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}
                    }
            for status, response in responses.items():
                response_headers = response.setdefault("headers", {})
                names = [*RATE_LIMIT_HEADERS, "Retry-After"] if status == "429" else list(RATE_LIMIT_HEADERS)
                for name in names:
                    response_headers[name] = {"$ref": f"#/components/headers/{name}"}
    return schema

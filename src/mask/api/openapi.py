"""What the OpenAPI document states beyond what FastAPI derives: the answers the API's edge and body parsing give
to any operation that takes a body (400 unreadable or missing JSON, 413 too large, 415 not JSON)."""

from __future__ import annotations

from typing import Any

BODY_ERRORS = {
    "400": "Bad request: the body is missing, is not a JSON object, or is not valid JSON (`invalid_json`).",
    "413": "The body is larger than 1,000,000 bytes.",
    "415": "The body is not sent as JSON (`Content-Type: application/json`).",
}


HEAD_TOO_LARGE = "The request line and headers are larger than 64 KB (`headers_too_large`)."


def document_body_errors(schema: dict[str, Any]) -> dict[str, Any]:
    """Add 400, 413 and 415 in the error shape to every operation with a request body, and 431 (the server's cap
    on the request head) to every operation."""
    error_body = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}
    for item in schema.get("paths", {}).values():
        for operation in item.values():
            if not isinstance(operation, dict):
                continue
            responses = operation.setdefault("responses", {})
            responses.setdefault("431", {"description": HEAD_TOO_LARGE, "content": error_body})
            if "requestBody" in operation:
                for status, description in BODY_ERRORS.items():
                    responses.setdefault(status, {"description": description, "content": error_body})
    return schema

"""Opaque keyset cursors: base64url of the last row's sort key. No OFFSET scans, stable under inserts."""

from __future__ import annotations

import base64
import json
from datetime import datetime
from typing import Generic, TypeVar

from pydantic import BaseModel

from mask.kit.errors import ValidationFailed
from mask.kit.time import as_utc

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    data: list[T]
    has_more: bool
    next_cursor: str | None


def encode_cursor(created_at: datetime, row_id: str) -> str:
    raw = json.dumps([as_utc(created_at).isoformat(), row_id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        created_at, row_id = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if not isinstance(row_id, str) or not isinstance(created_at, str):
            raise ValueError("bad cursor parts")
        return as_utc(datetime.fromisoformat(created_at)), row_id
    except (ValueError, TypeError, UnicodeDecodeError) as error:
        raise ValidationFailed.single(
            "cursor", "invalid_cursor", "The cursor is not one this API returned; pass `next_cursor` back as is."
        ) from error

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


CursorValue = str | int | None


def encode_sort_cursor(sort: str, order: str, value: CursorValue, row_id: str) -> str:
    """A cursor for a list sorted by `sort` in `order`: the last row's sort key (None: in the rows without a
    value, listed last) and id, with the sort it belongs to, so that it is never read under another sort."""
    raw = json.dumps([sort, order, value, row_id], separators=(",", ":"), ensure_ascii=False).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_sort_cursor(cursor: str, sort: str, order: str) -> tuple[CursorValue, str]:
    """(sort key, id) of a cursor made by `encode_sort_cursor` for this sort and order; 422 otherwise."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        parts = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if not isinstance(parts, list) or len(parts) != 4:
            raise ValueError("not a sort cursor")
        cursor_sort, cursor_order, value, row_id = parts
        if not isinstance(row_id, str) or not (value is None or isinstance(value, str | int)):
            raise ValueError("bad cursor parts")
        if isinstance(value, bool):
            raise ValueError("bad cursor value")
    except (ValueError, TypeError, UnicodeDecodeError) as error:
        raise ValidationFailed.single(
            "cursor", "invalid_cursor", "The cursor is not one this API returned; pass `next_cursor` back as is."
        ) from error
    if (cursor_sort, cursor_order) != (sort, order):
        raise ValidationFailed.single(
            "cursor",
            "cursor_mismatch",
            f"This cursor belongs to sort={cursor_sort}&order={cursor_order}; keep the sort of the first page.",
        )
    return value, row_id

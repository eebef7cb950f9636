"""CSV for any analytics answer: the same rows as the JSON `data` (a count is one row)."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any

# A cell starting with one of these is a formula to spreadsheet programs; referrers and UTM values come
# from strangers, so such cells get a leading apostrophe (OWASP "CSV injection").
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> Any:
    """A value as a spreadsheet-safe CSV cell: null is empty, booleans are `true`/`false`."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str) and value.startswith(_FORMULA_PREFIXES):
        return "'" + value
    return value


def to_csv(columns: Sequence[str], rows: Sequence[dict[str, Any]]) -> str:
    """A header line, then one line per row; null is an empty cell."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([csv_cell(row.get(column)) for column in columns])
    return buffer.getvalue()

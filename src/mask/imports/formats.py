"""Reading other shorteners' exports: bytes → text → CSV rows → the fields of a link, one row at a time.

Text: a UTF-8 byte order mark is dropped; a file that is not UTF-8 is read as Windows-1252 (what Excel writes for
"CSV" on Western systems, a superset of Latin-1). Line endings may be mixed (`\\r\\n`, `\\n`, `\\r`). The
delimiter is sniffed among `,`, `;`, tab and `|` from the header line. A row the CSV reader cannot read (an
unclosed quote, a field over `MAX_FIELD`) becomes that row's error; the rows after it are still read.

Each source names its columns differently; `COLUMNS` maps MASK's fields to the header names each one writes,
matched case-insensitively with spaces, `_` and `-` ignored. Cells of every source are un-escaped as MASK's export
escapes them (a leading `'` before a formula character is dropped).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

MAX_FIELD = 100_000  # characters in one cell: far above any real URL (2,048) or note (2,000)
DELIMITERS = ",;\t|"
FIELDS = (
    "url",
    "slug",
    "domain",
    "short_url",
    "title",
    "notes",
    "tags",
    "external_id",
    "created_at",
    "clicks",
    "archived",
    "disabled",
    "expires_at",
    "expired_url",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "utm_term",
    "utm_content",
)
# Field → header names, per source (normalised: lower case, without spaces, `_` and `-`).
COLUMNS: dict[str, dict[str, tuple[str, ...]]] = {
    # MASK's own export (GET /v1/links/export?format=csv).
    "mask-csv": {name: (name.replace("_", ""),) for name in FIELDS},
    # Bitly's CSV export of links and its API field names.
    "bitly-csv": {
        "url": ("longurl", "destination", "destinationurl", "originalurl"),
        "short_url": (
            "custombitlink",
            "customlink",
            "custombitlylink",
            "custombackhalf",
            "link",
            "bitlink",
            "bitlylink",
            "shortlink",
            "id",
        ),
        "title": ("title",),
        "tags": ("tags",),
        "created_at": ("createdat", "datecreated", "created"),
        "clicks": ("clicks", "totalclicks", "engagements", "totalengagements"),
    },
    # Dub's CSV export (link, url, clicks, createdAt, id, updatedAt, tags, archived) and its import columns.
    "dub-csv": {
        "url": ("url", "destinationurl"),
        "short_url": ("link", "shortlink"),
        "slug": ("key",),
        "domain": ("domain",),
        "title": ("title",),
        "notes": ("comments", "description"),
        "tags": ("tags",),
        "external_id": ("externalid",),
        "created_at": ("createdat",),
        "clicks": ("clicks",),
        "archived": ("archived",),
    },
    # Shlink's web client export: createdAt, domain, shortCode, shortUrl, longUrl, title, tags (`|`), visits.
    "shlink-csv": {
        "url": ("longurl",),
        "slug": ("shortcode",),
        "domain": ("domain",),
        "short_url": ("shorturl",),
        "title": ("title",),
        "tags": ("tags",),
        "created_at": ("createdat", "datecreated"),
        "clicks": ("visits", "visitscount"),
    },
    # YOURLS (the `yourls_url` table as exported, or the export plugins): keyword, url, title, timestamp, clicks.
    "yourls-csv": {
        "url": ("url", "longurl"),
        "slug": ("keyword", "shorturl"),
        "title": ("title",),
        "created_at": ("timestamp", "date"),
        "clicks": ("clicks",),
    },
    # Kutt (its API's link fields): address, target, description, visit_count, created_at, link.
    "kutt-csv": {
        "url": ("target",),
        "slug": ("address",),
        "short_url": ("link",),
        "domain": ("domain",),
        "notes": ("description",),
        "created_at": ("createdat",),
        "clicks": ("visitcount",),
    },
}
TAG_SEPARATORS = {"shlink-csv": "|"}
SOURCES = (*COLUMNS, "csv")


def normalise(header: str) -> str:
    return "".join(char for char in header.strip().lower() if char not in " _-\ufeff")


def decode(content: bytes) -> str:
    """The file's text: UTF-8 (a byte order mark dropped), else Windows-1252, never an error."""
    if content.startswith(b"\xef\xbb\xbf"):
        content = content[3:]
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError:
        return content.decode("cp1252", errors="replace")


def sniff_delimiter(text: str) -> str:
    """The delimiter of the header line: the candidate it holds most of (`,` when none)."""
    header = text.split("\n", 1)[0].split("\r", 1)[0]
    counts = {delimiter: header.count(delimiter) for delimiter in DELIMITERS}
    best = max(counts, key=lambda delimiter: counts[delimiter])
    return best if counts[best] else ","


@dataclass
class Row:
    """One data row: its number (1 = the first row after the header) and its cells by header, or why it could
    not be read."""

    number: int
    cells: dict[str, str] = field(default_factory=dict)
    problem: str | None = None


def rows(text: str) -> tuple[list[str], Iterator[Row]]:
    """The header line's names and the data rows, read lazily. Blank lines are skipped."""
    csv.field_size_limit(MAX_FIELD)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sniff_delimiter(text), strict=True)
    try:
        header = next(reader)
    except (StopIteration, csv.Error):
        return [], iter(())

    def iterate() -> Iterator[Row]:
        number = 0
        while True:
            try:
                values = next(reader)
            except StopIteration:
                return
            except csv.Error as error:
                number += 1
                yield Row(number=number, problem=f"This row is not valid CSV: {error}.")
                continue
            if not any(value.strip() for value in values):
                continue
            number += 1
            if len(values) > len(header):
                yield Row(number=number, problem=f"This row has {len(values)} cells; the header has {len(header)}.")
                continue
            yield Row(number=number, cells=dict(zip(header, values, strict=False)))

    return header, iterate()


def count_rows(text: str) -> int:
    _header, data = rows(text)
    return sum(1 for _ in data)


def column_map(source: str, header: list[str], mapping: Mapping[str, str] | None) -> dict[str, list[str]]:
    """MASK field → the header names that may hold it in this file, the first non-empty one read (Bitly's custom
    back-half column, then its generated link). `mapping` (the generic `csv` source, or to override a source's
    guess) names one column per field exactly as the header does."""
    found: dict[str, list[str]] = {}
    by_normal = {normalise(name): name for name in header}
    for name, aliases in COLUMNS.get(source, {}).items():
        matches = [by_normal[alias] for alias in aliases if alias in by_normal]
        if matches:
            found[name] = matches
    for name, column in (mapping or {}).items():
        found[name] = [column]
    return found


def missing_columns(header: list[str], columns: Mapping[str, list[str]]) -> list[str]:
    """The mapped columns the header lacks, and `url` when nothing maps to it."""
    missing = [column for names in columns.values() for column in names if column not in header]
    if "url" not in columns:
        missing.append("url")
    return missing


def unescape(value: str) -> str:
    """MASK's export prefixes a cell a spreadsheet would evaluate with `'`; this takes it off again."""
    return value[1:] if value.startswith("'") else value


def split_tags(value: str, separator: str) -> list[str]:
    value = value.strip()
    if not value:
        return []
    if value.startswith("["):
        try:
            parsed = json.loads(value)
        except ValueError:
            parsed = None
        if isinstance(parsed, list) and all(isinstance(tag, str) for tag in parsed):
            return parsed
    return [tag.strip() for tag in value.split(separator) if tag.strip()]


def parse_time(value: str) -> datetime | None:
    """An ISO 8601 time (`Z`, `+00:00` or `+0000`), a `YYYY-MM-DD HH:MM:SS` one (UTC), or Unix seconds."""
    value = value.strip()
    if not value:
        return None
    if value.isdigit():
        return datetime.fromtimestamp(int(value), tz=UTC)
    text = value.replace("Z", "+00:00").replace(" ", "T", 1)
    if len(text) > 5 and text[-5] in "+-" and text[-4:].isdigit():
        text = text[:-2] + ":" + text[-2:]
    parsed = datetime.fromisoformat(text)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def parse_bool(value: str) -> bool | None:
    lowered = value.strip().lower()
    if lowered in ("true", "1", "yes", "y"):
        return True
    if lowered in ("false", "0", "no", "n", ""):
        return False
    return None


@dataclass
class Parsed:
    """A row as MASK fields: `link` for `LinkCreate`, plus what the import keeps beside it."""

    link: dict[str, Any]
    source_domain: str | None = None
    short_url: str | None = None
    created_at: datetime | None = None
    clicks: int | None = None
    problems: list[tuple[str, str, str]] = field(default_factory=list)  # (param, code, message)


def parse_row(source: str, cells: Mapping[str, str], columns: Mapping[str, list[str]]) -> Parsed:
    """The link a row describes. Unreadable dates, counts or flags are that row's problems."""
    values = {
        name: next((unescape(cells[column]) for column in names if (cells.get(column) or "").strip()), "")
        for name, names in columns.items()
    }
    parsed = Parsed(link={})
    link = parsed.link
    url = values.get("url", "").strip()
    link["url"] = url
    short_url = values.get("short_url", "").strip()
    if short_url:
        if "://" not in short_url:
            short_url = "https://" + short_url
        parts = urlsplit(short_url)
        parsed.short_url = short_url
        parsed.source_domain = (parts.hostname or "").lower() or None
        path = parts.path.strip("/")
        if path and "slug" not in columns:
            link["slug"] = path
    if values.get("slug", "").strip():
        link["slug"] = values["slug"].strip()
    if values.get("domain", "").strip():
        parsed.source_domain = values["domain"].strip().lower()
    for name in (
        "title",
        "notes",
        "external_id",
        "expired_url",
        *(f"utm_{part}" for part in ("source", "medium", "campaign", "term", "content")),
    ):
        if values.get(name):
            link[name] = values[name]
    if "tags" in values:
        tags = split_tags(values["tags"], TAG_SEPARATORS.get(source, ","))
        if tags:
            link["tags"] = tags
    for name in ("created_at", "expires_at"):
        if values.get(name, "").strip():
            try:
                when = parse_time(values[name])
            except ValueError:
                parsed.problems.append((name, "invalid_time", f"`{values[name]}` is not a date and time."))
                continue
            if name == "created_at":
                parsed.created_at = when
            else:
                link["expires_at"] = when
    if values.get("clicks", "").strip():
        try:
            parsed.clicks = max(0, int(values["clicks"].strip().replace(",", "")))
        except ValueError:
            parsed.problems.append(("clicks", "invalid_count", f"`{values['clicks']}` is not a number of clicks."))
    for name in ("archived", "disabled"):
        if values.get(name, "").strip():
            flag = parse_bool(values[name])
            if flag is None:
                parsed.problems.append((name, "invalid_flag", f"`{name}` is true or false."))
            else:
                link[name] = flag
    return parsed

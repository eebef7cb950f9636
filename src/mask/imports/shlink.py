"""Reading a Shlink server through its REST API v3, as its public documentation describes it
(https://api-spec.shlink.io/ and https://shlink.io/documentation/api-docs/):

- `GET /rest/v3/short-urls?page=N&itemsPerPage=M&orderBy=dateCreated-ASC` with the header `X-Api-Key`; the answer
  is `{"shortUrls": {"data": [ShortUrl…], "pagination": {"currentPage", "pagesCount", "itemsPerPage",
  "itemsInCurrentPage", "totalItems"}}}`;
- a ShortUrl has `shortCode`, `shortUrl`, `longUrl`, `dateCreated` (ISO 8601 with an offset), `tags`, `title`,
  `domain` (null on the default domain), `meta` (`validSince`, `validUntil`, `maxVisits`) and `visitsSummary`
  (`total`, `nonBots`, `bots`; `visitsCount` on older servers);
- errors are RFC 7807 problem details (`{"type", "title", "detail", "status"}`), `401` for a wrong API key.

The server is the user's to name, so requests go through the webhooks' SSRF guard (MASK_IMPORT_ALLOWED_NETWORKS
excepted).
"""

from __future__ import annotations

from typing import Any

import httpx

from mask.imports.formats import Parsed, parse_time
from mask.kit.net import BlockedDestination

PAGE_SIZE = 100


class ShlinkError(Exception):
    """The Shlink server refused the import as a whole (a wrong key, an address MASK may not reach)."""


class Shlink:
    def __init__(self, client: httpx.AsyncClient, *, base_url: str, api_key: str) -> None:
        self.client = client
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key

    async def page(self, number: int) -> tuple[list[dict[str, Any]], int, int | None]:
        """The short URLs of page `number` (from 1), the number of pages and the total."""
        try:
            response = await self.client.get(
                f"{self.base_url}/rest/v3/short-urls",
                params={"page": number, "itemsPerPage": PAGE_SIZE, "orderBy": "dateCreated-ASC"},
                headers={"X-Api-Key": self.api_key, "Accept": "application/json"},
            )
        except BlockedDestination as error:
            raise ShlinkError(f"MASK may not reach that server ({error}).") from error
        except httpx.HTTPError as error:
            raise ShlinkError(f"The Shlink server could not be reached ({type(error).__name__}).") from error
        if response.status_code >= 400:
            raise ShlinkError(f"The Shlink server answered {response.status_code} {_detail(response)}.")
        body = response.json()
        short_urls = body.get("shortUrls") if isinstance(body, dict) else None
        if not isinstance(short_urls, dict):
            raise ShlinkError("The server's answer is not Shlink's (no `shortUrls`).")
        pagination = short_urls.get("pagination") or {}
        items = [item for item in short_urls.get("data") or [] if isinstance(item, dict)]
        total = pagination.get("totalItems")
        return items, int(pagination.get("pagesCount") or 0), total if isinstance(total, int) else None


def _detail(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.reason_phrase
    if isinstance(body, dict):
        return str(body.get("detail") or body.get("title") or response.reason_phrase)
    return response.reason_phrase


def to_parsed(item: dict[str, Any]) -> Parsed:
    short = str(item.get("shortUrl") or "")
    host = short.split("://", 1)[-1].split("/", 1)[0].lower() if short else ""
    domain = item.get("domain")
    parsed = Parsed(
        link={"url": str(item.get("longUrl") or "")},
        source_domain=str(domain).lower() if isinstance(domain, str) and domain else host or None,
        short_url=short or None,
    )
    if isinstance(item.get("shortCode"), str):
        parsed.link["slug"] = item["shortCode"]
    if isinstance(item.get("title"), str) and item["title"].strip():
        parsed.link["title"] = item["title"]
    tags = [tag for tag in item.get("tags") or [] if isinstance(tag, str) and tag.strip()]
    if tags:
        parsed.link["tags"] = tags
    if isinstance(item.get("dateCreated"), str):
        try:
            parsed.created_at = parse_time(item["dateCreated"])
        except ValueError:
            parsed.problems.append(("created_at", "invalid_time", f"`{item['dateCreated']}` is not a date and time."))
    summary = item.get("visitsSummary")
    total = summary.get("total") if isinstance(summary, dict) else item.get("visitsCount")
    parsed.clicks = total if isinstance(total, int) else None
    return parsed

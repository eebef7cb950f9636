"""Reading a Bitly account through Bitly's API v4, as its public documentation describes it:

- https://dev.bitly.com/api-reference — `GET /v4/groups` (`{"groups": [{"guid", …}]}`), `GET
  /v4/groups/{group_guid}/bitlinks` (`{"links": [BitlinkBody…], "pagination": {…}}`, `size` at most 100,
  `archived=both`), `GET /v4/bitlinks/{bitlink}/clicks/summary` (`{"total_clicks": n}`); a BitlinkBody has
  `id` (`bit.ly/3xYz`), `link`, `custom_bitlinks` (`https://yourbrand.co/spring`), `long_url`, `title`,
  `archived`, `created_at` (`2021-06-01T10:00:00+0000`) and `tags`; errors are `{"message", "description"}`;
- https://dev.bitly.com/docs/getting-started/changes-to-retrieve-bitlinks-by-group/ — iteration with
  `search_after`: pass the `pagination.search_after` of one answer to get the next; an empty one means the last;
- https://dev.bitly.com/docs/getting-started/rate-limits/ — over a limit, `429`; we wait (`Retry-After` when
  sent, else 1, 2, 4 … seconds) and ask again, `MAX_RETRIES` times at most.

Authentication: `Authorization: Bearer {token}`; a refused token is `403 FORBIDDEN` (or 401).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx

from mask.imports.formats import Parsed, parse_time

PAGE_SIZE = 100
MAX_RETRIES = 6


class BitlyError(Exception):
    """Bitly refused the import as a whole (a bad token, a group that is not the account's)."""


@dataclass
class Cursor:
    """Where an account import goes on from: the group being read and the token for its next page."""

    groups: list[str]
    group: int = 0
    search_after: str = ""

    def dump(self) -> dict[str, Any]:
        return {"groups": self.groups, "group": self.group, "search_after": self.search_after}

    @classmethod
    def load(cls, data: dict[str, Any]) -> Cursor:
        return cls(groups=list(data["groups"]), group=int(data["group"]), search_after=str(data["search_after"]))


class Bitly:
    def __init__(self, client: httpx.AsyncClient, *, base_url: str, token: str, retry_base: float = 1.0) -> None:
        self.client = client
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.retry_base = retry_base
        self.waited = 0  # 429s answered (tests, logs)

    async def _get(self, path: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        for attempt in range(MAX_RETRIES + 1):
            response = await self.client.get(
                self.base_url + path, params=params, headers={"Authorization": f"Bearer {self.token}"}
            )
            if response.status_code == 429 and attempt < MAX_RETRIES:
                self.waited += 1
                await asyncio.sleep(_retry_after(response, self.retry_base * 2**attempt))
                continue
            if response.status_code in (401, 403):
                raise BitlyError(f"Bitly refused the token ({response.status_code} {_message(response)}).")
            if response.status_code >= 400:
                raise BitlyError(f"Bitly answered {response.status_code} {_message(response)} for {path}.")
            body = response.json()
            if not isinstance(body, dict):
                raise BitlyError(f"Bitly answered {path} with something other than an object.")
            return body
        raise BitlyError("Bitly kept answering 429 (rate limited); try the import again later.")

    async def groups(self, only: str | None) -> list[str]:
        body = await self._get("/v4/groups")
        guids = [str(group["guid"]) for group in body.get("groups", []) if isinstance(group, dict) and "guid" in group]
        if only is not None:
            if only not in guids:
                raise BitlyError(f"The group `{only}` is not one of this Bitly account's groups.")
            return [only]
        return guids

    async def page(self, group: str, search_after: str) -> tuple[list[dict[str, Any]], str]:
        """One page of the group's Bitlinks (archived ones too) and the token of the next ("" after the last)."""
        params: dict[str, Any] = {"size": PAGE_SIZE, "archived": "both"}
        if search_after:
            params["search_after"] = search_after
        body = await self._get(f"/v4/groups/{quote(group, safe='')}/bitlinks", params)
        links = [link for link in body.get("links", []) if isinstance(link, dict)]
        pagination = body.get("pagination") or {}
        return links, str(pagination.get("search_after") or "") if links else ""

    async def clicks(self, bitlink: str) -> int:
        body = await self._get(f"/v4/bitlinks/{quote(bitlink, safe='')}/clicks/summary", {"unit": "day", "units": -1})
        total = body.get("total_clicks", 0)
        return int(total) if isinstance(total, int) else 0


def _retry_after(response: httpx.Response, default: float) -> float:
    value = response.headers.get("retry-after", "")
    return min(float(value), 60.0) if value.isdigit() else default


def _message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.reason_phrase
    if isinstance(body, dict):
        return str(body.get("message") or body.get("description") or response.reason_phrase)
    return response.reason_phrase


def to_parsed(link: dict[str, Any], clicks: int | None) -> Parsed:
    """A Bitlink as an import row: its custom back-half (the branded one people share) when it has one."""
    custom = [str(value) for value in link.get("custom_bitlinks") or [] if isinstance(value, str)]
    short = custom[0] if custom else str(link.get("link") or link.get("id") or "")
    if "://" not in short:
        short = "https://" + short
    host, _, slug = short.split("://", 1)[1].partition("/")
    parsed = Parsed(link={"url": str(link.get("long_url") or "")}, source_domain=host.lower() or None, short_url=short)
    if slug.strip("/"):
        parsed.link["slug"] = slug.strip("/")
    if isinstance(link.get("title"), str) and link["title"].strip():
        parsed.link["title"] = link["title"]
    tags = [tag for tag in link.get("tags") or [] if isinstance(tag, str) and tag.strip()]
    if tags:
        parsed.link["tags"] = tags
    if link.get("archived") is True:
        parsed.link["archived"] = True
    if isinstance(link.get("created_at"), str):
        try:
            parsed.created_at = parse_time(link["created_at"])
        except ValueError:
            parsed.problems.append(("created_at", "invalid_time", f"`{link['created_at']}` is not a date and time."))
    parsed.clicks = clicks
    return parsed

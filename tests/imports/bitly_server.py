"""A stand-in for Bitly's API v4 on a loopback port, built from its public documentation (the pages named in
mask/imports/bitly.py): the request and answer shapes of `GET /v4/groups`, `GET /v4/groups/{guid}/bitlinks`
(`size`, `search_after` iteration, `archived`), `GET /v4/bitlinks/{bitlink}/clicks/summary`, Bearer tokens
(`403 FORBIDDEN` otherwise) and `429 RATE_LIMIT_EXCEEDED`."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

TOKEN = "bitly-token-123"


@dataclass
class BitlyAccount:
    groups: dict[str, list[dict[str, Any]]]
    clicks: dict[str, int] = field(default_factory=dict)
    rate_limit_once: set[str] = field(default_factory=set)  # request paths answered 429 the first time
    requests: list[str] = field(default_factory=list)
    limited: int = 0


def bitlink(number: int, *, domain: str = "bit.ly", **extra: Any) -> dict[str, Any]:
    hash_ = f"3b{number:05d}"
    return {
        "references": {"group": "https://api-ssl.bitly.com/v4/groups/Ba1"},
        "link": f"https://{domain}/{hash_}",
        "id": f"{domain}/{hash_}",
        "long_url": f"https://shop.example/item/{number}",
        "title": f"Item {number}",
        "archived": False,
        "created_at": "2021-06-01T10:00:00+0000",
        "created_by": "someone",
        "client_id": "a1b2c3",
        "custom_bitlinks": [],
        "tags": [],
        "deeplinks": [],
        **extra,
    }


def _handler(account: BitlyAccount) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _answer(self, status: int, body: dict[str, Any]) -> None:
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            account.requests.append(self.path)
            if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                self._answer(
                    403,
                    {
                        "message": "FORBIDDEN",
                        "resource": "bitlinks",
                        "description": "You are currently forbidden to access this resource.",
                    },
                )
                return
            if self.path in account.rate_limit_once:
                account.rate_limit_once.discard(self.path)
                account.limited += 1
                self._answer(429, {"message": "RATE_LIMIT_EXCEEDED", "description": "Rate limit exceeded."})
                return
            query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
            segments = [unquote(segment) for segment in parts.path.strip("/").split("/")]
            if segments == ["v4", "groups"]:
                groups = [{"guid": guid, "name": f"Group {guid}", "is_active": True} for guid in account.groups]
                self._answer(200, {"groups": groups})
            elif len(segments) == 4 and segments[:2] == ["v4", "groups"] and segments[3] == "bitlinks":
                links = account.groups.get(segments[2])
                if links is None:
                    self._answer(404, {"message": "NOT_FOUND", "description": "The group was not found."})
                    return
                size = min(int(query.get("size", "50")), 100)
                start = int(query.get("search_after") or 0)
                page = links[start : start + size]
                after = str(start + size) if start + size < len(links) else ""
                next_url = f"https://api-ssl.bitly.com/v4/groups/{segments[2]}/bitlinks?search_after={after}"
                self._answer(
                    200,
                    {
                        "links": page,
                        "pagination": {"search_after": after, "next": next_url if after else "", "size": size},
                    },
                )
            elif len(segments) == 5 and segments[:2] == ["v4", "bitlinks"] and segments[3:] == ["clicks", "summary"]:
                clicks = account.clicks.get(segments[2], 0)
                self._answer(200, {"total_clicks": clicks, "units": -1, "unit": "day", "unit_reference": "2026-01-01"})
            else:
                self._answer(404, {"message": "NOT_FOUND"})

    return Handler


@contextmanager
def serve(account: BitlyAccount) -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(account))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()

"""Bench-only reference: the bare ASGI callable issue 3 measures against, answering a redirect from a dict.

No database, no click, no routing: what uvicorn itself costs per redirect on this machine, the ceiling of any
Python redirect path served the same way. The slugs come from the file named by BENCH_SLUGS_FILE.
"""

from __future__ import annotations

import os
from typing import Any

NO_STORE = (b"cache-control", b"private, no-store, max-age=0")
EMPTY = (b"content-length", b"0")
with open(os.environ["BENCH_SLUGS_FILE"], encoding="utf-8") as slugs_file:
    DESTINATIONS = {
        f"/{slug}": f"https://example.com/page/{slug}?ref=bench".encode() for slug in slugs_file.read().split()
    }


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    location = DESTINATIONS.get(scope["path"])
    if scope["path"] == "/health":
        await send({"type": "http.response.start", "status": 200, "headers": [EMPTY]})
    elif location is None:
        await send({"type": "http.response.start", "status": 404, "headers": [EMPTY]})
    else:
        headers = [(b"location", location), NO_STORE, EMPTY]
        await send({"type": "http.response.start", "status": 302, "headers": headers})
    await send({"type": "http.response.body", "body": b""})

"""A minimal webhook receiver for bench/webhooks.py: answers 204 to every POST and counts them.

    python bench/_webhook_receiver.py PORT

`GET /count` answers the number of POSTs received so far. Runs under uvicorn (httptools), in its own process
so that the receiver does not share MASK's event loop.
"""

from __future__ import annotations

import sys
from typing import Any

import uvicorn

received = 0


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    global received
    if scope["type"] != "http":
        return
    more = True
    while more:
        message = await receive()
        more = message.get("more_body", False)
    if scope["method"] == "POST":
        received += 1
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})
        return
    body = str(received).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"text/plain"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


if __name__ == "__main__":
    uvicorn.run(
        app,
        host="127.0.0.1",
        port=int(sys.argv[1]),
        log_level="warning",
        access_log=False,
        http="httptools",
        loop="uvloop",
        lifespan="off",
    )

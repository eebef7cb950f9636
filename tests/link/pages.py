"""A real HTTP server on loopback serving scripted pages for the title fetcher: each path answers with its
status, headers and body, or holds the request (`gate`), or streams forever (`endless`)."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field


@dataclass
class Route:
    status: int = 200
    headers: dict[str, str] = field(default_factory=lambda: {"content-type": "text/html"})
    body: bytes = b""
    gate: asyncio.Event | None = None  # the answer waits for it
    endless: bytes | None = None  # after `body`, this chunk again and again until the client goes away


@dataclass
class PageServer:
    host: str = "127.0.0.2"
    port: int = 0
    routes: dict[str, Route] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)  # paths asked for, in order
    streamed: dict[str, int] = field(default_factory=dict)  # bytes written per path before the client left
    _server: asyncio.Server | None = None

    def url(self, path: str) -> str:
        return f"http://{self.host}:{self.port}{path}"

    async def start(self) -> PageServer:
        self._server = await asyncio.start_server(self._serve, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 5)
            self._server = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
            writer.close()
            return
        path = head.split(b" ", 2)[1].decode("latin-1")
        self.requests.append(path)
        route = self.routes.get(path, Route(status=404, body=b"not found"))
        try:
            if route.gate is not None:
                await route.gate.wait()
            headers = dict(route.headers)
            if route.endless is None:
                headers["content-length"] = str(len(route.body))
            lines = [f"HTTP/1.1 {route.status} X"] + [f"{k}: {v}" for k, v in headers.items()]
            writer.write(("\r\n".join(lines) + "\r\nconnection: close\r\n\r\n").encode("latin-1") + route.body)
            await writer.drain()
            sent = len(route.body)
            while route.endless is not None and sent < 256_000_000:  # "endless", within reason
                writer.write(route.endless)
                await writer.drain()
                sent += len(route.endless)
                self.streamed[path] = sent
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()

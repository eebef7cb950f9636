"""A real HTTP receiver on loopback for webhook tests: verifies every request with the `standardwebhooks`
library, answers with scripted status codes, and can hold requests to show concurrency limits."""

from __future__ import annotations

import asyncio
import contextlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import h11
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from mask.kit.time import utcnow


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    verified: bool
    payload: dict[str, Any] | None
    at: datetime


@dataclass
class Receiver:
    secrets: list[str] = field(default_factory=list)
    port: int = 0
    statuses: list[int] = field(default_factory=list)  # answered in order, then `default_status`
    default_status: int = 200
    gate: asyncio.Event | None = None  # when set up, requests wait for it before being answered
    received: list[Received] = field(default_factory=list)
    in_flight: int = 0
    max_in_flight: int = 0
    _server: asyncio.Server | None = None
    _writers: set[asyncio.StreamWriter] = field(default_factory=set)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def payloads(self) -> list[dict[str, Any]]:
        return [r.payload for r in self.received if r.payload is not None]

    async def start(self) -> Receiver:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        """Stop listening and drop open (keep-alive) connections: the receiver is down."""
        if self._server is None:
            return
        self._server.close()
        for writer in list(self._writers):
            writer.close()
        await self._server.wait_closed()
        self._server = None

    def _verify(self, body: bytes, headers: dict[str, str]) -> tuple[bool, dict[str, Any] | None]:
        for secret in self.secrets:
            try:
                return True, Webhook(secret).verify(body, headers)
            except WebhookVerificationError:
                continue
        return False, json.loads(body) if body else None

    async def _respond(self, headers: dict[str, str], body: bytes) -> tuple[int, bytes]:
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            verified, payload = self._verify(body, headers)
            self.received.append(Received(headers=headers, body=body, verified=verified, payload=payload, at=utcnow()))
            if self.gate is not None:
                await self.gate.wait()
            status = self.statuses.pop(0) if self.statuses else self.default_status
            return status, json.dumps({"received": True, "status": status}).encode()
        finally:
            self.in_flight -= 1

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        connection = h11.Connection(h11.SERVER)
        headers: dict[str, str] = {}
        body = bytearray()
        try:
            while True:
                event = connection.next_event()
                if event is h11.NEED_DATA:
                    data = await reader.read(65536)
                    connection.receive_data(data)
                    if not data and connection.their_state is not h11.DONE:
                        return
                    continue
                if isinstance(event, h11.Request):
                    headers = {k.decode().lower(): v.decode() for k, v in event.headers}
                    body = bytearray()
                elif isinstance(event, h11.Data):
                    body.extend(event.data)
                elif isinstance(event, h11.EndOfMessage):
                    status, answer = await self._respond(headers, bytes(body))
                    writer.write(
                        connection.send(
                            h11.Response(
                                status_code=status,
                                headers=[("content-type", "application/json"), ("content-length", str(len(answer)))],
                            )
                        )
                    )
                    writer.write(connection.send(h11.Data(data=answer)))
                    writer.write(connection.send(h11.EndOfMessage()))
                    await writer.drain()
                    if connection.our_state is h11.MUST_CLOSE:
                        return
                    connection.start_next_cycle()
                elif isinstance(event, h11.ConnectionClosed):
                    return
        except (ConnectionError, h11.ProtocolError):
            return
        finally:
            self._writers.discard(writer)
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

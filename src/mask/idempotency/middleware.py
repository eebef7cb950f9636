"""`Idempotency-Key` on POST: a retry with the same key and body gets the first answer back (for 24 hours).

Keys are scoped to the API key that sent them (its id), and the API key is checked first: a request without a
valid key (unknown, revoked, expired, or its workspace suspended) is not replayed but goes on to be refused.
The first request claims the key with a pending row; a concurrent duplicate gets 409, a different body under the
same key 422, and a finished one is replayed with `Idempotent-Replayed: true`. Server errors release the key so
a retry runs. A claim whose request died without finishing or releasing it (a crash, the database gone while
storing the answer) is abandoned after PENDING_LEASE: a retry then runs instead of meeting 409 for 24 hours.
"""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import timedelta

from fastapi.security.utils import get_authorization_scheme_param
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mask.auth import service as auth_service
from mask.auth.service import ResolvedKey
from mask.context import AppContext
from mask.db import session_scope
from mask.idempotency.repository import IdempotencyRepository
from mask.kit.errors import Conflict, MaskError, ValidationFailed
from mask.kit.http import error_response, request_id_var
from mask.kit.time import utcnow

logger = logging.getLogger("mask.idempotency")

KEEP_FOR = timedelta(hours=24)
# How long a claim may stay pending before a retry may take it over. The body is read before the claim, so this
# only has to outlast the endpoint's own work (a 1,000-link bulk request takes seconds).
PENDING_LEASE = timedelta(minutes=2)
MAX_KEY_LENGTH = 255
# Answers that depend on the moment, not on the request: never replayed.
NOT_STORED = frozenset({401, 403, 429})


def _keyed(scope: Scope) -> bool:
    """POST requests, and the bulk link changes (`PATCH|DELETE /v1/links/bulk`)."""
    return bool(scope["method"] == "POST" or str(scope["path"]).endswith("/links/bulk"))


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope["headers"]:
        if key == name:
            return bytes(value)
    return None


def _bearer_token(scope: Scope) -> str | None:
    """The token as the Authenticator reads it: `Bearer` in any case, then the credentials stripped."""
    authorization = _header(scope, b"authorization")
    if authorization is None:
        return None
    scheme, credentials = get_authorization_scheme_param(authorization.decode("latin-1"))
    if scheme.lower() != "bearer" or not credentials.strip():
        return None
    return credentials.strip()


class IdempotencyMiddleware:
    def __init__(self, app: ASGIApp, context: AppContext) -> None:
        self.app = app
        self.context = context

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not _keyed(scope):
            await self.app(scope, receive, send)
            return
        raw_key = _header(scope, b"idempotency-key")
        token = _bearer_token(scope)
        if raw_key is None or token is None:
            await self.app(scope, receive, send)
            return
        key = raw_key.decode("latin-1").strip()
        if not key or len(key) > MAX_KEY_LENGTH:
            error = ValidationFailed.single(
                "Idempotency-Key",
                "invalid_idempotency_key",
                f"The Idempotency-Key header must be 1–{MAX_KEY_LENGTH} characters.",
            )
            await error_response(error)(scope, receive, send)
            return
        owner = await self._owner(scope, token)
        if owner is None:  # no valid key: never a replay; the endpoint refuses it (401, 403)
            await self.app(scope, receive, send)
            return
        body = await _read_body(receive)
        request_hash = hashlib.sha256(
            b"\n".join([scope["path"].encode(), scope.get("query_string", b""), body])
        ).hexdigest()

        refusal, replay = await self._claim(owner, key, request_hash)
        if refusal is not None:
            await error_response(refusal)(scope, receive, send)
            return
        if replay is not None:
            status_code, stored = replay
            await _send_json(send, status_code, stored, replayed=True)
            return

        captured = _Capture()
        try:
            await self.app(scope, _replay_body(body), captured.send)
        except BaseException:
            await self._release(owner, key)
            raise
        if captured.status_code >= 500 or captured.status_code in NOT_STORED:
            await self._release(owner, key)
        else:
            status_code, stored = captured.status_code, captured.body.decode("utf-8")
            if captured.holds_secret:  # a credential shown once is never kept: a retry learns it was made
                status_code, stored = _secret_not_replayed(stored)
            await self._complete(owner, key, status_code, stored)
        await captured.forward(send)

    async def _complete(self, owner: str, key: str, status_code: int, stored: str) -> None:
        """Keep the answer for replays. If that fails, the work is done all the same: the client gets its answer,
        and the claim is released (or, if even that fails, abandoned after PENDING_LEASE)."""
        try:
            async with session_scope(self.context.sessionmaker) as session:
                await IdempotencyRepository(session).complete(owner, key, status_code, stored)
        except Exception:
            logger.exception("could not store the answer for an Idempotency-Key; releasing the key")
            try:
                await self._release(owner, key)
            except Exception:
                logger.exception("could not release an Idempotency-Key; it is abandoned after %s", PENDING_LEASE)

    async def _owner(self, scope: Scope, token: str) -> str | None:
        """The id of the API key behind `token`, if it may act now; None otherwise."""
        resolved = scope.get("state", {}).get(ResolvedKey.STATE)
        if not isinstance(resolved, ResolvedKey) or resolved.token != token:  # the rate limiter did not look it up
            async with session_scope(self.context.sessionmaker) as session:
                resolved = await auth_service.resolve(session, token=token)
        subject = resolved.subject
        if subject is None or subject.workspace.suspended_at is not None:
            return None
        return subject.key.id

    async def _claim(self, owner: str, key: str, request_hash: str) -> tuple[MaskError | None, tuple[int, str] | None]:
        now = utcnow()
        async with session_scope(self.context.sessionmaker) as session:
            repository = IdempotencyRepository(session)
            await repository.purge_older_than(now - KEEP_FOR)
            if await repository.claim(owner, key, request_hash, now):
                return None, None
            if await repository.take_over_abandoned(owner, key, request_hash, now, now - PENDING_LEASE):
                return None, None
            record = await repository.get(owner, key)
            if record is None:  # purged between our two statements: treat as new next time
                return Conflict("Please retry this request.", code="idempotency_retry"), None
            if record.request_hash != request_hash:
                return ValidationFailed.single(
                    "Idempotency-Key",
                    "idempotency_key_reused",
                    "This Idempotency-Key was already used with a different request; use a new key.",
                ), None
            if record.status_code is None:
                return Conflict(
                    "A request with this Idempotency-Key is still being processed; retry shortly.",
                    code="idempotency_in_progress",
                ), None
            return None, (record.status_code, record.response_body or "")

    async def _release(self, owner: str, key: str) -> None:
        async with session_scope(self.context.sessionmaker) as session:
            await IdempotencyRepository(session).release(owner, key)


def _secret_not_replayed(body: str) -> tuple[int, str]:
    """What a retry of a request whose answer held a secret gets instead of that answer: 409, naming what the
    first request made (it exists; its secret is gone)."""
    try:
        made = json.loads(body).get("id")
    except (ValueError, AttributeError):
        made = None
    error = Conflict(
        f"A request with this Idempotency-Key already succeeded{f' and made `{made}`' if made else ''}; its "
        "answer held a secret, which is shown once and not kept. Revoke it if that answer was lost.",
        code="idempotency_secret_not_replayed",
    )
    return error.status_code, json.dumps(error.body(request_id_var.get()))


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay_body(body: bytes) -> Receive:
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return {"type": "http.disconnect"}

    return receive


class _Capture:
    def __init__(self) -> None:
        self.status_code = 500
        self.start: Message | None = None
        self.chunks: list[bytes] = []

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.start = message
            self.status_code = int(message["status"])
        elif message["type"] == "http.response.body":
            self.chunks.append(message.get("body", b""))

    @property
    def holds_secret(self) -> bool:
        """An answer marked `Cache-Control: no-store` (a new API key's secret)."""
        headers = self.start["headers"] if self.start is not None else []
        return any(name.lower() == b"cache-control" and b"no-store" in value.lower() for name, value in headers)

    @property
    def body(self) -> bytes:
        return b"".join(self.chunks)

    async def forward(self, send: Send) -> None:
        assert self.start is not None
        await send(self.start)
        await send({"type": "http.response.body", "body": self.body, "more_body": False})


async def _send_json(send: Send, status_code: int, body: str, *, replayed: bool) -> None:
    payload = body.encode("utf-8")
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]
    if replayed:
        headers.append((b"idempotent-replayed", b"true"))
    if status_code == 204:
        payload, headers = b"", headers[:0]
    await send({"type": "http.response.start", "status": status_code, "headers": headers})
    await send({"type": "http.response.body", "body": payload, "more_body": False})

"""`Mask` and `AsyncMask`: the same resources over `httpx.Client` or `httpx.AsyncClient`.

Each client drives the exchanges of `_core.ClientCore` with its own I/O (the runners below); the resources are
declared once (`resources/`) and bound to one runner or the other.
"""

from __future__ import annotations

import asyncio
import os
import time
from types import TracebackType
from typing import Any, Generic, TypeVar

import httpx

from mask_sdk._core import DEFAULT_BASE_URL, DEFAULT_MAX_RETRIES, DEFAULT_TIMEOUT, ClientCore, Exchange, Send
from mask_sdk._endpoint import Args, Operation
from mask_sdk._pagination import AsyncPager, Pager
from mask_sdk.errors import RateLimit
from mask_sdk.resources.analytics import Analytics
from mask_sdk.resources.audit_log import AuditLog
from mask_sdk.resources.bio_pages import BioPages
from mask_sdk.resources.domains import Domains
from mask_sdk.resources.imports import Imports
from mask_sdk.resources.keys import Keys
from mask_sdk.resources.links import Links
from mask_sdk.resources.members import Invitations, Members
from mask_sdk.resources.qr import Qr
from mask_sdk.resources.shared_dashboards import SharedDashboards
from mask_sdk.resources.tags import Tags
from mask_sdk.resources.webhooks import Webhooks
from mask_sdk.resources.workspace import WorkspaceSettings

T = TypeVar("T")
R = TypeVar("R")


class SyncRunner:
    """Runs exchanges with blocking I/O."""

    def __init__(self, core: ClientCore, http: httpx.Client) -> None:
        self.core = core
        self.http = http

    def run(self, exchange: Exchange[T]) -> T:
        action = next(exchange)
        while True:
            try:
                if isinstance(action, Send):
                    try:
                        response = self.http.send(action.request)
                    except httpx.TransportError as error:
                        action = exchange.throw(error)
                    else:
                        action = exchange.send(response)
                else:
                    time.sleep(action.seconds)
                    action = exchange.send(None)
            except StopIteration as finished:
                result: T = finished.value
                return result

    def call(self, operation: Operation, args: Args) -> Any:
        return self.run(self.core.call(operation, args))

    def paginate(self, operation: Operation, args: Args) -> Pager[Any]:
        return Pager(lambda page_args: self.call(operation, page_args), args)


class AsyncRunner:
    """Runs exchanges with asyncio."""

    def __init__(self, core: ClientCore, http: httpx.AsyncClient) -> None:
        self.core = core
        self.http = http

    async def run(self, exchange: Exchange[T]) -> T:
        action = next(exchange)
        while True:
            try:
                if isinstance(action, Send):
                    try:
                        response = await self.http.send(action.request)
                    except httpx.TransportError as error:
                        action = exchange.throw(error)
                    else:
                        action = exchange.send(response)
                else:
                    await asyncio.sleep(action.seconds)
                    action = exchange.send(None)
            except StopIteration as finished:
                result: T = finished.value
                return result

    async def call(self, operation: Operation, args: Args) -> Any:
        return await self.run(self.core.call(operation, args))

    def paginate(self, operation: Operation, args: Args) -> AsyncPager[Any]:
        return AsyncPager(lambda page_args: self.call(operation, page_args), args)


class _Resources(Generic[R]):
    """The API's resources, bound to a runner."""

    def __init__(self, runner: R) -> None:
        self.links: Links[R] = Links(runner)
        self.domains: Domains[R] = Domains(runner)
        self.tags: Tags[R] = Tags(runner)
        self.qr: Qr[R] = Qr(runner)
        self.analytics: Analytics[R] = Analytics(runner)
        self.bio_pages: BioPages[R] = BioPages(runner)
        self.webhooks: Webhooks[R] = Webhooks(runner)
        self.audit_log: AuditLog[R] = AuditLog(runner)
        self.keys: Keys[R] = Keys(runner)
        self.members: Members[R] = Members(runner)
        self.invitations: Invitations[R] = Invitations(runner)
        self.workspace: WorkspaceSettings[R] = WorkspaceSettings(runner)
        self.imports: Imports[R] = Imports(runner)
        self.shared_dashboards: SharedDashboards[R] = SharedDashboards(runner)


def _core(api_key: str | None, base_url: str | None, timeout: httpx.Timeout | float, max_retries: int) -> ClientCore:
    return ClientCore(
        api_key=api_key if api_key is not None else os.environ.get("MASK_API_KEY", ""),
        base_url=base_url or os.environ.get("MASK_BASE_URL") or DEFAULT_BASE_URL,
        timeout=timeout,
        max_retries=max_retries,
    )


class _Observed:
    _core: ClientCore

    @property
    def last_rate_limit(self) -> RateLimit | None:
        """The `X-RateLimit-*` headers of the last answer (None when the server sends none)."""
        return self._core.last_rate_limit

    @property
    def last_request_id(self) -> str | None:
        """The `X-Request-Id` of the last answer: quote it when asking about a request."""
        return self._core.last_request_id


class Mask(_Resources[SyncRunner], _Observed):
    """The MASK API, blocking.

    `api_key` defaults to `$MASK_API_KEY` and `base_url` to `$MASK_BASE_URL`, else http://127.0.0.1:8000.
    `timeout` is in seconds (or an `httpx.Timeout`); a failed connection, a `429` or a `5xx` is retried up to
    `max_retries` times. Pass `http_client` to use your own `httpx.Client` (proxies, certificates); it is then
    yours to close. `last_rate_limit` and `last_request_id` describe the latest answer of this client.
    """

    def __init__(
        self,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        http_client: httpx.Client | None = None,
    ) -> None:
        self._core = _core(api_key, base_url, timeout, max_retries)
        self._owns_http = http_client is None
        self._http = http_client if http_client is not None else httpx.Client()
        super().__init__(SyncRunner(self._core, self._http))

    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> Mask:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Mask(base_url={self._core.base_url!r})"


class AsyncMask(_Resources[AsyncRunner], _Observed):
    """The MASK API for asyncio: the same resources as `Mask`, whose methods are awaited and whose lists are
    iterated with `async for`."""

    def __init__(
        self,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        http_client: httpx.AsyncClient | None = None,
    ) -> None:
        self._core = _core(api_key, base_url, timeout, max_retries)
        self._owns_http = http_client is None
        self._http = http_client if http_client is not None else httpx.AsyncClient()
        super().__init__(AsyncRunner(self._core, self._http))

    async def close(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> AsyncMask:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        await self.close()

    def __repr__(self) -> str:
        return f"AsyncMask(base_url={self._core.base_url!r})"

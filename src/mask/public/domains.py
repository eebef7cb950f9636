"""What a host name answers besides links, per worker: whether it serves at all (only verified domains and the
default short domain do), whose links it serves, and its fallbacks (root, unknown slugs, expired links),
robots policy and app association files.

The hot path reads a plain dict without awaiting (`cached`); a miss is looked up once however many requests
miss it together (`load`). An entry is dropped when its domain changes (mask.signals.DomainChanged, through
Redis in the other workers) and in any case after its TTL; the default short domain's answers come from the
settings and never expire. A host name nobody verified is cached too, as not serving, so arbitrary Host
headers do not turn into queries (and the map is bounded).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from html import escape
from typing import Any

from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from mask.config import Settings
from mask.domain.repository import find_verified
from mask.kit.http import json_dumps
from mask.public.pages import Hosts

MAX_DOMAINS = 10_000  # entries per worker; past it the map starts again empty
NO_STORE = (b"cache-control", b"private, no-store, max-age=0")
EMPTY = (b"content-length", b"0")
NOINDEX = (b"x-robots-tag", b"noindex")
ROBOTS_DENY = b"User-agent: *\nDisallow: /\n"
ROBOTS_ALLOW = b"User-agent: *\nDisallow:\n"


@dataclass(frozen=True, slots=True)
class DomainState:
    """A host name's answers, prepared once per cache fill."""

    domain: str  # the host name (the default short domain's for every host that means it)
    serves: bool  # verified (or the default short domain): its links answer
    workspace_id: str | None  # whose links it serves; None: the default short domain's, every workspace's
    redirect_tail: tuple[tuple[bytes, bytes], ...]  # a redirect's headers after Location
    root_url: str | None
    not_found_url: str | None
    expired_url: str | None
    noindex: bool
    robots_txt: bytes
    apple_app_site_association: bytes | None
    asset_links: bytes | None
    deadline: float  # time.time() after which the entry is looked up again


def build_state(
    *,
    domain: str,
    serves: bool,
    workspace_id: str | None,
    root_url: str | None = None,
    not_found_url: str | None = None,
    expired_url: str | None = None,
    robots: str = "deny",
    apple_app_site_association: Any = None,
    asset_links: Any = None,
    deadline: float,
) -> DomainState:
    noindex = robots != "allow"
    return DomainState(
        domain=domain,
        serves=serves,
        workspace_id=workspace_id,
        redirect_tail=(NO_STORE, EMPTY, NOINDEX) if noindex else (NO_STORE, EMPTY),
        root_url=root_url or None,
        not_found_url=not_found_url or None,
        expired_url=expired_url or None,
        noindex=noindex,
        robots_txt=ROBOTS_DENY if noindex else ROBOTS_ALLOW,
        apple_app_site_association=json_dumps(apple_app_site_association) if apple_app_site_association else None,
        asset_links=json_dumps(asset_links) if asset_links else None,
        deadline=deadline,
    )


def short_domain_state(settings: Settings) -> DomainState:
    """The default short domain's answers, from MASK_ROOT_URL, MASK_ROBOTS, … (never expire)."""
    return build_state(
        domain=settings.short_domain,
        serves=True,
        workspace_id=None,
        root_url=settings.root_url,
        not_found_url=settings.not_found_url,
        expired_url=settings.expired_url,
        robots=settings.robots,
        apple_app_site_association=settings.apple_app_site_association,
        asset_links=settings.asset_links,
        deadline=float("inf"),
    )


LoadStates = Callable[[list[str], float], Awaitable[dict[str, DomainState]]]


class VerifiedDomains:
    """Loads the states of a batch of host names: one query on the resolver's engine."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def __call__(self, names: list[str], deadline: float) -> dict[str, DomainState]:
        try:
            return await self._find(names, deadline)
        except DBAPIError as error:
            if not error.connection_invalidated:
                raise
            return await self._find(names, deadline)  # the pooled connection had died (database restart)

    async def _find(self, names: list[str], deadline: float) -> dict[str, DomainState]:
        async with self.engine.connect() as connection:
            rows = await find_verified(connection, names)
        found: dict[str, DomainState] = {}
        for row in rows:
            name, workspace_id, root_url, not_found_url, expired_url, robots, aasa, asset_links = tuple(row)
            found[name] = build_state(
                domain=name,
                serves=True,
                workspace_id=workspace_id,
                root_url=root_url,
                not_found_url=not_found_url,
                expired_url=expired_url,
                robots=robots,
                apple_app_site_association=aasa,
                asset_links=asset_links,
                deadline=deadline,
            )
        return found


class DomainStates:
    """Host name → DomainState: a dict read without awaiting, and a single-flight load on a miss.

    `by_host` maps a raw Host header to its state in one dict read (the redirect's hot path: it replaces
    Hosts.domain_of there); it only points at entries of the host name map and is emptied with any of them.
    """

    def __init__(self, settings: Settings, hosts: Hosts, load_many: LoadStates, *, ttl: float) -> None:
        self.ttl = ttl
        self.hosts = hosts
        self.load_many = load_many
        self.short = short_domain_state(settings)
        self.short_domain = settings.short_domain
        self._entries: dict[str, DomainState] = {self.short_domain: self.short}
        self.by_host: dict[bytes, DomainState] = {}
        self._inflight: dict[str, asyncio.Future[DomainState]] = {}
        self._generation = 0

    def cached(self, domain: str, now: float) -> DomainState | None:
        """The cached state, or None when it must be loaded."""
        state = self._entries.get(domain)
        if state is not None and state.deadline > now:
            return state
        return None

    async def get(self, domain: str) -> DomainState:
        return self.cached(domain, time.time()) or await self.load(domain)

    async def of_host(self, host: bytes) -> DomainState:
        """The state of a raw Host header (after `by_host` missed, or held an expired entry)."""
        generation = self._generation
        domain = self.hosts.domain_of(host)
        state = await self.get(domain)
        if generation == self._generation:  # no invalidation meanwhile: the answer is current
            if len(self.by_host) >= MAX_DOMAINS:
                self.by_host = {}
            self.by_host[host] = state
        return state

    async def load(self, domain: str) -> DomainState:
        future = self._inflight.get(domain)
        if future is None:
            future = self._inflight[domain] = asyncio.get_running_loop().create_future()
            try:
                state = await self._load(domain)
            except BaseException as error:
                future.set_exception(error if isinstance(error, Exception) else ConnectionError("lookup cancelled"))
                future.exception()  # marked retrieved: the waiting requests re-raise it
                raise
            finally:
                self._inflight.pop(domain, None)
            future.set_result(state)
            return state
        return await asyncio.shield(future)

    async def _load(self, domain: str) -> DomainState:
        generation = self._generation
        deadline = time.time() + self.ttl
        found = await self.load_many([domain], deadline)
        state = found.get(domain) or build_state(domain=domain, serves=False, workspace_id=None, deadline=deadline)
        if generation == self._generation:  # no invalidation meanwhile: the answer is current
            if len(self._entries) >= MAX_DOMAINS:
                self.clear()
            self._entries[domain] = state
        return state

    def invalidate(self, domain: str, _slug: str | None = None) -> None:
        """Forget a host name's state (the signature of mask.public.invalidation's `forget`)."""
        self._generation += 1
        self.by_host = {}
        if domain != self.short_domain:
            self._entries.pop(domain, None)

    def clear(self) -> None:
        self._generation += 1
        self.by_host = {}
        self._entries = {self.short_domain: self.short}


def _not_verified() -> tuple[bytes, bytes]:
    title = "Domain not verified yet"
    message = (
        "This domain is not verified yet, so its short links do not answer. If it is yours, finish its DNS "
        "verification in MASK."
    )
    html = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="robots" content="noindex"><title>{escape(title)}</title>
<style>body{{font:16px/1.5 system-ui,sans-serif;color:#1f2328;display:grid;place-items:center;
min-height:90vh;margin:0}} main{{max-width:32rem;padding:2rem;text-align:center}}
h1{{font-size:1.5rem;margin:0 0 .5rem}} p{{color:#59636e}}</style>
</head><body><main><h1>{escape(title)}</h1><p>{escape(message)}</p></main></body></html>
""".encode()
    body = {
        "error": {
            "type": "invalid_request_error",
            "code": "domain_not_verified",
            "message": message,
            "param": None,
            "request_id": None,
        }
    }
    return html, json_dumps(body)


NOT_VERIFIED_HTML, NOT_VERIFIED_JSON = _not_verified()

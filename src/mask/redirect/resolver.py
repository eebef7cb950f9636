"""Resolve (domain, slug) → redirect target: the worker's cache first, the database on a miss.

Misses are batched by mask.public.pages.SingleFlight: every key missed in the same event-loop turn (or while the
previous lookup ran) is looked up by one query per domain on one pooled connection, and a key already being looked
up is waited for, not queried again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from mask.click.schemas import UTM_NAMES
from mask.config import Settings
from mask.db import create_engine
from mask.kit.time import as_utc
from mask.link.service import short_url
from mask.public.cache import Key, PublicCache
from mask.public.pages import SingleFlight
from mask.redirect.destination import Destination
from mask.redirect.policy import Policy
from mask.redirect.repository import find_links

MAX_KEYS_PER_LOOKUP = 200
MAX_CONCURRENT_LOOKUPS = 4  # per worker: the pool's other connections stay free for the API and the writer


@dataclass(frozen=True, slots=True)
class Target:
    """What a redirect needs to know about a link, prepared once per cache fill."""

    link_id: str
    workspace_id: str
    domain: str
    destination: Destination
    expires_at: float | None  # Unix time
    expired_location: str | None
    disabled: bool = False  # answers a 404 page, counts no click (changing it drops the entry: LinkChanged)
    suspended: bool = False  # by the operator (the link or its workspace): a 451 page, no click
    # Password, start time, click limit, status (mask.redirect.decision); None for a plain link: the fast path.
    policy: Policy | None = None


def _target(domain: str, row: tuple[object, ...]) -> Target:
    _slug, link_id, workspace_id, url, *utm_values, expires_at, expired_url, disabled = row[:12]
    password_hash, starts_at, max_clicks, clicks_reserved, redirect_status, rules, variants, test_ends_at = row[12:20]
    preview, suspended = row[20], row[21]
    assert isinstance(link_id, str) and isinstance(workspace_id, str) and isinstance(url, str)
    utm = {name: str(value) if value else None for name, value in zip(UTM_NAMES, utm_values, strict=True)}
    expiry = as_utc(expires_at).timestamp() if isinstance(expires_at, datetime) else None
    destination = Destination.build(url, utm)
    return Target(
        link_id=link_id,
        workspace_id=workspace_id,
        domain=domain,
        destination=destination,
        expires_at=expiry,
        expired_location=expired_url if isinstance(expired_url, str) and expired_url else None,
        disabled=bool(disabled),
        suspended=bool(suspended),
        policy=Policy.build(
            password_hash=password_hash if isinstance(password_hash, str) else None,
            starts_at=as_utc(starts_at).timestamp() if isinstance(starts_at, datetime) else None,
            max_clicks=max_clicks if isinstance(max_clicks, int) else None,
            clicks_reserved=clicks_reserved if isinstance(clicks_reserved, int) else 0,
            status=redirect_status if isinstance(redirect_status, int) else 302,
            destination=destination,
            rules=rules,
            variants=variants,
            test_ends_at=as_utc(test_ends_at).timestamp() if isinstance(test_ends_at, datetime) else None,
            utm=utm,
            preview=preview,
            short_url=short_url(domain, str(row[0])),
            url=url,
            link_id=link_id,
        ),
    )


def lookup_engine(settings: Settings) -> AsyncEngine:
    """The resolver's own small engine: autocommit, so a lookup is one round trip (no BEGIN, no ROLLBACK on
    return to the pool), and no ping before each checkout (one more round trip). A connection that died
    meanwhile fails its first query and the lookup is retried once on a fresh one (see Resolver._lookup)."""
    return create_engine(
        settings,
        pool_pre_ping=False,
        isolation_level="AUTOCOMMIT",
        **({} if settings.is_sqlite else {"pool_size": MAX_CONCURRENT_LOOKUPS, "max_overflow": 0}),
    )


class LinkTargets:
    """Loads redirect targets for a batch of (domain, slug) keys: one query per domain on one pooled connection
    of the resolver's own engine (`lookup_engine`)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def __call__(self, keys: list[Key]) -> dict[Key, Target]:
        by_domain: dict[str, list[str]] = {}
        for domain, slug in keys:
            by_domain.setdefault(domain, []).append(slug)
        try:
            return await self._find(by_domain)
        except DBAPIError as error:
            if not error.connection_invalidated:
                raise
            return await self._find(by_domain)  # the pooled connection had died (database restart)

    async def _find(self, by_domain: dict[str, list[str]]) -> dict[Key, Target]:
        found: dict[Key, Target] = {}
        async with self.engine.connect() as connection:
            for domain, slugs in by_domain.items():
                for row in await find_links(connection, domain, slugs):
                    found[(domain, row[0])] = _target(domain, tuple(row))
        return found


class Resolver(SingleFlight[Target]):
    """(domain, slug) → Target: the worker's cache, else a batched single-flight lookup (mask.public.pages)."""

    def __init__(self, engine: AsyncEngine, cache: PublicCache[Target]) -> None:
        super().__init__(
            cache, LinkTargets(engine), max_keys=MAX_KEYS_PER_LOOKUP, max_concurrent=MAX_CONCURRENT_LOOKUPS
        )
        self.engine = engine

"""Attempt counters for log-in, sign-up and mail requests: reserved atomically, before the slow work.

An attempt first *takes* one unit of every limit that applies to it (one conditional upsert per key: the count
goes up only while it is under the limit, or the window has passed), and only then does the slow part (Argon2).
Concurrent attempts therefore cannot all pass a check that none of them has recorded yet: with a limit of 5,
60 parallel attempts evaluate at most 5 passwords. An attempt refused by one of its limits gives back what it
took from the others, so a throttled key does not count against the rest.

The caller commits the reservation before the slow part (the `checkpoint` the edge passes to the service), so
that other workers see it at once and no lock is held meanwhile; the rows are in the database, so the counts hold
across workers and restarts without Redis.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from mask.account.repository import ThrottleRepository
from mask.kit.errors import RateLimited
from mask.kit.time import utcnow

# Commits the work so far: provided by whoever owns the transaction (the dashboard's page, the CLI, a test).
Checkpoint = Callable[[], Awaitable[None]]
# Counters idle for longer than the longest window are deleted.
LONGEST_WINDOW = timedelta(days=1)


@dataclass(frozen=True)
class Limit:
    key: str
    limit: int
    window: timedelta


@dataclass(frozen=True)
class Reservation:
    """The keys an attempt took a unit of; `refund` or `clear` them when the attempt turns out fine."""

    keys: tuple[str, ...]


def retry_message(seconds: int) -> str:
    minutes = max(1, math.ceil(seconds / 60))
    return f"Try again in {minutes} minute{'s' if minutes != 1 else ''}."


async def reserve(
    session: AsyncSession,
    limits: list[Limit],
    *,
    refuse: Callable[[int], RateLimited],
    now: datetime | None = None,
) -> Reservation:
    """Take one unit of each limit, all or none; over any of them, `refuse(retry_after_seconds)` is raised."""
    now = now or utcnow()
    repository = ThrottleRepository(session)
    taken: list[str] = []
    # Always in the same order: two attempts locking the same rows (PostgreSQL) never wait on each other in a cycle.
    for limit in sorted(limits, key=lambda item: item.key):
        if await repository.take(limit.key, limit=limit.limit, cutoff=now - limit.window, now=now):
            taken.append(limit.key)
            continue
        for key in taken:
            await repository.refund(key)
        started = await repository.window_start(limit.key)
        wait = (started + limit.window - now).total_seconds() if started is not None else limit.window.total_seconds()
        raise refuse(max(1, math.ceil(wait)))
    await repository.purge_before(now - LONGEST_WINDOW)
    return Reservation(keys=tuple(taken))


async def refund(session: AsyncSession, keys: list[str]) -> None:
    """Give back one unit of each key (an attempt that succeeded is no failure)."""
    repository = ThrottleRepository(session)
    for key in keys:
        await repository.refund(key)


async def clear(session: AsyncSession, keys: list[str]) -> None:
    """Forget the keys' counts (a proven owner: a successful log-in on the account, a password reset)."""
    await ThrottleRepository(session).delete(keys)


async def clear_account(session: AsyncSession, account: str) -> None:
    """Forget every log-in count of one account (`account`: its hash), from every source (a password reset)."""
    await ThrottleRepository(session).delete_prefix(f"login:pair:{account}:")
    await ThrottleRepository(session).delete([f"login:account:{account}"])


def refused(error: type[RateLimited], what: str) -> Callable[[int], RateLimited]:
    """A `refuse` for `reserve`: `error` with a message and `Retry-After`."""

    def build(seconds: int) -> RateLimited:
        return error(f"{what} {retry_message(seconds)}", headers={"Retry-After": str(seconds)})

    return build

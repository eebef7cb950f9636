"""The counting engine: `limits`' moving window (a sliding log), in Redis when configured, else in memory.

A sliding log keeps the time of each accepted request and accepts a new one only if fewer than `requests` of
them fall in the last `window_seconds`: no double burst at a window boundary, and an exact answer to "when is
the next request accepted?" (when the oldest counted one leaves the window), which is what Retry-After says.
In Redis the check, the record and the count are one Lua script (ACQUIRE_AND_COUNT, on `limits`' own list of
request times), so every worker and server shares one atomic count and each response reports its own
`X-RateLimit-Remaining`, even among concurrent ones.

If Redis fails, the API keeps answering: the request is counted in process memory instead (each worker then
limits on its own, so the limit can only be looser, never stricter), the failure is logged at most once a
minute and counted (`/health` → `rate_limit`), and Redis is tried again after REDIS_RETRY_AFTER seconds.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import asdict, dataclass
from typing import Any

from limits import RateLimitItemPerSecond
from limits.aio.storage import MemoryStorage, RedisStorage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.errors import StorageError
from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from mask.config import Settings

logger = logging.getLogger("mask.rate_limit")

# Per process. Requests queue for a free connection (without a deadline: waiting is our own congestion, not a
# Redis failure, and every connection in use is bounded by MASK_RATE_LIMIT_REDIS_TIMEOUT) rather than opening
# one each.
REDIS_CONNECTIONS = 32
REDIS_RETRY_AFTER = 2.0  # seconds of counting in memory after a Redis failure before Redis is tried again
LOG_EVERY = 60.0  # seconds between two log lines about Redis being unavailable
# Timestamps round-trip through Redis as text; a request sent exactly at the reset instant is still refused
# (the library accepts only once the oldest entry is strictly older than the window). Round up past both.
CLOCK_SLACK = 0.01

# `limits`' moving window in Redis (a list of request times, newest first, at most `limit` long), checked,
# recorded and counted in one step: the acquire of its acquire_moving_window.lua, then the count of
# moving_window.lua. Returns {allowed (1 or 0), requests in the window, the oldest one's time}.
ACQUIRE_AND_COUNT = """
local now = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local expiry = tonumber(ARGV[3])
local start = now - expiry
local allowed = 0
local last = redis.call('lindex', KEYS[1], limit - 1)
if not (last and tonumber(last) >= start) then
    redis.call('lpush', KEYS[1], ARGV[1])
    redis.call('ltrim', KEYS[1], 0, limit - 1)
    redis.call('expire', KEYS[1], expiry)
    allowed = 1
end
local low, high, found = 0, redis.call('llen', KEYS[1]) - 1, -1
while low <= high do
    local middle = math.floor((low + high) / 2)
    local value = tonumber(redis.call('lindex', KEYS[1], middle))
    if value and value >= start then
        found = middle
        low = middle + 1
    else
        high = middle - 1
    end
end
if found < 0 then
    return {allowed, 0, ARGV[1]}
end
return {allowed, found + 1, redis.call('lindex', KEYS[1], found)}
"""


@dataclass(frozen=True)
class Quota:
    """What a caller may spend: `requests` per `window_seconds`."""

    requests: int
    window_seconds: int


@dataclass(frozen=True)
class Decision:
    """The limiter's answer for one request, and what the response headers say about it."""

    allowed: bool
    limit: int
    remaining: int
    reset_at: float  # Unix time when the oldest counted request leaves the window (Remaining grows again)

    def retry_after(self, now: float) -> int:
        """Whole seconds after which a request is accepted again (unless another spends the freed slot)."""
        return max(1, math.ceil(self.reset_at - now + CLOCK_SLACK))

    def headers(self) -> list[tuple[bytes, bytes]]:
        return [
            (b"x-ratelimit-limit", str(self.limit).encode()),
            (b"x-ratelimit-remaining", str(self.remaining).encode()),
            (b"x-ratelimit-reset", str(math.ceil(self.reset_at + CLOCK_SLACK)).encode()),
        ]


class _Limit(RateLimitItemPerSecond):
    """A quota whose storage key names the caller only, not the amount: when a workspace changes plan, the
    requests it already made in the window still count against the new limit (a downgrade bites at once)."""

    def key_for(self, *identifiers: bytes | str | int | float) -> str:
        return "/".join([self.namespace, *(str(part) for part in identifiers)])


@dataclass
class StorageHealth:
    backend: str  # "redis" or "memory"
    redis_available: bool = True
    redis_failures: int = 0  # Redis calls that failed (each fell back to memory)
    decided_in_memory_while_redis_down: int = 0  # requests counted in memory because Redis was down


class Limiter:
    """One per process. `hit(bucket, quota)` records a request and says whether it is within the quota."""

    def __init__(self, settings: Settings) -> None:
        self.namespace = "api"
        self.memory = MovingWindowRateLimiter(MemoryStorage())
        self.redis: MovingWindowRateLimiter | None = None
        self._pool: BlockingConnectionPool | None = None
        self._acquire: Any = None  # ACQUIRE_AND_COUNT, registered on the pool
        self._key_prefix = f"{settings.redis_prefix}ratelimit"
        if settings.redis_url:
            # An own pool, bounded, without retries or backoff: a dead Redis costs one quick failure, then
            # REDIS_RETRY_AFTER seconds without trying (the shared client's defaults retry for seconds).
            self._pool = BlockingConnectionPool.from_url(
                settings.redis_url,
                max_connections=REDIS_CONNECTIONS,
                timeout=None,
                socket_timeout=settings.rate_limit_redis_timeout,
                socket_connect_timeout=settings.rate_limit_redis_timeout,
                retry=Retry(NoBackoff(), 0),
            )
            options: dict[str, Any] = {"connection_pool": self._pool}
            storage = RedisStorage(
                _limits_uri(settings.redis_url),
                wrap_exceptions=True,
                implementation="redispy",
                key_prefix=self._key_prefix,
                **options,
            )
            self.redis = MovingWindowRateLimiter(storage)
            self._acquire = Redis(connection_pool=self._pool).register_script(ACQUIRE_AND_COUNT)
        self.health = StorageHealth(backend="redis" if self.redis else "memory")
        self._redis_down_until = 0.0
        self._last_logged = -math.inf

    async def hit(self, bucket: str, quota: Quota) -> Decision:
        """Count one request of `bucket` and decide it; never raises because Redis is unavailable."""
        item = _Limit(quota.requests, quota.window_seconds, namespace=self.namespace)
        if self.redis is not None:
            if time.monotonic() >= self._redis_down_until:
                try:
                    decision = await self._decide_in_redis(item, bucket)
                except StorageError as error:
                    self._redis_failed(error)
                else:
                    if not self.health.redis_available and time.monotonic() >= self._redis_down_until:
                        logger.warning("Redis is back: API rate limits are shared across workers again")
                        self.health.redis_available = True
                    return decision
            self.health.decided_in_memory_while_redis_down += 1
        return await _decide(self.memory, item, bucket)

    async def _decide_in_redis(self, item: _Limit, bucket: str) -> Decision:
        """One round trip: accepted or not, and this request's own count (limits' key layout, so `peek` and
        `clear` read and drop the same list)."""
        now = time.time()
        key = f"{self._key_prefix}:{item.key_for(bucket)}"
        try:
            allowed, count, oldest = await self._acquire(keys=[key], args=[repr(now), item.amount, item.get_expiry()])
        except (RedisError, OSError) as error:
            raise StorageError(error) from error
        return Decision(
            allowed=bool(allowed),
            limit=item.amount,
            remaining=max(0, item.amount - int(count)),
            reset_at=float(oldest) + item.get_expiry(),
        )

    def _redis_failed(self, error: StorageError) -> None:
        now = time.monotonic()
        self.health.redis_failures += 1
        self.health.redis_available = False
        self._redis_down_until = now + REDIS_RETRY_AFTER
        if now - self._last_logged >= LOG_EVERY:
            self._last_logged = now
            cause = error.storage_error
            logger.warning(
                "Redis unavailable for API rate limits (%s: %s); counting per process until it "
                "is back (%d failures so far)",
                type(cause).__name__,
                cause,
                self.health.redis_failures,
            )

    def status(self) -> dict[str, Any]:
        """For /health: where counts live, and how often Redis failed (each failure fell back to memory)."""
        return asdict(self.health)

    async def clear(self, bucket: str, quota: Quota) -> None:
        """Forget what was counted for `bucket` (tests, support)."""
        item = _Limit(quota.requests, quota.window_seconds, namespace=self.namespace)
        for strategy in (self.memory, self.redis):
            if strategy is not None:
                await strategy.clear(item, bucket)

    async def peek(self, bucket: str, quota: Quota) -> Decision:
        """Where `bucket` stands now, without counting a request (the dashboard's usage meter)."""
        item = _Limit(quota.requests, quota.window_seconds, namespace=self.namespace)
        strategy = self.memory
        if self.redis is not None and time.monotonic() >= self._redis_down_until:
            strategy = self.redis
        try:
            stats = await strategy.get_window_stats(item, bucket)
        except StorageError as error:
            self._redis_failed(error)
            stats = await self.memory.get_window_stats(item, bucket)
        return Decision(
            allowed=stats.remaining > 0, limit=item.amount, remaining=max(0, stats.remaining), reset_at=stats.reset_time
        )

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.aclose()


async def _decide(strategy: MovingWindowRateLimiter, item: _Limit, bucket: str) -> Decision:
    allowed = await strategy.hit(item, bucket)
    # In process memory (Redis has ACQUIRE_AND_COUNT): a second call, because `limits` has no hit-and-report.
    stats = await strategy.get_window_stats(item, bucket)
    return Decision(allowed=allowed, limit=item.amount, remaining=max(0, stats.remaining), reset_at=stats.reset_time)


def _limits_uri(redis_url: str) -> str:
    """`limits` names its asyncio storages `async+redis://…`, `async+rediss://…`, `async+redis+unix://…`."""
    if redis_url.startswith("unix://"):
        return "async+redis+" + redis_url
    return "async+" + redis_url

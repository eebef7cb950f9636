"""The limiter's arithmetic and naming, without a server: Retry-After rounding, IP buckets, plan continuity."""

from __future__ import annotations

import asyncio

import limits.aio.storage.memory as limits_memory
import pytest

from mask.config import Settings
from mask.rate_limit.limiter import Decision, Limiter, Quota, _limits_uri
from mask.rate_limit.service import anonymous


def test_retry_after_rounds_up_to_whole_seconds_and_is_at_least_one() -> None:
    now = 1_000.0
    assert Decision(False, 60, 0, reset_at=now + 11.2).retry_after(now) == 12
    assert Decision(False, 60, 0, reset_at=now + 12.0).retry_after(now) == 13  # exactly 12 s would still fail
    assert Decision(False, 60, 0, reset_at=now + 0.001).retry_after(now) == 1
    headers = dict(Decision(True, 60, 59, reset_at=1_767_225_600.4).headers())
    assert headers == {
        b"x-ratelimit-limit": b"60",
        b"x-ratelimit-remaining": b"59",
        b"x-ratelimit-reset": b"1767225601",
    }


def test_clients_without_a_key_are_bucketed_by_ipv4_address_or_ipv6_64() -> None:
    settings = Settings(rate_limit_anonymous_per_minute=7)
    assert anonymous(settings=settings, client_ip="198.51.100.7").bucket == "ip:198.51.100.7"
    assert anonymous(settings=settings, client_ip="::ffff:198.51.100.7").bucket == "ip:198.51.100.7"
    assert anonymous(settings=settings, client_ip="2001:db8:a:b:1:2:3:4").bucket == "ip:2001:db8:a:b::/64"
    assert anonymous(settings=settings, client_ip=None).bucket == "ip:unknown"
    assert anonymous(settings=settings, client_ip="1.2.3.4").quota == Quota(7, 60)


def test_redis_urls_map_to_the_limits_async_storage_schemes() -> None:
    assert _limits_uri("redis://h:6379/0") == "async+redis://h:6379/0"
    assert _limits_uri("rediss://h:6380/1") == "async+rediss://h:6380/1"
    assert _limits_uri("unix:///run/redis.sock?db=2") == "async+redis+unix:///run/redis.sock?db=2"


class Clock:
    """The wall clock `limits`' in-memory storage reads, moved by the test instead of by waiting."""

    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def time(self) -> float:
        return self.now


def test_a_sliding_window_frees_requests_one_by_one_not_all_at_a_boundary(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = Clock()
    monkeypatch.setattr(limits_memory, "time", clock)

    async def scenario() -> list[bool]:
        limiter = Limiter(Settings(redis_url=None))
        quota = Quota(2, 4)
        first = await limiter.hit("ws:x", quota)
        clock.now += 1.0
        second = await limiter.hit("ws:x", quota)
        third = await limiter.hit("ws:x", quota)  # 2 in the last 4 s: refused
        clock.now += 3.2  # the first left the window, the second did not
        fourth = await limiter.hit("ws:x", quota)
        fifth = await limiter.hit("ws:x", quota)
        assert fourth.reset_at == pytest.approx(clock.now + 0.8)  # when the second one leaves the window
        await limiter.close()
        return [d.allowed for d in (first, second, third, fourth, fifth)]

    assert asyncio.run(scenario()) == [True, True, False, True, False]

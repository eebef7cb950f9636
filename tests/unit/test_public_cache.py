"""The public pages' cache (redirects, bio pages) on its own, against a clock the test moves: expiry (with its jitter),
the LRU bound, invalidation and the generation guard."""

from __future__ import annotations

import pytest

from mask.public import cache as cache_module
from mask.public.cache import MISS, TTL_JITTER, PublicCache

TTL = 60.0
NEGATIVE_TTL = 5.0


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(cache_module, "time", fake)
    return fake


def new_cache(max_entries: int = 10_000) -> PublicCache[str]:
    return PublicCache(max_entries=max_entries, ttl=TTL, negative_ttl=NEGATIVE_TTL)


def alive(cache: PublicCache[str], keys: list[tuple[str, str]]) -> int:
    return sum(1 for key in keys if cache.get(key) is not MISS)


def test_entries_filled_together_expire_spread_out_and_never_after_their_ttl(clock: Clock) -> None:
    cache = new_cache()
    keys = [("s.test", f"slug{i}") for i in range(400)]
    for key in keys:
        cache.put(key, "https://example.com/")
    start = clock.now

    clock.now = start + TTL * (1 - TTL_JITTER) - 0.01
    assert alive(cache, keys) == len(keys)  # nobody expires before 80 % of the TTL

    clock.now = start + TTL * (1 - TTL_JITTER / 2)
    midway = alive(cache, keys)
    assert 0 < midway < len(keys)  # halfway through the jitter window some have expired, not all

    clock.now = start + TTL + 0.01
    assert alive(cache, keys) == 0  # the TTL is still the longest an entry lives


def test_unknown_slugs_are_cached_for_the_negative_ttl(clock: Clock) -> None:
    cache = new_cache()
    cache.put(("s.test", "known"), "https://example.com/")
    cache.put(("s.test", "unknown"), None)
    assert cache.get(("s.test", "unknown")) is None  # cached: "no such link", not a miss

    clock.now += NEGATIVE_TTL + 0.01
    assert cache.get(("s.test", "unknown")) is MISS
    assert cache.get(("s.test", "known")) == "https://example.com/"


def test_negative_ttl_zero_caches_no_unknown_slug(clock: Clock) -> None:
    cache: PublicCache[str] = PublicCache(max_entries=10, ttl=TTL, negative_ttl=0)
    cache.put(("s.test", "unknown"), None)
    assert cache.get(("s.test", "unknown")) is MISS
    assert len(cache) == 0


def test_the_least_recently_used_entry_goes_first(clock: Clock) -> None:
    cache = new_cache(max_entries=3)
    for slug in ("a", "b", "c"):
        cache.put(("s.test", slug), slug)
    assert cache.get(("s.test", "a")) == "a"  # now the most recently used
    cache.put(("s.test", "d"), "d")
    assert len(cache) == 3
    assert cache.get(("s.test", "b")) is MISS
    assert [cache.get(("s.test", slug)) for slug in ("a", "c", "d")] == ["a", "c", "d"]


def test_invalidating_a_domain_keeps_other_domains(clock: Clock) -> None:
    cache = new_cache()
    cache.put(("go.brand.test", "a"), "1")
    cache.put(("go.brand.test", "b"), "2")
    cache.put(("s.test", "a"), "3")
    cache.invalidate("go.brand.test")
    assert cache.get(("go.brand.test", "a")) is MISS
    assert cache.get(("go.brand.test", "b")) is MISS
    assert cache.get(("s.test", "a")) == "3"


def test_a_read_that_started_before_an_invalidation_is_not_cached(clock: Clock) -> None:
    cache = new_cache()
    generation = cache.generation  # a database read starts here ...
    cache.invalidate("s.test", "a")  # ... the link changes meanwhile ...
    cache.put(("s.test", "a"), "old destination", generation=generation)  # ... and its stale answer arrives
    assert cache.get(("s.test", "a")) is MISS
    cache.put(("s.test", "a"), "new destination", generation=cache.generation)
    assert cache.get(("s.test", "a")) == "new destination"

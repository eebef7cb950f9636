"""Per-worker cache of what a public page answers, by (domain, slug or handle): bounded, with negative entries.

Entries are dropped the moment a change commits in this process, within milliseconds in other workers through
Redis pub/sub (see invalidation.py), and in any case after their TTL: the TTL is the safety net for a missed
message. Unknown slugs are cached too (shorter TTL), so guessing slugs does not turn into database queries.

Each entry lives a little less than its TTL, by a random part of up to TTL_JITTER: entries filled together (the
hot links just after a start) would otherwise expire together and be looked up again together, every TTL.
"""

from __future__ import annotations

import random
import time
from collections import OrderedDict
from typing import Final, Generic, TypeVar

T = TypeVar("T")
TTL_JITTER = 0.2  # an entry lives between 80 % and 100 % of its TTL, never longer


class Miss:
    """The type of MISS: not in the cache (a cached None means "no such link" or page)."""

    def __repr__(self) -> str:
        return "MISS"


MISS: Final = Miss()
Key = tuple[str, str]  # (domain, slug) or (domain, handle)


class PublicCache(Generic[T]):
    """A bounded LRU with per-entry deadlines. `None` is a valid cached value: "no such link" (or page)."""

    def __init__(self, *, max_entries: int, ttl: float, negative_ttl: float) -> None:
        self.max_entries = max_entries
        self.ttl = ttl
        self.negative_ttl = negative_ttl
        self._entries: OrderedDict[Key, tuple[float, T | None]] = OrderedDict()
        # Bumped by every invalidation: a database read that started before one must not be cached.
        self.generation = 0

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: Key) -> T | Miss | None:
        entry = self._entries.get(key)
        if entry is None:
            return MISS
        if entry[0] < time.monotonic():
            del self._entries[key]
            return MISS
        self._entries.move_to_end(key)
        return entry[1]

    def put(self, key: Key, value: T | None, *, generation: int | None = None) -> None:
        """Cache `value` (None: known not to exist), unless an invalidation happened since `generation`."""
        if generation is not None and generation != self.generation:
            return
        ttl = self.ttl if value is not None else self.negative_ttl
        if ttl <= 0 or self.max_entries <= 0:
            return
        self._entries[key] = (time.monotonic() + ttl * (1.0 - TTL_JITTER * random.random()), value)
        self._entries.move_to_end(key)
        if len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def invalidate(self, domain: str, slug: str | None = None) -> None:
        """Forget one (domain, slug), or every slug of a domain."""
        self.generation += 1
        if slug is not None:
            self._entries.pop((domain, slug), None)
            return
        for key in [key for key in self._entries if key[0] == domain]:
            del self._entries[key]

    def clear(self) -> None:
        self.generation += 1
        self._entries.clear()

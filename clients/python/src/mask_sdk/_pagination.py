"""Lists that follow `next_cursor`: `for link in client.links.list(tag="q1")` fetches page after page, lazily.

`limit` is the page size (1–100, the API's default 20); `max_items` stops after that many items overall, and
asks the last page for no more than it needs. `pages()` yields the pages themselves.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any, Generic, TypeVar

from mask_sdk.models import Page

T = TypeVar("T")

API_DEFAULT_LIMIT = 20


class PagePlan:
    """Which page to ask for next, and when to stop: the logic both pagers share."""

    def __init__(self, args: dict[str, Any]) -> None:
        arguments = dict(args)
        self.max_items: int | None = arguments.pop("max_items", None)
        if self.max_items is not None and self.max_items < 0:
            raise ValueError("max_items must be 0 or more")
        self.limit: int | None = arguments.pop("limit", None)
        arguments.pop("cursor", None)
        self.args = arguments
        self.cursor: str | None = None
        self.items = 0
        self.done = self.max_items == 0

    def next_args(self) -> dict[str, Any]:
        limit = self.limit
        if self.max_items is not None:
            limit = min(limit or API_DEFAULT_LIMIT, self.max_items - self.items)
        return {**self.args, "limit": limit, "cursor": self.cursor}

    def take(self, page: Page[T]) -> list[T]:
        """The items of `page` to hand out; moves the plan past it."""
        items = page.data
        if self.max_items is not None:
            items = items[: self.max_items - self.items]
        self.items += len(items)
        self.cursor = page.next_cursor
        self.done = (
            not page.has_more
            or page.next_cursor is None
            or (self.max_items is not None and self.items >= self.max_items)
        )
        return items


class Pager(Generic[T]):
    """Every item of a list, fetched a page at a time as the iteration goes (sync client)."""

    def __init__(self, fetch: Callable[[dict[str, Any]], Page[T]], args: dict[str, Any]) -> None:
        self._fetch = fetch
        self._args = args

    def pages(self) -> Iterator[Page[T]]:
        """Each page in turn (cut short to `max_items`)."""
        plan = PagePlan(self._args)
        while not plan.done:
            page = self._fetch(plan.next_args())
            yield page.model_copy(update={"data": plan.take(page)})

    def __iter__(self) -> Iterator[T]:
        for page in self.pages():
            yield from page.data


class AsyncPager(Generic[T]):
    """Every item of a list, fetched a page at a time as the iteration goes (async client: `async for`)."""

    def __init__(self, fetch: Callable[[dict[str, Any]], Awaitable[Page[T]]], args: dict[str, Any]) -> None:
        self._fetch = fetch
        self._args = args

    async def pages(self) -> AsyncIterator[Page[T]]:
        """Each page in turn (cut short to `max_items`)."""
        plan = PagePlan(self._args)
        while not plan.done:
            page = await self._fetch(plan.next_args())
            yield page.model_copy(update={"data": plan.take(page)})

    async def __aiter__(self) -> AsyncIterator[T]:
        async for page in self.pages():
            for item in page.data:
                yield item

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, Select, bindparam, delete, exists, not_, or_, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from mask.models.imports import Import, ImportedLinkStats
from mask.models.link import Link, LinkTitleFetch
from mask.models.tag import link_tags


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class Sort(StrEnum):
    created_at = "created_at"
    clicks = "clicks"
    last_clicked_at = "last_clicked_at"
    title = "title"  # type: ignore[assignment]  # shadows str.title, as an enum member may


class Order(StrEnum):
    asc = "asc"
    desc = "desc"


class Archived(StrEnum):
    false = "false"  # the default lists: archived links left out
    true = "true"  # only archived links
    all = "all"


SORT_COLUMNS: dict[Sort, Any] = {
    Sort.created_at: Link.created_at,
    Sort.clicks: Link.clicks,
    Sort.last_clicked_at: Link.last_clicked_at,
    Sort.title: Link.title,
}
NULLABLE_SORTS = frozenset({Sort.last_clicked_at, Sort.title})  # rows without a value come last, either order


@dataclass(frozen=True)
class LinkFilters:
    domain: str | None = None
    query: str | None = None
    archived: Archived = Archived.false
    any_tags: Sequence[str] = ()  # tag ids: carrying at least one of them
    all_tags: Sequence[str] = ()  # tag ids: carrying every one of them
    no_tags: Sequence[str] = ()  # tag ids: carrying none of them
    created_by: str | None = None  # a user's (usr_…) or an API key's (key_…) id
    nothing: bool = False  # a filter that no link can match (an unknown tag required)


@dataclass(frozen=True)
class Keyset:
    """Where a page starts: after the row with this sort key and id. `value` None: among the rows without a
    sort key (the tail of a nullable sort)."""

    value: Any
    row_id: str


class LinkRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, workspace_id: str, link_id: str) -> Link | None:
        result = await self.session.execute(select(Link).where(Link.id == link_id, Link.workspace_id == workspace_id))
        return result.scalar_one_or_none()

    async def lock(self, workspace_id: str, link_id: str) -> bool:
        """Lock the link's row until this transaction ends; False if the workspace has no such link.

        A no-op UPDATE rather than SELECT … FOR UPDATE, which SQLite lacks: there it takes the database's write
        lock. A concurrent change or delete of the link waits for this transaction, then sees its outcome (a
        PATCH racing a DELETE answers 404, two DELETEs delete once)."""
        statement = (
            update(Link)
            .where(Link.id == link_id, Link.workspace_id == workspace_id)
            .values(id=Link.id)
            .execution_options(synchronize_session=False)
        )
        return bool((await self.session.execute(statement)).rowcount)  # type: ignore[attr-defined]

    async def imported_clicks(self, link_ids: Sequence[str]) -> dict[str, tuple[int, str, datetime | None]]:
        """(clicks, source, when the import ran) of the links among `link_ids` that brought totals from another
        shortener."""
        ids = sorted(set(link_ids))
        if not ids:
            return {}
        result = await self.session.execute(
            select(ImportedLinkStats.link_id, ImportedLinkStats.clicks, ImportedLinkStats.source, Import.created_at)
            .outerjoin(Import, Import.id == ImportedLinkStats.import_id)
            .where(ImportedLinkStats.link_id.in_(ids))
        )
        return {row[0]: (int(row[1]), row[2], row[3]) for row in result}

    async def get_any(self, link_id: str) -> Link | None:
        """A link by id, whichever workspace it belongs to (for the background, never for a request's caller)."""
        return await self.session.get(Link, link_id)

    async def find_by_slug(self, workspace_id: str, domain: str, slug: str) -> Link | None:
        result = await self.session.execute(
            select(Link).where(Link.workspace_id == workspace_id, Link.domain == domain, Link.slug == slug)
        )
        return result.scalar_one_or_none()

    async def find_by_external_id(self, workspace_id: str, external_id: str) -> Link | None:
        result = await self.session.execute(
            select(Link).where(Link.workspace_id == workspace_id, Link.external_id == external_id)
        )
        return result.scalar_one_or_none()

    async def with_url(self, workspace_id: str, domain: str, url: str) -> list[Link]:
        """The workspace's links to `url` on `domain`, oldest first (find-or-create)."""
        result = await self.session.execute(
            select(Link)
            .where(Link.workspace_id == workspace_id, Link.url == url, Link.domain == domain)
            .order_by(Link.created_at, Link.id)
        )
        return list(result.scalars())

    async def slug_taken(self, domain: str, slug: str) -> bool:
        result = await self.session.execute(select(Link.id).where(Link.domain == domain, Link.slug == slug).limit(1))
        return result.first() is not None

    async def external_id_taken(self, workspace_id: str, external_id: str, *, besides: str | None = None) -> bool:
        statement = select(Link.id).where(Link.workspace_id == workspace_id, Link.external_id == external_id)
        if besides is not None:
            statement = statement.where(Link.id != besides)
        return (await self.session.execute(statement.limit(1))).first() is not None

    def _filtered(self, workspace_id: str, filters: LinkFilters) -> Select[Any]:
        statement = select(Link).where(Link.workspace_id == workspace_id)
        if filters.archived is Archived.false:
            statement = statement.where(not_(Link.archived))
        elif filters.archived is Archived.true:
            statement = statement.where(Link.archived)
        if filters.domain is not None:
            statement = statement.where(Link.domain == filters.domain)
        if filters.created_by is not None:
            column = Link.created_by_key_id if filters.created_by.startswith("key_") else Link.created_by_user_id
            statement = statement.where(column == filters.created_by)
        if filters.any_tags:
            statement = statement.where(
                exists().where(link_tags.c.link_id == Link.id, link_tags.c.tag_id.in_(sorted(filters.any_tags)))
            )
        for tag_id in filters.all_tags:  # one primary-key probe per tag and row
            statement = statement.where(exists().where(link_tags.c.link_id == Link.id, link_tags.c.tag_id == tag_id))
        if filters.no_tags:
            statement = statement.where(
                ~exists().where(link_tags.c.link_id == Link.id, link_tags.c.tag_id.in_(sorted(filters.no_tags)))
            )
        if filters.query:
            pattern = f"%{_like_escape(filters.query)}%"
            statement = statement.where(
                or_(
                    Link.url.like(pattern, escape="\\"),
                    Link.slug.like(pattern, escape="\\"),
                    Link.title.like(pattern, escape="\\"),
                )
            )
        return statement

    async def list_page(
        self,
        workspace_id: str,
        *,
        limit: int,
        sort: Sort,
        order: Order,
        after: Keyset | None,
        filters: LinkFilters,
    ) -> list[Link]:
        """Up to `limit` links after `after` in (sort key, id) order: a keyset range of the (workspace_id, key,
        id) index, never an OFFSET. For a nullable key, the rows with a value come first (one range), then the
        rows without (a second range on the same index, by id)."""
        if filters.nothing:
            return []
        column = SORT_COLUMNS[sort]
        descending = order is Order.desc
        base = self._filtered(workspace_id, filters)
        links: list[Link] = []
        in_tail = after is not None and after.value is None
        if not in_tail:
            statement = base
            if sort in NULLABLE_SORTS:
                statement = statement.where(column.is_not(None))
            if after is not None:
                position = tuple_(
                    bindparam(None, after.value, type_=column.type), bindparam(None, after.row_id, type_=Link.id.type)
                )
                key = tuple_(column, Link.id)
                statement = statement.where(key < position if descending else key > position)
            ordering = (column.desc(), Link.id.desc()) if descending else (column.asc(), Link.id.asc())
            links = await self._rows(statement.order_by(*ordering).limit(limit))
        if sort in NULLABLE_SORTS and len(links) < limit:
            statement = base.where(column.is_(None))
            if in_tail:
                assert after is not None
                statement = statement.where(Link.id < after.row_id if descending else Link.id > after.row_id)
            ordering_id = Link.id.desc() if descending else Link.id.asc()
            links += await self._rows(statement.order_by(ordering_id).limit(limit - len(links)))
        return links

    async def _rows(self, statement: Select[Any]) -> list[Link]:
        return list((await self.session.execute(statement)).scalars())

    def add(self, link: Link) -> None:
        self.session.add(link)

    async def delete(self, link: Link) -> None:
        await self.session.delete(link)

    # --- page titles (mask.link.titles) ----------------------------------------------------------------------

    async def want_title(self, link_id: str, url: str, now: datetime) -> None:
        """Queue a title fetch of `url` for the link (replacing one queued before)."""
        await self.forget_title_fetch(link_id)
        self.session.add(LinkTitleFetch(link_id=link_id, url=url, attempts=0, next_attempt_at=now, created_at=now))

    async def forget_title_fetch(self, link_id: str) -> None:
        await self.session.execute(delete(LinkTitleFetch).where(LinkTitleFetch.link_id == link_id))

    async def due_title_fetches(self, now: datetime, limit: int) -> list[LinkTitleFetch]:
        result = await self.session.execute(
            select(LinkTitleFetch)
            .where(LinkTitleFetch.next_attempt_at <= now)
            .order_by(LinkTitleFetch.next_attempt_at, LinkTitleFetch.link_id)
            .limit(limit)
        )
        return list(result.scalars())

    async def lease_title_fetches(self, link_ids: list[str], until: datetime) -> None:
        await self.session.execute(
            update(LinkTitleFetch)
            .where(LinkTitleFetch.link_id.in_(link_ids))
            .values(next_attempt_at=until, attempts=LinkTitleFetch.attempts + 1)
        )

    async def store_page_title(self, link_id: str, url: str, title: str | None, now: datetime) -> bool:
        """Set a fetched title, unless the link changed URL meanwhile or was given a title of its own."""
        result = await self.session.execute(
            update(Link)
            .where(
                Link.id == link_id,
                Link.url == url,
                or_(Link.title_source.is_(None), Link.title_source == "page"),
            )
            .values(title=title, title_source="page" if title is not None else None, updated_at=now)
        )
        await self.session.execute(
            delete(LinkTitleFetch).where(LinkTitleFetch.link_id == link_id, LinkTitleFetch.url == url)
        )
        return bool(getattr(result, "rowcount", 0))

    async def title_fetch_failed(self, link_id: str, url: str, error: str, retry_at: datetime | None) -> None:
        """Keep the fetch for a later attempt (`retry_at`), or give it up (None)."""
        where: list[ColumnElement[bool]] = [LinkTitleFetch.link_id == link_id, LinkTitleFetch.url == url]
        if retry_at is None:
            await self.session.execute(delete(LinkTitleFetch).where(*where))
        else:
            await self.session.execute(
                update(LinkTitleFetch).where(*where).values(next_attempt_at=retry_at, last_error=error[:500])
            )

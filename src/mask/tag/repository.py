from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from sqlalchemy import delete, func, literal, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from mask.db_dialect import insert_ignore
from mask.kit.ids import new_id
from mask.models.tag import Tag, link_tags


class TagRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def ensure(self, workspace_id: str, names: list[str]) -> list[str]:
        """Ids of the named tags, creating the missing ones (concurrent creators converge on one row). Read first:
        a workspace's tags mostly exist already, and one SELECT is cheaper than an INSERT that changes nothing."""
        if not names:
            return []
        ids = await self.ids_by_name(workspace_id, names)
        missing = [name for name in names if name not in ids]
        if missing:
            rows = [{"id": new_id("tag"), "workspace_id": workspace_id, "name": name} for name in missing]
            await self.session.execute(
                insert_ignore(self.session, Tag.__table__, rows, conflict=["workspace_id", "name"])  # type: ignore[arg-type]
            )
            ids.update(await self.ids_by_name(workspace_id, missing))
        return [ids[name] for name in names]

    async def set_link_tags(self, link_id: str, tag_ids: list[str]) -> None:
        await self.session.execute(delete(link_tags).where(link_tags.c.link_id == link_id))
        if tag_ids:
            await self.session.execute(
                link_tags.insert(), [{"link_id": link_id, "tag_id": tag_id} for tag_id in tag_ids]
            )

    async def names_for_links(self, link_ids: Iterable[str]) -> dict[str, list[str]]:
        ids = list(link_ids)
        names: dict[str, list[str]] = defaultdict(list)
        if not ids:
            return names
        result = await self.session.execute(
            select(link_tags.c.link_id, Tag.name)
            .join(Tag, Tag.id == link_tags.c.tag_id)
            .where(link_tags.c.link_id.in_(ids))
            .order_by(Tag.name)
        )
        for link_id, name in result:
            names[link_id].append(name)
        return names

    async def get(self, workspace_id: str, tag_id: str) -> Tag | None:
        result = await self.session.execute(select(Tag).where(Tag.workspace_id == workspace_id, Tag.id == tag_id))
        return result.scalar_one_or_none()

    async def get_by_name(self, workspace_id: str, name: str) -> Tag | None:
        result = await self.session.execute(select(Tag).where(Tag.workspace_id == workspace_id, Tag.name == name))
        return result.scalar_one_or_none()

    async def ids_by_name(self, workspace_id: str, names: Iterable[str]) -> dict[str, str]:
        wanted = sorted(set(names))
        if not wanted:
            return {}
        result = await self.session.execute(
            select(Tag.name, Tag.id).where(Tag.workspace_id == workspace_id, Tag.name.in_(wanted))
        )
        return {str(row[0]): str(row[1]) for row in result}

    async def colors(self, workspace_id: str) -> dict[str, str]:
        result = await self.session.execute(select(Tag.name, Tag.color).where(Tag.workspace_id == workspace_id))
        return {str(row[0]): str(row[1]) for row in result}

    async def link_count(self, tag_id: str) -> int:
        return int(await self.session.scalar(select(func.count()).where(link_tags.c.tag_id == tag_id)) or 0)

    async def list_with_counts(self, workspace_id: str) -> list[tuple[Tag, int]]:
        counts = select(link_tags.c.tag_id, func.count().label("n")).group_by(link_tags.c.tag_id).subquery()
        result = await self.session.execute(
            select(Tag, func.coalesce(counts.c.n, 0))
            .outerjoin(counts, counts.c.tag_id == Tag.id)
            .where(Tag.workspace_id == workspace_id)
            .order_by(Tag.name)
        )
        return [(tag, int(count)) for tag, count in result]

    def add(self, tag: Tag) -> None:
        self.session.add(tag)

    async def rename(self, tag: Tag, *, name: str | None, color: str | None) -> None:
        values: dict[str, str] = {}
        if name is not None:
            values["name"] = name
        if color is not None:
            values["color"] = color
        if values:
            await self.session.execute(update(Tag).where(Tag.id == tag.id).values(**values))
            for key, value in values.items():
                setattr(tag, key, value)

    async def merge(self, source: Tag, target: Tag) -> None:
        """Give every link of `source` the tag `target` (once), then delete `source`."""
        moved = select(link_tags.c.link_id, literal(target.id)).where(link_tags.c.tag_id == source.id)
        existing = select(link_tags.c.link_id).where(link_tags.c.tag_id == target.id)
        await self.session.execute(
            link_tags.insert().from_select(["link_id", "tag_id"], moved.where(link_tags.c.link_id.not_in(existing)))
        )
        await self.delete(source)

    async def delete(self, tag: Tag) -> None:
        """Delete the tag; its links lose it and are otherwise untouched."""
        await self.session.execute(delete(link_tags).where(link_tags.c.tag_id == tag.id))
        await self.session.execute(delete(Tag).where(Tag.id == tag.id))

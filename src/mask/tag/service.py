"""Tags: names stored once per workspace, attached to links, managed (created, renamed, coloured, merged,
deleted) through the API and the dashboard."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from mask.kit.errors import Conflict, FieldError, NotFound, ValidationFailed
from mask.kit.ids import new_id
from mask.kit.time import utcnow
from mask.models.tag import Tag
from mask.tag.repository import TagRepository
from mask.tag.schemas import Tag as TagSchema
from mask.tag.schemas import TagCreate, TagUpdate

MAX_TAGS_PER_LINK = 25
MAX_TAG_LENGTH = 50
MAX_FILTER_TAGS = 25
# A fixed palette, so that every colour has a light and a dark shade the dashboard can show legibly.
COLORS = ("gray", "red", "orange", "yellow", "green", "teal", "blue", "purple", "pink", "brown")
DEFAULT_COLOR = "gray"
CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class TagNotFound(NotFound):
    code = "tag_not_found"


class TagExists(Conflict):
    code = "tag_exists"


def _problem(name: str) -> str | None:
    if not 1 <= len(name) <= MAX_TAG_LENGTH:
        return f"A tag is 1–{MAX_TAG_LENGTH} characters once trimmed."
    if CONTROL.search(name):
        return "A tag cannot contain control characters."
    return None


def clean_names(raw: list[str], errors: list[FieldError]) -> list[str]:
    """Trim, check and de-duplicate tag names (keeping first-seen order); problems go to `errors`."""
    if len(raw) > MAX_TAGS_PER_LINK:
        errors.append(FieldError("tags", "too_many_tags", f"A link can have at most {MAX_TAGS_PER_LINK} tags."))
        return []
    names: list[str] = []
    for index, item in enumerate(raw):
        name = item.strip()
        problem = _problem(name)
        if problem is not None:
            errors.append(FieldError(f"tags.{index}", "invalid_tag", problem))
        elif name not in names:
            names.append(name)
    return names


def _color(raw: str | None, errors: list[FieldError]) -> str | None:
    if raw is None:
        return None
    color = raw.strip().lower()
    if color not in COLORS:
        errors.append(FieldError("color", "invalid_color", f"`{raw}` is not a tag colour; one of {', '.join(COLORS)}."))
        return None
    return color


def _schema(tag: Tag, link_count: int) -> TagSchema:
    return TagSchema(id=tag.id, name=tag.name, color=tag.color, link_count=link_count, created_at=tag.created_at)


async def attach(session: AsyncSession, *, workspace_id: str, link_id: str, names: list[str]) -> None:
    """Replace the link's tags with `names` (created in the workspace when new)."""
    repository = TagRepository(session)
    await repository.set_link_tags(link_id, await repository.ensure(workspace_id, names))


async def list_with_counts(session: AsyncSession, *, workspace_id: str) -> list[TagSchema]:
    """Every tag of the workspace with the number of links carrying it, by name."""
    rows = await TagRepository(session).list_with_counts(workspace_id)
    return [_schema(tag, count) for tag, count in rows]


async def colors(session: AsyncSession, *, workspace_id: str) -> dict[str, str]:
    """Tag name → colour, for showing tags."""
    return await TagRepository(session).colors(workspace_id)


async def get(session: AsyncSession, *, workspace_id: str, tag_id: str) -> TagSchema:
    repository = TagRepository(session)
    tag = await repository.get(workspace_id, tag_id)
    if tag is None:
        raise TagNotFound(f"No tag `{tag_id}` in this workspace.", param="id")
    return _schema(tag, await repository.link_count(tag.id))


async def create(session: AsyncSession, *, workspace_id: str, data: TagCreate) -> TagSchema:
    """A new tag (409 when the workspace has one of that name)."""
    errors: list[FieldError] = []
    name = data.name.strip()
    problem = _problem(name)
    if problem is not None:
        errors.append(FieldError("name", "invalid_tag", problem))
    color = _color(data.color, errors) or DEFAULT_COLOR
    if errors:
        raise ValidationFailed(errors)
    repository = TagRepository(session)
    if await repository.get_by_name(workspace_id, name) is not None:
        raise TagExists(f"The workspace already has a tag `{name}`.", param="name")
    tag = Tag(id=new_id("tag"), workspace_id=workspace_id, name=name, color=color, created_at=utcnow())
    repository.add(tag)
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError as error:  # created concurrently
        raise TagExists(f"The workspace already has a tag `{name}`.", param="name") from error
    return _schema(tag, 0)


async def update(session: AsyncSession, *, workspace_id: str, tag_id: str, data: TagUpdate) -> TagSchema:
    """Rename and/or recolour a tag; renaming onto another tag's name merges into it with `merge: true`."""
    repository = TagRepository(session)
    tag = await repository.get(workspace_id, tag_id)
    if tag is None:
        raise TagNotFound(f"No tag `{tag_id}` in this workspace.", param="id")
    errors: list[FieldError] = []
    name = data.name.strip() if data.name is not None else None
    if name is not None:
        problem = _problem(name)
        if problem is not None:
            errors.append(FieldError("name", "invalid_tag", problem))
    color = _color(data.color, errors)
    if errors:
        raise ValidationFailed(errors)
    other = await repository.get_by_name(workspace_id, name) if name is not None and name != tag.name else None
    if other is not None:
        if not data.merge:
            raise TagExists(
                f'The workspace already has a tag `{name}`; send `"merge": true` to merge this tag into it.',
                param="name",
            )
        await repository.merge(tag, other)
        await repository.rename(other, name=None, color=color)
        return _schema(other, await repository.link_count(other.id))
    await repository.rename(tag, name=name, color=color)
    return _schema(tag, await repository.link_count(tag.id))


async def delete(session: AsyncSession, *, workspace_id: str, tag_id: str) -> None:
    """Delete a tag: its links lose it, nothing else changes."""
    repository = TagRepository(session)
    tag = await repository.get(workspace_id, tag_id)
    if tag is None:
        raise TagNotFound(f"No tag `{tag_id}` in this workspace.", param="id")
    await repository.delete(tag)


@dataclass(frozen=True)
class TagFilter:
    """A list filter in tag ids: any of `any_of`, every one of `all_of`, none of `none_of`. `impossible`: a
    required tag does not exist, so nothing matches."""

    any_of: tuple[str, ...] = ()
    all_of: tuple[str, ...] = ()
    none_of: tuple[str, ...] = ()
    impossible: bool = False


def parse_filter(param: str, raw: str, errors: list[FieldError]) -> tuple[list[str], list[str]] | None:
    """`a,b,-c` → (included names, excluded names); problems go to `errors` under `param`."""
    items = raw.split(",")
    if len(items) > MAX_FILTER_TAGS:
        errors.append(FieldError(param, "too_many_values", f"At most {MAX_FILTER_TAGS} tags."))
        return None
    include: list[str] = []
    exclude: list[str] = []
    for item in items:
        text = item.strip()
        negative = text.startswith("-")
        name = text[1:].strip() if negative else text
        problem = _problem(name)
        if problem is not None:
            errors.append(FieldError(param, "invalid_tag", problem))
            return None
        (exclude if negative else include).append(name)
    return include, exclude


async def resolve_filter(
    session: AsyncSession, *, workspace_id: str, include: Sequence[str], exclude: Sequence[str], match_all: bool
) -> TagFilter:
    """Tag names → ids of the workspace's tags. Unknown names match no link (and exclude none)."""
    ids = await TagRepository(session).ids_by_name(workspace_id, [*include, *exclude])
    wanted = [ids[name] for name in dict.fromkeys(include) if name in ids]
    excluded = tuple(ids[name] for name in dict.fromkeys(exclude) if name in ids)
    if include and (not wanted or (match_all and len(wanted) < len(set(include)))):
        return TagFilter(impossible=True)
    if match_all:
        return TagFilter(all_of=tuple(wanted), none_of=excluded)
    return TagFilter(any_of=tuple(wanted), none_of=excluded)

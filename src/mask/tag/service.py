"""Tags: names stored once per workspace, attached to links."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from mask.kit.errors import FieldError
from mask.tag.repository import TagRepository
from mask.tag.schemas import Tag as TagSchema

MAX_TAGS_PER_LINK = 25
MAX_TAG_LENGTH = 50


def clean_names(raw: list[str], errors: list[FieldError]) -> list[str]:
    """Trim, check and de-duplicate tag names (keeping first-seen order); problems go to `errors`."""
    if len(raw) > MAX_TAGS_PER_LINK:
        errors.append(FieldError("tags", "too_many_tags", f"A link can have at most {MAX_TAGS_PER_LINK} tags."))
        return []
    names: list[str] = []
    for index, item in enumerate(raw):
        name = item.strip()
        if not 1 <= len(name) <= MAX_TAG_LENGTH:
            errors.append(
                FieldError(f"tags.{index}", "invalid_tag", f"A tag is 1–{MAX_TAG_LENGTH} characters once trimmed.")
            )
        elif any(ord(char) < 0x20 or ord(char) == 0x7F for char in name):
            errors.append(FieldError(f"tags.{index}", "invalid_tag", "A tag cannot contain control characters."))
        elif name not in names:
            names.append(name)
    return names


async def attach(session: AsyncSession, *, workspace_id: str, link_id: str, names: list[str]) -> None:
    """Replace the link's tags with `names` (created in the workspace when new)."""
    repository = TagRepository(session)
    await repository.set_link_tags(link_id, await repository.ensure(workspace_id, names))


async def list_with_counts(session: AsyncSession, *, workspace_id: str) -> list[TagSchema]:
    """Every tag of the workspace with the number of links carrying it, by name."""
    rows = await TagRepository(session).list_with_counts(workspace_id)
    return [TagSchema(id=tag.id, name=tag.name, link_count=count, created_at=tag.created_at) for tag, count in rows]

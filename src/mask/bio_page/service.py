"""Bio pages: creating, changing, deleting and listing them. Validation lives in validation.py, what visitors see
in published.py; SQL stays in the repository."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from mask.bio_page import themes
from mask.bio_page.repository import BioPageRepository
from mask.bio_page.schemas import BioPage as BioPageSchema
from mask.bio_page.schemas import BioPageCreate, BioPageUpdate
from mask.bio_page.schemas import Theme as ThemeSchema
from mask.bio_page.validation import check_blocks, check_common, check_handle
from mask.config import Settings
from mask.domain import service as domain_service
from mask.event import service as event_service
from mask.kit.errors import Conflict, FieldError, NotFound, ValidationFailed
from mask.kit.ids import new_id
from mask.kit.pagination import decode_cursor, encode_cursor
from mask.kit.time import utcnow
from mask.link.service import short_url
from mask.models.bio_page import BioBlock, BioPage
from mask.signals import BioPageChanged, emit

TRACKED_TYPES = frozenset({"link", "social"})


class BioPageNotFound(NotFound):
    code = "bio_page_not_found"


class HandleTaken(Conflict):
    code = "handle_taken"


@dataclass(frozen=True)
class BioPageView:
    """A page with its blocks in display order."""

    page: BioPage
    blocks: list[BioBlock]


def public_url(domain: str, handle: str) -> str:
    return short_url(domain, f"@{handle}")


def block_path(handle: str, block_id: str) -> str:
    """The tracked redirect a block's button points at, on the page's own host."""
    return f"/@{handle}/b/{block_id}"


def is_tracked(block: BioBlock) -> bool:
    """Link blocks and social icons go through the tracked redirect; `mailto:` icons link directly."""
    return block.type in TRACKED_TYPES and bool(block.url) and not (block.url or "").startswith("mailto:")


def _block_schema(block: BioBlock) -> dict[str, Any]:
    if block.type == "link":
        return {
            "id": block.id,
            "type": "link",
            "title": block.title,
            "url": block.url,
            "enabled": block.enabled,
            "clicks": block.clicks,
        }
    if block.type == "social":
        return {"id": block.id, "type": "social", "platform": block.platform, "url": block.url, "clicks": block.clicks}
    return {"id": block.id, "type": block.type, "text": block.text}


def to_schema(view: BioPageView) -> BioPageSchema:
    page = view.page
    return BioPageSchema.model_validate(
        {
            "id": page.id,
            "url": public_url(page.domain, page.handle),
            "handle": page.handle,
            "domain": page.domain,
            "title": page.title,
            "description": page.description,
            "avatar_url": page.avatar_url,
            "theme": ThemeSchema.model_validate(page.theme),
            "blocks": [_block_schema(b) for b in view.blocks],
            "published": page.published,
            "seo_title": page.seo_title,
            "seo_description": page.seo_description,
            "og_image_url": page.og_image_url,
            "views": page.views,
            "clicks": page.clicks,
            "workspace_id": page.workspace_id,
            "created_at": page.created_at,
            "updated_at": page.updated_at,
        }
    )


async def _flush(session: AsyncSession, page: BioPage) -> None:
    """Flush in a savepoint, so a lost race on (domain, handle) becomes a clean 409."""
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError as error:
        raise HandleTaken(f"The handle `{page.handle}` is already taken on {page.domain}.", param="handle") from error


def _apply_blocks(
    page: BioPage, cleaned: list[dict[str, Any]], existing: list[BioBlock], errors: list[FieldError]
) -> tuple[list[BioBlock], list[BioBlock], list[str]]:
    """The new block list (kept blocks updated in place), the blocks to add, and the ids of removed blocks."""
    by_id = {block.id: block for block in existing}
    result: list[BioBlock] = []
    created: list[BioBlock] = []
    for position, fields in enumerate(cleaned):
        block_id = fields.pop("id")
        if block_id is None:
            block = BioBlock(id=new_id("blk"), bio_page_id=page.id, position=position, clicks=0, **fields)
            created.append(block)
        else:
            kept = by_id.get(block_id)
            if kept is None:
                errors.append(
                    FieldError(
                        f"blocks.{position}.id",
                        "unknown_block",
                        f"`{block_id}` is not a block of this page; leave `id` out for a new block.",
                    )
                )
                continue
            if kept.type != fields["type"]:
                errors.append(
                    FieldError(
                        f"blocks.{position}.type",
                        "block_type_changed",
                        "A block keeps its type; leave `id` out to add a new block instead.",
                    )
                )
                continue
            for name, value in fields.items():
                setattr(kept, name, value)
            kept.position = position
            block = kept
        result.append(block)
    kept_ids = {block.id for block in result}
    return result, created, [block.id for block in existing if block.id not in kept_ids]


async def create(session: AsyncSession, *, settings: Settings, workspace_id: str, data: BioPageCreate) -> BioPageView:
    """Create a page; every invalid field is reported at once (422), a taken handle is 409."""
    errors: list[FieldError] = []
    handle = check_handle(data.handle, errors)
    domain = await domain_service.check_domain(
        session, settings=settings, workspace_id=workspace_id, raw=data.domain, errors=errors
    )
    changes = await check_common(session, settings, data, errors)
    cleaned = await check_blocks(session, settings, data.blocks or [], errors)
    if "theme" not in changes:
        changes["theme"] = {"preset": themes.DEFAULT_PRESET}
    if changes.get("published") is None:
        changes["published"] = True
    repository = BioPageRepository(session)
    now = utcnow()
    page = BioPage(
        id=new_id("bio"),
        workspace_id=workspace_id,
        domain=domain or "",
        handle=handle or "",
        views=0,
        clicks=0,
        created_at=now,
        updated_at=now,
        **changes,
    )
    blocks, created, _ = _apply_blocks(page, cleaned, [], errors)
    if errors:
        raise ValidationFailed(errors)
    if await repository.handle_taken(page.domain, page.handle):
        raise HandleTaken(f"The handle `{page.handle}` is already taken on {page.domain}.", param="handle")
    repository.add(page)
    await _flush(session, page)
    for block in created:  # after the page's row exists: blocks reference it
        repository.add(block)
    await session.flush()
    view = BioPageView(page=page, blocks=blocks)
    emit(session, BioPageChanged(page.domain, page.handle))  # a cached "no such page" must go
    await _record(session, "bio_page.created", view)
    return view


async def get(session: AsyncSession, *, workspace_id: str, page_id: str, lock: bool = False) -> BioPageView:
    """One of the workspace's pages, or BioPageNotFound (also for other workspaces' ids). `lock`: for a change,
    the row is locked first, so a concurrent change or delete is done before it is read (or waits for this one)."""
    repository = BioPageRepository(session)
    page = (
        await repository.get(workspace_id, page_id)
        if not lock or await repository.lock(workspace_id, page_id)
        else None
    )
    if page is None:
        raise BioPageNotFound(f"No bio page `{page_id}` in this workspace.", param="id")
    blocks = await repository.blocks_for([page.id])
    return BioPageView(page=page, blocks=blocks[page.id])


async def update(
    session: AsyncSession, *, settings: Settings, workspace_id: str, page_id: str, data: BioPageUpdate
) -> BioPageView:
    """Change the fields present in `data`; `blocks` replaces the list, keeping the blocks whose ids are sent."""
    view = await get(session, workspace_id=workspace_id, page_id=page_id, lock=True)
    page = view.page
    sent = data.model_fields_set
    errors: list[FieldError] = []
    changes = await check_common(session, settings, data, errors)
    if "handle" in sent:
        if data.handle is None:
            errors.append(FieldError("handle", "required", "`handle` cannot be cleared; send a new one instead."))
        else:
            changes["handle"] = check_handle(data.handle, errors)
    if "domain" in sent:
        changes["domain"] = await domain_service.check_domain(
            session, settings=settings, workspace_id=workspace_id, raw=data.domain, errors=errors
        )
    repository = BioPageRepository(session)
    blocks: list[BioBlock] = view.blocks
    created: list[BioBlock] = []
    removed: list[str] = []
    if "blocks" in sent:
        cleaned = await check_blocks(session, settings, data.blocks or [], errors)
        if not errors:
            blocks, created, removed = _apply_blocks(page, cleaned, view.blocks, errors)
    if errors:
        raise ValidationFailed(errors)
    new_domain = changes.get("domain", page.domain)
    new_handle = changes.get("handle", page.handle)
    if (new_domain, new_handle) != (page.domain, page.handle) and await repository.handle_taken(new_domain, new_handle):
        raise HandleTaken(f"The handle `{new_handle}` is already taken on {new_domain}.", param="handle")
    emit(session, BioPageChanged(page.domain, page.handle))
    if (new_domain, new_handle) != (page.domain, page.handle):
        emit(session, BioPageChanged(new_domain, new_handle))
    for name, value in changes.items():
        setattr(page, name, value)
    page.updated_at = utcnow()
    await repository.delete_blocks(page.id, removed)
    for block in created:
        repository.add(block)
    await _flush(session, page)
    view = BioPageView(page=page, blocks=blocks)
    await _record(session, "bio_page.updated", view)
    return view


async def delete(session: AsyncSession, *, workspace_id: str, page_id: str) -> BioPageView:
    """Delete a page and its blocks; its public address answers 404 at once. Its clicks stay in analytics."""
    view = await get(session, workspace_id=workspace_id, page_id=page_id, lock=True)
    emit(session, BioPageChanged(view.page.domain, view.page.handle))
    await _record(session, "bio_page.deleted", view)
    await BioPageRepository(session).delete(view.page)
    await session.flush()
    return view


async def list_page(
    session: AsyncSession, *, workspace_id: str, limit: int, cursor: str | None, domain: str | None
) -> tuple[list[BioPageView], str | None]:
    """A page of the workspace's bio pages, newest first, and the next page's cursor (None on the last)."""
    after = decode_cursor(cursor) if cursor else None
    repository = BioPageRepository(session)
    pages = await repository.list_page(
        workspace_id, limit=limit + 1, after=after, domain=domain.strip().lower() if domain else None
    )
    next_cursor = None
    if len(pages) > limit:
        pages = pages[:limit]
        next_cursor = encode_cursor(pages[-1].created_at, pages[-1].id)
    blocks = await repository.blocks_for(page.id for page in pages)
    return [BioPageView(page=page, blocks=blocks[page.id]) for page in pages], next_cursor


async def _record(session: AsyncSession, type: str, view: BioPageView) -> None:
    await event_service.record(
        session, workspace_id=view.page.workspace_id, type=type, data=to_schema(view).model_dump(mode="json")
    )

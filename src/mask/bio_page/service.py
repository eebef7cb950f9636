"""Bio pages: the rules. Validation collects every problem before answering; SQL stays in the repository."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from mask.analytics import service as analytics_service
from mask.analytics.query import ClickQuery, Counts, Event, Row
from mask.analytics.schemas import AnalyticsParams, GroupBy
from mask.analytics.store import ClickStore
from mask.bio_page import themes
from mask.bio_page.repository import BioPageRepository
from mask.bio_page.schemas import BioPage as BioPageSchema
from mask.bio_page.schemas import (
    BioPageCreate,
    BioPageFields,
    BioPageUpdate,
    BlockIn,
    HeaderBlockIn,
    LinkBlockIn,
    SocialBlockIn,
    TextBlockIn,
)
from mask.bio_page.schemas import Theme as ThemeSchema
from mask.click.schemas import EnrichedClick
from mask.config import Settings
from mask.db import after_commit
from mask.domain import service as domain_service
from mask.event import service as event_service
from mask.kit.errors import Conflict, FieldError, NotFound, ValidationFailed
from mask.kit.ids import new_id
from mask.kit.pagination import decode_cursor, encode_cursor
from mask.kit.reserved import is_reserved
from mask.kit.time import utcnow
from mask.kit.url import UrlProblem, normalize_hostname, parse_destination
from mask.link.service import short_url
from mask.models.bio_page import BioBlock, BioPage

HANDLE_PATTERN = re.compile(r"^[a-z0-9_.-]{3,30}$")
MAX_BLOCKS = 100
MAX_TITLE = 100  # a link's title, a header
MAX_TEXT = 500  # a text block
IMAGE_SCHEMES = frozenset({"https:"})
# One address, nothing else: no second recipient, no `?cc=`/`?body=` a visitor would not expect.
EMAIL_LOCAL = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$")
TRACKED_TYPES = frozenset({"link", "social"})
INVALIDATE_KEY = "bio_page_invalidate"  # session.info: how this process drops a cached public page


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


def forget_after_commit(session: AsyncSession, *, domain: str, handle: str) -> None:
    """Once `session` commits, stop serving the cached public page at (domain, handle) in every worker.

    A no-op for sessions of processes that serve no pages (the CLI, `mask worker`).
    """
    invalidate = session.info.get(INVALIDATE_KEY)
    if invalidate is None:
        return

    async def run() -> None:
        await invalidate(domain, handle)

    after_commit(session, run)


# ---- validation -------------------------------------------------------------------------------------------


def _bad_characters(text: str) -> bool:
    """C0 controls (but tab, newline, carriage return) and DEL: invisible, and NUL is refused by PostgreSQL."""
    return any((ord(char) < 0x20 and char not in "\t\n\r") or ord(char) == 0x7F for char in text)


def _clean_text(
    param: str, value: str | None, errors: list[FieldError], *, required: bool, max_length: int | None = None
) -> str | None:
    """Plain text as given (it is escaped on output, never altered); blank required text is refused."""
    if max_length is not None and value is not None and len(value) > max_length:
        errors.append(FieldError(param, "string_too_long", f"At most {max_length} characters."))
        return None
    if value is None:
        if required:
            errors.append(FieldError(param, "required", "This field is required."))
        return None
    if _bad_characters(value):
        errors.append(
            FieldError(
                param, "invalid_characters", "Control characters (other than tab and line breaks) are not allowed."
            )
        )
        return None
    if not value.strip():
        if required:
            errors.append(FieldError(param, "blank", "This text must not be blank."))
        return None  # an empty optional text clears the field
    return value


def check_handle(raw: str, errors: list[FieldError]) -> str | None:
    handle = raw.strip().lower()
    if not HANDLE_PATTERN.match(handle):
        errors.append(
            FieldError("handle", "invalid_handle", "A handle is 3–30 characters of a–z, 0–9, `_`, `.` and `-`.")
        )
        return None
    if is_reserved(handle):
        errors.append(FieldError("handle", "reserved_handle", f"`{handle}` is reserved by MASK; choose another."))
        return None
    return handle


def _check_image(param: str, raw: str | None, errors: list[FieldError]) -> str | None:
    if raw is None or raw == "":
        return None
    try:
        return parse_destination(raw, schemes=IMAGE_SCHEMES).href
    except UrlProblem as problem:
        errors.append(FieldError(param, problem.code, problem.message))
        return None


async def _check_link_url(
    session: AsyncSession, settings: Settings, param: str, raw: str, errors: list[FieldError]
) -> str | None:
    """A button's destination: the rules of a link's destination (http/https, no loop to our short domains)."""
    try:
        parsed = parse_destination(raw)
    except UrlProblem as problem:
        errors.append(FieldError(param, problem.code, problem.message))
        return None
    if await domain_service.is_short_domain(session, settings=settings, hostname=parsed.hostname, host=parsed.host):
        errors.append(FieldError(param, "redirect_loop", "The URL points at one of MASK's own short domains."))
        return None
    return parsed.href


def check_email(param: str, raw: str, errors: list[FieldError]) -> str | None:
    """`mailto:` with exactly one plain address (or the bare address); the domain goes to punycode."""
    text = raw.strip()
    address = text[len("mailto:") :] if text.lower().startswith("mailto:") else text
    local, at, host = address.rpartition("@")
    problem = "Give an e-mail address, like `mailto:hello@example.com`."
    if not at or len(local) > 64 or not EMAIL_LOCAL.match(local):
        errors.append(FieldError(param, "invalid_email", problem))
        return None
    try:
        domain = normalize_hostname(host)
    except UrlProblem:
        errors.append(FieldError(param, "invalid_email", problem))
        return None
    return f"mailto:{local}@{domain}"


async def _check_blocks(
    session: AsyncSession, settings: Settings, blocks: Sequence[BlockIn], errors: list[FieldError]
) -> list[dict[str, Any]]:
    """Each block's stored fields (id as sent, None for a new block), in order."""
    if len(blocks) > MAX_BLOCKS:
        errors.append(FieldError("blocks", "too_many_blocks", f"A page has at most {MAX_BLOCKS} blocks."))
        return []
    cleaned: list[dict[str, Any]] = []
    seen_ids: set[str] = set()
    for index, block in enumerate(blocks):
        param = f"blocks.{index}"
        if block.id is not None:
            if block.id in seen_ids:
                errors.append(FieldError(f"{param}.id", "duplicate_block_id", "This block id appears twice."))
            seen_ids.add(block.id)
        fields: dict[str, Any] = {
            "id": block.id,
            "type": block.type,
            "title": None,
            "text": None,
            "url": None,
            "platform": None,
            "enabled": True,
        }
        if isinstance(block, LinkBlockIn):
            fields["title"] = _clean_text(f"{param}.title", block.title, errors, required=True, max_length=MAX_TITLE)
            fields["url"] = await _check_link_url(session, settings, f"{param}.url", block.url, errors)
            fields["enabled"] = block.enabled
        elif isinstance(block, HeaderBlockIn | TextBlockIn):
            limit = MAX_TITLE if block.type == "header" else MAX_TEXT
            fields["text"] = _clean_text(f"{param}.text", block.text, errors, required=True, max_length=limit)
        elif isinstance(block, SocialBlockIn):
            fields["platform"] = block.platform
            if block.platform == "email":
                fields["url"] = check_email(f"{param}.url", block.url, errors)
            else:
                fields["url"] = await _check_link_url(session, settings, f"{param}.url", block.url, errors)
        cleaned.append(fields)
    return cleaned


async def _check_common(
    session: AsyncSession, settings: Settings, data: BioPageFields, errors: list[FieldError]
) -> dict[str, Any]:
    """The fields of `data` that were sent, validated into their stored form."""
    sent = data.model_fields_set
    changes: dict[str, Any] = {}
    for name in ("title", "description", "seo_title", "seo_description"):
        if name in sent:
            changes[name] = _clean_text(name, getattr(data, name), errors, required=False)
    for name in ("avatar_url", "og_image_url"):
        if name in sent:
            changes[name] = _check_image(name, getattr(data, name), errors)
    if "theme" in sent:
        raw_theme = data.theme.model_dump(exclude_none=True) if data.theme is not None else {}
        changes["theme"] = themes.clean(raw_theme, errors)
    if "published" in sent:
        if data.published is None:
            errors.append(FieldError("published", "required", "`published` is true or false."))
        else:
            changes["published"] = data.published
    return changes


# ---- writes -----------------------------------------------------------------------------------------------


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
    changes = await _check_common(session, settings, data, errors)
    cleaned = await _check_blocks(session, settings, data.blocks or [], errors)
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
    forget_after_commit(session, domain=page.domain, handle=page.handle)  # a cached "no such page" must go
    await _record(session, "bio_page.created", view)
    return view


async def get(session: AsyncSession, *, workspace_id: str, page_id: str) -> BioPageView:
    """One of the workspace's pages, or BioPageNotFound (also for other workspaces' ids)."""
    repository = BioPageRepository(session)
    page = await repository.get(workspace_id, page_id)
    if page is None:
        raise BioPageNotFound(f"No bio page `{page_id}` in this workspace.", param="id")
    blocks = await repository.blocks_for([page.id])
    return BioPageView(page=page, blocks=blocks[page.id])


async def update(
    session: AsyncSession, *, settings: Settings, workspace_id: str, page_id: str, data: BioPageUpdate
) -> BioPageView:
    """Change the fields present in `data`; `blocks` replaces the list, keeping the blocks whose ids are sent."""
    view = await get(session, workspace_id=workspace_id, page_id=page_id)
    page = view.page
    sent = data.model_fields_set
    errors: list[FieldError] = []
    changes = await _check_common(session, settings, data, errors)
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
        cleaned = await _check_blocks(session, settings, data.blocks or [], errors)
        if not errors:
            blocks, created, removed = _apply_blocks(page, cleaned, view.blocks, errors)
    if errors:
        raise ValidationFailed(errors)
    new_domain = changes.get("domain", page.domain)
    new_handle = changes.get("handle", page.handle)
    if (new_domain, new_handle) != (page.domain, page.handle) and await repository.handle_taken(new_domain, new_handle):
        raise HandleTaken(f"The handle `{new_handle}` is already taken on {new_domain}.", param="handle")
    forget_after_commit(session, domain=page.domain, handle=page.handle)
    if (new_domain, new_handle) != (page.domain, page.handle):
        forget_after_commit(session, domain=new_domain, handle=new_handle)
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
    view = await get(session, workspace_id=workspace_id, page_id=page_id)
    forget_after_commit(session, domain=view.page.domain, handle=view.page.handle)
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


# ---- public side ------------------------------------------------------------------------------------------


async def find_published(session: AsyncSession, *, domain: str, handle: str) -> BioPageView | None:
    """The published page at `domain`/@`handle` with its blocks, or None."""
    repository = BioPageRepository(session)
    page = await repository.get_by_handle(domain, handle)
    if page is None or not page.published:
        return None
    blocks = await repository.blocks_for([page.id])
    return BioPageView(page=page, blocks=blocks[page.id])


async def on_clicks(session: AsyncSession, clicks: list[EnrichedClick]) -> None:
    """Click listener: bump the page and block counters for the batch's human views and clicks.

    A bio page's traffic travels the click pipeline: a row with `bio_page_id` and `bio_block_id` is a click
    on that block; a row with `bio_page_id` and no `bio_block_id` is a view of the page.
    """
    views: Counter[str] = Counter()
    page_clicks: Counter[str] = Counter()
    block_clicks: Counter[str] = Counter()
    for click in clicks:
        if click.bio_page_id is None or click.is_bot:
            continue
        if click.bio_block_id is None:
            views[click.bio_page_id] += 1
        else:
            page_clicks[click.bio_page_id] += 1
            block_clicks[click.bio_block_id] += 1
    if views or page_clicks:
        await BioPageRepository(session).add_counts(views=views, clicks=page_clicks, block_clicks=block_clicks)


# ---- page views -------------------------------------------------------------------------------------------

NOT_FOR_VIEWS = frozenset({GroupBy.links, GroupBy.tags, GroupBy.bio_blocks})
VIEW_NAMES = {"clicks": "views", "unique_clicks": "unique_views"}


class ViewStore:
    """The analytics click store, asked about page views instead of clicks (mask.models.click.Click)."""

    def __init__(self, store: ClickStore) -> None:
        self.store = store

    async def record(self, clicks: Sequence[EnrichedClick]) -> None:
        await self.store.record(clicks)

    async def totals(self, query: ClickQuery) -> Counts:
        return await self.store.totals(replace(query, event=Event.view))

    async def timeseries(self, query: ClickQuery, starts: Sequence[datetime]) -> list[Counts]:
        return await self.store.timeseries(replace(query, event=Event.view), starts)

    async def breakdown(self, query: ClickQuery, columns: tuple[str, ...], *, limit: int) -> list[Row]:
        return await self.store.breakdown(replace(query, event=Event.view), columns, limit=limit)

    async def tag_breakdown(self, query: ClickQuery, *, limit: int) -> list[Row]:
        return await self.store.tag_breakdown(replace(query, event=Event.view), limit=limit)

    async def first_click_at(self, query: ClickQuery) -> datetime | None:
        return await self.store.first_click_at(replace(query, event=Event.view))


def as_views(data: dict[str, Any]) -> dict[str, Any]:
    """A click analytics answer with its counts named as views."""
    renamed = {VIEW_NAMES.get(key, key): value for key, value in data.items()}
    if isinstance(renamed.get("data"), list):
        renamed["data"] = [as_views(row) for row in renamed["data"]]
    return renamed


def view_columns(group_by: GroupBy) -> list[str]:
    """The CSV header of a views answer."""
    return [VIEW_NAMES.get(column, column) for column in analytics_service.csv_columns(group_by)]


async def views(session: AsyncSession, *, workspace_id: str, params: AnalyticsParams) -> dict[str, Any]:
    """Page views of the workspace's bio pages, with every time, filter and breakdown option of click analytics
    that applies to a page (not `link_id`, `tag`, or the `links`, `tags`, `bio_blocks` breakdowns)."""
    errors: list[FieldError] = []
    if params.group_by in NOT_FOR_VIEWS:
        errors.append(
            FieldError("group_by", "invalid_for_views", f"`{params.group_by.value}` does not apply to page views.")
        )
    for name in ("link_id", "tag"):
        if getattr(params, name) is not None:
            errors.append(FieldError(name, "invalid_for_views", f"`{name}` does not apply to page views."))
    if errors:
        raise ValidationFailed(errors)
    if params.bio_page_id is not None:
        named = {item.strip().removeprefix("-").strip() for item in params.bio_page_id.split(",")} - {""}
        missing = sorted(named - await BioPageRepository(session).existing_ids(workspace_id, named))
        if missing:
            raise BioPageNotFound(f"No bio page `{missing[0]}` in this workspace.", param="bio_page_id")
    store = ViewStore(analytics_service.click_store(session))
    result = await analytics_service.clicks(session, workspace_id=workspace_id, params=params, store=store)
    return as_views(result.model_dump(mode="json"))

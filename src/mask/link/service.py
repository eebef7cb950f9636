"""Links: the rules. Validation collects every problem before answering; SQL stays in the repositories."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from mask import audit
from mask.account import throttle
from mask.config import Settings
from mask.domain import service as domain_service
from mask.event import service as event_service
from mask.kit.errors import Conflict, FieldError, Forbidden, NotFound, RateLimited, ValidationFailed
from mask.kit.ids import ALPHABET, new_id, random_string
from mask.kit.pagination import decode_cursor, encode_cursor
from mask.kit.reserved import is_reserved
from mask.kit.time import as_utc, utcnow
from mask.link.repository import LinkRepository
from mask.link.schemas import Link as LinkSchema
from mask.link.schemas import LinkCreate, LinkUpdate
from mask.models.link import Link
from mask.models.workspace import Plan
from mask.signals import LinkChanged, emit
from mask.tag import service as tag_service
from mask.tag.repository import TagRepository
from mask.workspace import members as workspace_members
from mask.workspace import service as workspace_service

SLUG_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
GENERATED_SLUG_LENGTH = 7
GENERATION_ATTEMPTS = 8
UTM_FIELDS = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content")
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "[::1]"})


class LinkNotFound(NotFound):
    code = "link_not_found"


class SlugTaken(Conflict):
    code = "slug_taken"


class EmailUnverified(Forbidden):
    code = "email_unverified"


class DailyLinkCap(Forbidden):
    code = "daily_link_cap"


async def _check_may_create(session: AsyncSession, *, settings: Settings, workspace_id: str) -> None:
    """A workspace none of whose owners has verified an e-mail address creates no links when MASK requires it
    (MASK_REQUIRE_VERIFIED_EMAIL), and on the Hobby plan at most MASK_UNVERIFIED_LINKS_PER_DAY a day otherwise
    (counted atomically with the link: a refused or rolled-back create does not count)."""
    if await workspace_members.is_verified(session, workspace_id=workspace_id):
        return
    if settings.verified_email_required:
        raise EmailUnverified(
            "Confirm your e-mail address before creating links: open the link we mailed you (or ask for a new one "
            "on your account page)."
        )
    cap = settings.unverified_links_per_day
    workspace = await workspace_service.get_by_slug_or_id(session, ref=workspace_id)
    if cap == 0 or workspace.plan != Plan.hobby:
        return

    def refuse(seconds: int) -> RateLimited:
        raise DailyLinkCap(
            f"Until an owner of this workspace confirms their e-mail address it can create {cap} links a day; "
            f"confirm it, or wait {throttle.retry_message(seconds).removeprefix('Try again in ').rstrip('.')}.",
            headers={"Retry-After": str(seconds)},
        )

    await throttle.reserve(
        session, [throttle.Limit(f"links:unverified:{workspace_id}", cap, timedelta(days=1))], refuse=refuse
    )


@dataclass(frozen=True)
class LinkView:
    """A link with what its API form needs beyond the row."""

    link: Link
    tags: list[str]


def short_url(domain: str, slug: str) -> str:
    """https on every real domain; http on loopback hosts (local development)."""
    hostname = domain.split(":", 1)[0] if not domain.startswith("[") else domain.split("]", 1)[0] + "]"
    scheme = "http" if hostname in LOOPBACK_HOSTS or hostname.endswith(".localhost") else "https"
    return f"{scheme}://{domain}/{slug}"


def to_schema(view: LinkView) -> LinkSchema:
    link = view.link
    return LinkSchema(
        id=link.id,
        url=link.url,
        short_url=short_url(link.domain, link.slug),
        slug=link.slug,
        domain=link.domain,
        tags=view.tags,
        clicks=link.clicks,
        utm_source=link.utm_source,
        utm_medium=link.utm_medium,
        utm_campaign=link.utm_campaign,
        utm_term=link.utm_term,
        utm_content=link.utm_content,
        expires_at=link.expires_at,
        expired_url=link.expired_url,
        workspace_id=link.workspace_id,
        created_at=link.created_at,
        updated_at=link.updated_at,
        created_by_user_id=link.created_by_user_id,
        created_by_key_id=link.created_by_key_id,
        suspended=link.suspended_at is not None,
    )


def check_slug(slug: str, errors: list[FieldError]) -> None:
    if not SLUG_PATTERN.match(slug):
        errors.append(FieldError("slug", "invalid_slug", "A slug is 1–64 characters of letters, digits, `_` and `-`."))
    elif is_reserved(slug):
        errors.append(FieldError("slug", "reserved_slug", f"`{slug}` is reserved by MASK; choose another slug."))


def _check_expiry(value: datetime | None, errors: list[FieldError]) -> datetime | None:
    if value is not None and as_utc(value) <= utcnow():
        errors.append(FieldError("expires_at", "expiry_in_past", "`expires_at` must be in the future."))
    return None if value is None else as_utc(value)


async def _generate_slug(repository: LinkRepository, domain: str) -> str:
    for _ in range(GENERATION_ATTEMPTS):
        slug = random_string(GENERATED_SLUG_LENGTH, ALPHABET)
        if not is_reserved(slug) and not await repository.slug_taken(domain, slug):
            return slug
    raise Conflict("Could not find a free random slug; try again or choose one.", code="slug_generation_failed")


async def _insert(session: AsyncSession, link: Link) -> None:
    """Flush the new/changed row in a savepoint, so a lost race on (domain, slug) becomes a clean 409."""
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError as error:
        raise SlugTaken(f"The slug `{link.slug}` is already taken on {link.domain}.", param="slug") from error


async def _view(session: AsyncSession, link: Link) -> LinkView:
    names = await TagRepository(session).names_for_links([link.id])
    return LinkView(link=link, tags=names.get(link.id, []))


async def create(session: AsyncSession, *, settings: Settings, workspace_id: str, data: LinkCreate) -> LinkView:
    """Create a link; every invalid field is reported at once (422), a taken slug is 409."""
    errors: list[FieldError] = []
    url = await domain_service.check_destination(session, settings=settings, param="url", raw=data.url, errors=errors)
    expired_url = (
        await domain_service.check_destination(
            session, settings=settings, param="expired_url", raw=data.expired_url, errors=errors
        )
        if data.expired_url is not None
        else None
    )
    domain = await domain_service.check_domain(
        session, settings=settings, workspace_id=workspace_id, raw=data.domain, errors=errors
    )
    if data.slug is not None:
        check_slug(data.slug, errors)
    tags = tag_service.clean_names(data.tags or [], errors)
    expires_at = _check_expiry(data.expires_at, errors)
    if errors:
        raise ValidationFailed(errors)
    assert url is not None and domain is not None
    await _check_may_create(session, settings=settings, workspace_id=workspace_id)
    repository = LinkRepository(session)
    if data.slug is None:
        slug = await _generate_slug(repository, domain)
    else:
        slug = data.slug
        if await repository.slug_taken(domain, slug):
            raise SlugTaken(f"The slug `{slug}` is already taken on {domain}.", param="slug")
    now = utcnow()
    actor = audit.actor_of(session)
    link = Link(
        id=new_id("lnk"),
        created_by_user_id=actor.user_id,
        created_by_key_id=actor.id if actor.kind == "api_key" else None,
        workspace_id=workspace_id,
        domain=domain,
        slug=slug,
        url=url,
        expires_at=expires_at,
        expired_url=expired_url,
        clicks=0,
        created_at=now,
        updated_at=now,
        **{name: getattr(data, name) for name in UTM_FIELDS},
    )
    repository.add(link)
    await _insert(session, link)
    await tag_service.attach(session, workspace_id=workspace_id, link_id=link.id, names=tags)
    view = LinkView(link=link, tags=sorted(tags))
    await _record(session, "link.created", view)
    emit(session, LinkChanged(domain, slug))  # a cached "no such link" must go
    return view


async def get(session: AsyncSession, *, workspace_id: str, link_id: str) -> LinkView:
    """One of the workspace's links, or LinkNotFound (also for other workspaces' ids)."""
    link = await LinkRepository(session).get(workspace_id, link_id)
    if link is None:
        raise LinkNotFound(f"No link `{link_id}` in this workspace.", param="id")
    return await _view(session, link)


async def update(
    session: AsyncSession, *, settings: Settings, workspace_id: str, link_id: str, data: LinkUpdate
) -> LinkView:
    """Change the fields present in `data`; `null` clears optional ones. Slug/domain changes re-check uniqueness."""
    view = await get(session, workspace_id=workspace_id, link_id=link_id)
    link = view.link
    sent = data.model_fields_set
    errors: list[FieldError] = []
    changes: dict[str, Any] = {}
    if "url" in sent:
        if data.url is None:
            errors.append(FieldError("url", "required", "`url` cannot be cleared."))
        else:
            changes["url"] = await domain_service.check_destination(
                session, settings=settings, param="url", raw=data.url, errors=errors
            )
    if "expired_url" in sent:
        changes["expired_url"] = (
            await domain_service.check_destination(
                session, settings=settings, param="expired_url", raw=data.expired_url, errors=errors
            )
            if data.expired_url is not None
            else None
        )
    if "domain" in sent:
        changes["domain"] = await domain_service.check_domain(
            session, settings=settings, workspace_id=workspace_id, raw=data.domain, errors=errors
        )
    if "slug" in sent:
        if data.slug is None:
            errors.append(FieldError("slug", "required", "`slug` cannot be cleared; send a new one instead."))
        else:
            check_slug(data.slug, errors)
            changes["slug"] = data.slug
    tags: list[str] | None = None
    if "tags" in sent:
        tags = tag_service.clean_names(data.tags or [], errors)
    if "expires_at" in sent:
        changes["expires_at"] = _check_expiry(data.expires_at, errors)
    for name in UTM_FIELDS:
        if name in sent:
            changes[name] = getattr(data, name)
    if errors:
        raise ValidationFailed(errors)
    new_domain = changes.get("domain", link.domain)
    new_slug = changes.get("slug", link.slug)
    if (new_domain, new_slug) != (link.domain, link.slug) and await LinkRepository(session).slug_taken(
        new_domain, new_slug
    ):
        raise SlugTaken(f"The slug `{new_slug}` is already taken on {new_domain}.", param="slug")
    emit(session, LinkChanged(link.domain, link.slug))
    if (new_domain, new_slug) != (link.domain, link.slug):
        emit(session, LinkChanged(new_domain, new_slug))
    for name, value in changes.items():
        setattr(link, name, value)
    link.updated_at = utcnow()
    await _insert(session, link)
    if tags is not None:
        await tag_service.attach(session, workspace_id=workspace_id, link_id=link.id, names=tags)
        view = LinkView(link=link, tags=sorted(tags))
    await _record(session, "link.updated", view)
    return view


async def delete(session: AsyncSession, *, workspace_id: str, link_id: str) -> LinkView:
    """Delete a link; it is gone for the API at once (and stops redirecting)."""
    view = await get(session, workspace_id=workspace_id, link_id=link_id)
    await _record(session, "link.deleted", view)
    await LinkRepository(session).delete(view.link)
    await session.flush()
    emit(session, LinkChanged(view.link.domain, view.link.slug))
    return view


async def list_page(
    session: AsyncSession,
    *,
    workspace_id: str,
    limit: int,
    cursor: str | None,
    domain: str | None,
    tag: str | None,
    query: str | None,
    created_by: str | None = None,
) -> tuple[list[LinkView], str | None]:
    """A page of the workspace's links, newest first, and the next page's cursor (None on the last).
    `created_by`: a user's (`usr_…`) or an API key's (`key_…`) links only."""
    after = decode_cursor(cursor) if cursor else None
    tag_id = None
    if tag is not None:
        found = await TagRepository(session).get_by_name(workspace_id, tag.strip())
        if found is None:
            return [], None
        tag_id = found.id
    links = await LinkRepository(session).list_page(
        workspace_id,
        limit=limit + 1,
        after=after,
        domain=domain.strip().lower() if domain else None,
        tag_id=tag_id,
        query=query or None,
        created_by=created_by,
    )
    next_cursor = None
    if len(links) > limit:
        links = links[:limit]
        next_cursor = encode_cursor(links[-1].created_at, links[-1].id)
    names = await TagRepository(session).names_for_links(link.id for link in links)
    return [LinkView(link=link, tags=names.get(link.id, [])) for link in links], next_cursor


async def _record(session: AsyncSession, type: str, view: LinkView) -> None:
    await event_service.record(
        session, workspace_id=view.link.workspace_id, type=type, data=to_schema(view).model_dump(mode="json")
    )

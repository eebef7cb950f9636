"""Links: the rules. Validation collects every problem before answering; SQL stays in the repositories."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
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
from mask.kit.pagination import CursorValue, decode_sort_cursor, encode_sort_cursor
from mask.kit.reserved import is_reserved
from mask.kit.time import as_utc, isoformat_z, utcnow
from mask.link import access
from mask.link import rules as link_rules
from mask.link.repository import Archived, Keyset, LinkFilters, LinkRepository, Order, Sort
from mask.link.schemas import ImportedClicks, LinkCreate, LinkFields, LinkUpdate
from mask.link.schemas import Link as LinkSchema
from mask.models.link import Link
from mask.models.workspace import Plan
from mask.signals import LinkChanged, TitlesWanted, emit
from mask.tag import service as tag_service
from mask.tag.repository import TagRepository
from mask.workspace import members as workspace_members
from mask.workspace import service as workspace_service

SLUG_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
GENERATED_SLUG_LENGTH = 7
GENERATION_ATTEMPTS = 8
UTM_FIELDS = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content")
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "[::1]"})
# The fields a new link's access, targeting, A/B and preview columns come from.
ACCESS_AND_TARGETING = frozenset(
    {*access.ACCESS_FIELDS, *link_rules.RULE_FIELDS, "variants", "test_ends_at", "preview"}
)


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


class ExternalIdTaken(Conflict):
    code = "external_id_taken"


@dataclass(frozen=True)
class LinkView:
    """A link with what its API form needs beyond the row."""

    link: Link
    tags: list[str]
    imported: ImportedClicks | None = None  # totals another shortener counted before an import


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
        title=link.title,
        title_source=link.title_source,
        notes=link.notes,
        external_id=link.external_id,
        tags=view.tags,
        clicks=link.clicks,
        last_clicked_at=link.last_clicked_at,
        imported_clicks=view.imported,
        archived=link.archived,
        disabled=link.disabled,
        utm_source=link.utm_source,
        utm_medium=link.utm_medium,
        utm_campaign=link.utm_campaign,
        utm_term=link.utm_term,
        utm_content=link.utm_content,
        expires_at=link.expires_at,
        expired_url=link.expired_url,
        password_protected=link.password_hash is not None,
        starts_at=link.starts_at,
        max_clicks=link.max_clicks,
        clicks_remaining=None if link.max_clicks is None else max(0, link.max_clicks - (link.clicks_reserved or 0)),
        redirect_status=link.redirect_status or 302,
        rules=link.rules or [],
        variants=link.variants or [],
        test_ends_at=link.test_ends_at,
        preview=link.preview,
        workspace_id=link.workspace_id,
        created_at=link.created_at,
        updated_at=link.updated_at,
        created_by_user_id=link.created_by_user_id,
        created_by_key_id=link.created_by_key_id,
        suspended=link.suspended_at is not None,
    )


# The columns `to_json` reads from a Link.
_JSON_COLUMNS = frozenset(
    {
        "id", "url", "domain", "slug", "title", "title_source", "notes", "external_id", "clicks", "last_clicked_at",
        "archived", "disabled", *UTM_FIELDS, "expires_at", "expired_url", "password_hash", "starts_at",
        "max_clicks", "clicks_reserved", "redirect_status", "rules", "variants", "test_ends_at", "preview",
        "workspace_id", "created_at", "updated_at", "created_by_user_id", "created_by_key_id", "suspended_at",
    }
)  # fmt: skip


def to_json(view: LinkView, stamps: dict[datetime, str] | None = None) -> dict[str, Any]:
    """`to_schema(view).model_dump(mode="json")`, the same dict in the same order, built without the model for a
    link with no rules, variants, preview or imported clicks (a bulk answer holds a thousand links: a third of
    the time). `stamps` keeps the text of each time already written (a batch's links share theirs)."""
    link = view.link
    # A loaded or just-inserted row holds its columns in __dict__; reading them there skips the ORM's
    # descriptors (36 calls a link). An expired or deferred one is read through them.
    loaded = link.__dict__
    row = loaded if _JSON_COLUMNS <= loaded.keys() else {name: getattr(link, name) for name in _JSON_COLUMNS}
    if row["rules"] or row["variants"] or row["preview"] is not None or view.imported is not None:
        return to_schema(view).model_dump(mode="json")
    times = stamps if stamps is not None else {}

    def stamp(value: datetime | None) -> str | None:
        if value is None:
            return None
        text = times.get(value)
        if text is None:
            text = times[value] = isoformat_z(value)
        return text

    max_clicks = row["max_clicks"]
    return {
        "id": row["id"],
        "url": row["url"],
        "short_url": short_url(row["domain"], row["slug"]),
        "slug": row["slug"],
        "domain": row["domain"],
        "title": row["title"],
        "title_source": row["title_source"],
        "notes": row["notes"],
        "external_id": row["external_id"],
        "tags": list(view.tags),
        "clicks": row["clicks"],
        "last_clicked_at": stamp(row["last_clicked_at"]),
        "imported_clicks": None,
        "archived": row["archived"],
        "disabled": row["disabled"],
        "utm_source": row["utm_source"],
        "utm_medium": row["utm_medium"],
        "utm_campaign": row["utm_campaign"],
        "utm_term": row["utm_term"],
        "utm_content": row["utm_content"],
        "expires_at": stamp(row["expires_at"]),
        "expired_url": row["expired_url"],
        "password_protected": row["password_hash"] is not None,
        "starts_at": stamp(row["starts_at"]),
        "max_clicks": max_clicks,
        "clicks_remaining": None if max_clicks is None else max(0, max_clicks - (row["clicks_reserved"] or 0)),
        "redirect_status": row["redirect_status"] or 302,
        "rules": [],
        "variants": [],
        "test_ends_at": stamp(row["test_ends_at"]),
        "preview": None,
        "workspace_id": row["workspace_id"],
        "created_at": stamp(row["created_at"]),
        "updated_at": stamp(row["updated_at"]),
        "created_by_user_id": row["created_by_user_id"],
        "created_by_key_id": row["created_by_key_id"],
        "suspended": row["suspended_at"] is not None,
    }


def check_slug(slug: str, errors: list[FieldError]) -> None:
    if not SLUG_PATTERN.match(slug):
        errors.append(FieldError("slug", "invalid_slug", "A slug is 1–64 characters of letters, digits, `_` and `-`."))
    elif is_reserved(slug):
        errors.append(FieldError("slug", "reserved_slug", f"`{slug}` is reserved by MASK; choose another slug."))


def _check_expiry(value: datetime | None, errors: list[FieldError]) -> datetime | None:
    if value is not None and as_utc(value) <= utcnow():
        errors.append(FieldError("expires_at", "expiry_in_past", "`expires_at` must be in the future."))
    return None if value is None else as_utc(value)


# Control characters: C0, DEL and C1; notes may hold tabs and line breaks (\t \n \r).
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
CONTROL_BUT_WHITESPACE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def _check_text(param: str, value: str | None, errors: list[FieldError], *, multiline: bool = False) -> str | None:
    """A title, an external id (one line) or notes (`multiline`): stored as sent, never blank, no control
    characters (notes may have tabs and line breaks)."""
    if value is None:
        return None
    if not value.strip():
        errors.append(FieldError(param, "blank", f"`{param}` cannot be blank; send null to leave it out."))
    elif (CONTROL_BUT_WHITESPACE if multiline else CONTROL).search(value):
        errors.append(FieldError(param, "control_characters", f"`{param}` cannot contain control characters."))
    return value


def _check_flag(name: str, data: LinkFields, errors: list[FieldError]) -> bool | None:
    if name in data.model_fields_set and getattr(data, name) is None:
        errors.append(FieldError(name, "required", f"`{name}` is true or false, never null."))
    value: bool | None = getattr(data, name)
    return value


async def _generate_slug(repository: LinkRepository, domain: str) -> str:
    for _ in range(GENERATION_ATTEMPTS):
        slug = random_string(GENERATED_SLUG_LENGTH, ALPHABET)
        if not is_reserved(slug) and not await repository.slug_taken(domain, slug):
            return slug
    raise Conflict("Could not find a free random slug; try again or choose one.", code="slug_generation_failed")


def _external_id_taken(external_id: str) -> ExternalIdTaken:
    return ExternalIdTaken(f"Another link of this workspace has the external id `{external_id}`.", param="external_id")


async def _insert(session: AsyncSession, link: Link) -> None:
    """Flush the new/changed row in a savepoint, so that a lost race on (domain, slug) or (workspace,
    external_id) becomes a clean 409."""
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError as error:
        repository = LinkRepository(session)
        if link.external_id is not None and await repository.external_id_taken(
            link.workspace_id, link.external_id, besides=link.id
        ):
            raise _external_id_taken(link.external_id) from error
        raise SlugTaken(f"The slug `{link.slug}` is already taken on {link.domain}.", param="slug") from error


async def _view(session: AsyncSession, link: Link) -> LinkView:
    return (await views(session, [link]))[0]


async def views(session: AsyncSession, links: Sequence[Link]) -> list[LinkView]:
    """Links with what their API form needs beyond the row: tags, imported click totals (two queries)."""
    ids = [link.id for link in links]
    names = await TagRepository(session).names_for_links(ids)
    imported = await LinkRepository(session).imported_clicks(ids)
    return [
        LinkView(
            link=link,
            tags=names.get(link.id, []),
            imported=ImportedClicks(clicks=found[0], source=found[1], imported_at=found[2])
            if (found := imported.get(link.id)) is not None
            else None,
        )
        for link in links
    ]


async def _want_title(session: AsyncSession, settings: Settings, link: Link) -> None:
    """Queue a fetch of the destination's <title> for the background process, woken after the commit."""
    if not settings.title_fetch_enabled:
        return
    await LinkRepository(session).want_title(link.id, link.url, utcnow())
    emit(session, TitlesWanted())


@dataclass
class NewLink:
    """A create request, validated: what the link will hold."""

    url: str
    domain: str
    slug: str | None
    tags: list[str]
    expires_at: datetime | None
    expired_url: str | None
    title: str | None
    notes: str | None
    external_id: str | None
    archived: bool
    disabled: bool
    utm: dict[str, str | None] = field(default_factory=dict)
    access: dict[str, Any] = field(default_factory=dict)  # password hash, start, click limit, status


async def _validate_new(session: AsyncSession, settings: Settings, workspace_id: str, data: LinkCreate) -> NewLink:
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
    title = _check_text("title", data.title, errors)
    notes = _check_text("notes", data.notes, errors, multiline=True)
    external_id = _check_text("external_id", data.external_id, errors)
    archived = _check_flag("archived", data, errors)
    disabled = _check_flag("disabled", data, errors)
    sent = data.model_fields_set
    access_columns: dict[str, Any] = {}
    if sent & ACCESS_AND_TARGETING:  # none sent, each of these adds nothing (most links; a bulk create's thousand)
        access_columns.update(await access.changes(data, sent, errors, link=None, expires_at=expires_at))
        access_columns.update(
            await link_rules.rule_changes(session, settings=settings, data=data, sent=sent, link=None, errors=errors)
        )
        access_columns.update(
            await link_rules.variant_changes(session, settings=settings, data=data, sent=sent, link=None, errors=errors)
        )
        access_columns.update(
            await access.preview_changes(session, settings=settings, data=data, sent=sent, errors=errors)
        )
    if errors:
        raise ValidationFailed(errors)
    assert url is not None and domain is not None
    return NewLink(
        url=url,
        domain=domain,
        slug=data.slug,
        tags=tags,
        expires_at=expires_at,
        expired_url=expired_url,
        title=title,
        notes=notes,
        external_id=external_id,
        archived=bool(archived),
        disabled=bool(disabled),
        utm={name: getattr(data, name) for name in UTM_FIELDS},
        access=access_columns,
    )


def _same(link: Link, tags: list[str], new: NewLink, sent: set[str]) -> bool:
    """Whether an existing link holds every value the create request sent (url and domain already match)."""
    wanted: dict[str, Any] = {
        "slug": new.slug,
        "title": new.title,
        "notes": new.notes,
        "external_id": new.external_id,
        "expires_at": new.expires_at,
        "expired_url": new.expired_url,
        "archived": new.archived,
        "disabled": new.disabled,
        **new.utm,
    }
    if "password" in sent:
        return False  # a password cannot be compared without its hash's work: a new link
    if sent & set(link_rules.RULE_FIELDS):
        sent = sent | {"rules"}  # shortcuts are compared as the rules they make
    wanted.update({name: value for name, value in new.access.items() if name != "clicks_reserved"})
    for name, value in wanted.items():
        if name in sent and getattr(link, name) != value:
            return False
    return "tags" not in sent or sorted(tags) == sorted(new.tags)


async def create_or_find(
    session: AsyncSession, *, settings: Settings, workspace_id: str, data: LinkCreate
) -> tuple[LinkView, bool]:
    """Create a link (True), or with `if_exists: "return"` answer the workspace's oldest link to the same URL
    on the same domain whose fields equal every other field sent (False)."""
    new = await _validate_new(session, settings, workspace_id, data)
    if data.if_exists == "return":
        repository = LinkRepository(session)
        candidates = await repository.with_url(workspace_id, new.domain, new.url)
        names = await TagRepository(session).names_for_links(link.id for link in candidates)
        sent = set(data.model_fields_set) - {"url", "domain", "if_exists"}
        for link in candidates:
            if _same(link, names.get(link.id, []), new, sent):
                return await _view(session, link), False
    return await _create(session, settings, workspace_id, new), True


async def create(session: AsyncSession, *, settings: Settings, workspace_id: str, data: LinkCreate) -> LinkView:
    """Create a link; every invalid field is reported at once (422), a taken slug or external id is 409."""
    view, _created = await create_or_find(
        session, settings=settings, workspace_id=workspace_id, data=data.model_copy(update={"if_exists": "create"})
    )
    return view


async def _create(session: AsyncSession, settings: Settings, workspace_id: str, new: NewLink) -> LinkView:
    await _check_may_create(session, settings=settings, workspace_id=workspace_id)
    repository = LinkRepository(session)
    if new.slug is None:
        slug = await _generate_slug(repository, new.domain)
    else:
        slug = new.slug
        if await repository.slug_taken(new.domain, slug):
            raise SlugTaken(f"The slug `{slug}` is already taken on {new.domain}.", param="slug")
    if new.external_id is not None and await repository.external_id_taken(workspace_id, new.external_id):
        raise _external_id_taken(new.external_id)
    now = utcnow()
    actor = audit.actor_of(session)
    link = Link(
        id=new_id("lnk"),
        created_by_user_id=actor.user_id,
        created_by_key_id=actor.id if actor.kind == "api_key" else None,
        workspace_id=workspace_id,
        domain=new.domain,
        slug=slug,
        url=new.url,
        title=new.title,
        title_source="user" if new.title is not None else None,
        notes=new.notes,
        external_id=new.external_id,
        expires_at=new.expires_at,
        expired_url=new.expired_url,
        archived=new.archived,
        disabled=new.disabled,
        clicks=0,
        created_at=now,
        updated_at=now,
        **new.utm,
        **new.access,
    )
    repository.add(link)
    await _insert(session, link)
    await tag_service.attach(session, workspace_id=workspace_id, link_id=link.id, names=new.tags)
    if new.title is None:
        await _want_title(session, settings, link)
    view = LinkView(link=link, tags=sorted(new.tags))
    await _record(session, "link.created", view)
    emit(session, LinkChanged(new.domain, slug))  # a cached "no such link" must go
    return view


async def get(session: AsyncSession, *, workspace_id: str, link_id: str, lock: bool = False) -> LinkView:
    """One of the workspace's links, or LinkNotFound (also for other workspaces' ids). `lock`: for a change,
    the row is locked first, so a concurrent change or delete is done before it is read (or waits for this one)."""
    repository = LinkRepository(session)
    link = (
        await repository.get(workspace_id, link_id)
        if not lock or await repository.lock(workspace_id, link_id)
        else None
    )
    if link is None:
        raise LinkNotFound(f"No link `{link_id}` in this workspace.", param="id")
    return await _view(session, link)


async def find(
    session: AsyncSession,
    *,
    settings: Settings,
    workspace_id: str,
    domain: str | None,
    slug: str | None,
    external_id: str | None,
) -> LinkView:
    """The workspace's link at `domain`/`slug` (the workspace's default domain when no domain is given), or with
    `external_id`: exactly one of the two ways."""
    if (slug is None) == (external_id is None):
        param = "slug" if slug is None else "external_id"
        raise ValidationFailed.single(param, "required", "Give either `slug` (with `domain`) or `external_id`.")
    if external_id is not None and domain is not None:
        raise ValidationFailed.single("domain", "conflicting_lookup", "`domain` goes with `slug`, not `external_id`.")
    repository = LinkRepository(session)
    if external_id is not None:
        link = await repository.find_by_external_id(workspace_id, external_id)
        described = f"with the external id `{external_id}`"
    else:
        assert slug is not None
        host = (
            domain.strip().lower().rstrip(".")
            if domain
            else await domain_service.default_domain(session, settings=settings, workspace_id=workspace_id)
        )
        link = await repository.find_by_slug(workspace_id, host, slug)
        described = f"at {host}/{slug}"
    if link is None:
        raise LinkNotFound(f"No link {described} in this workspace.", param="external_id" if external_id else "slug")
    return await _view(session, link)


async def update(
    session: AsyncSession, *, settings: Settings, workspace_id: str, link_id: str, data: LinkUpdate
) -> LinkView:
    """Change the fields present in `data`; `null` clears optional ones. Slug/domain changes re-check uniqueness."""
    view = await get(session, workspace_id=workspace_id, link_id=link_id, lock=True)
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
    if "title" in sent:
        changes["title"] = _check_text("title", data.title, errors)
    if "notes" in sent:
        changes["notes"] = _check_text("notes", data.notes, errors, multiline=True)
    if "external_id" in sent:
        changes["external_id"] = _check_text("external_id", data.external_id, errors)
    for name in ("archived", "disabled"):
        if name in sent:
            changes[name] = _check_flag(name, data, errors)
    expires_at = changes["expires_at"] if "expires_at" in changes else link.expires_at
    changes.update(await access.changes(data, sent, errors, link=link, expires_at=expires_at))
    changes.update(
        await link_rules.rule_changes(session, settings=settings, data=data, sent=sent, link=link, errors=errors)
    )
    changes.update(
        await link_rules.variant_changes(session, settings=settings, data=data, sent=sent, link=link, errors=errors)
    )
    changes.update(await access.preview_changes(session, settings=settings, data=data, sent=sent, errors=errors))
    if errors:
        raise ValidationFailed(errors)
    repository = LinkRepository(session)
    new_domain = changes.get("domain", link.domain)
    new_slug = changes.get("slug", link.slug)
    if (new_domain, new_slug) != (link.domain, link.slug) and await repository.slug_taken(new_domain, new_slug):
        raise SlugTaken(f"The slug `{new_slug}` is already taken on {new_domain}.", param="slug")
    external_id = changes.get("external_id")
    if external_id is not None and await repository.external_id_taken(workspace_id, external_id, besides=link.id):
        raise _external_id_taken(external_id)
    emit(session, LinkChanged(link.domain, link.slug))
    if (new_domain, new_slug) != (link.domain, link.slug):
        emit(session, LinkChanged(new_domain, new_slug))
    url_changed = "url" in changes and changes["url"] != link.url
    for name, value in changes.items():
        if name != "title":
            setattr(link, name, value)
    fetch_title = False
    if "title" in sent:
        link.title = changes["title"]
        link.title_source = "user" if link.title is not None else None
        fetch_title = link.title is None  # null: the page's title again
        if not fetch_title:
            await repository.forget_title_fetch(link.id)
    elif url_changed and link.title_source != "user":
        link.title, link.title_source = None, None  # the old page's title: the new page's comes
        fetch_title = True
    link.updated_at = utcnow()
    await _insert(session, link)
    if fetch_title:
        await _want_title(session, settings, link)
    if tags is not None:
        await tag_service.attach(session, workspace_id=workspace_id, link_id=link.id, names=tags)
        view = LinkView(link=link, tags=sorted(tags), imported=view.imported)
    await _record(session, "link.updated", view)
    return view


class VariantNotFound(NotFound):
    code = "variant_not_found"


async def promote_variant(session: AsyncSession, *, workspace_id: str, link_id: str, index: int) -> LinkView:
    """Make variant `index` (0-based) the link's URL and end its A/B test."""
    view = await get(session, workspace_id=workspace_id, link_id=link_id)
    link = view.link
    variants = link.variants or []
    if not 0 <= index < len(variants):
        raise VariantNotFound(f"The link has no variant {index} (variants are numbered from 0).", param="n")
    link.url = variants[index]["url"]
    link.variants, link.test_ends_at = None, None
    link.updated_at = utcnow()
    await session.flush()
    emit(session, LinkChanged(link.domain, link.slug))
    await _record(session, "link.updated", view)
    return view


async def delete(session: AsyncSession, *, workspace_id: str, link_id: str) -> LinkView:
    """Delete a link; it is gone for the API at once (and stops redirecting). Of concurrent deletes, one deletes
    it (one `link.deleted` event) and the others find no link."""
    view = await get(session, workspace_id=workspace_id, link_id=link_id, lock=True)
    await _record(session, "link.deleted", view)
    await LinkRepository(session).delete(view.link)
    await session.flush()
    emit(session, LinkChanged(view.link.domain, view.link.slug))
    return view


@dataclass(frozen=True)
class ListQuery:
    """What a list of links is asked for (`GET /v1/links`, the dashboard's table)."""

    sort: Sort = Sort.created_at
    order: Order = Order.desc
    archived: Archived = Archived.false
    domain: str | None = None
    query: str | None = None
    tags: str | None = None  # `a,b,-c`
    tag_match: str = "any"
    tag: str | None = None  # one tag's exact name (the older filter)
    tag_names: tuple[str, ...] = ()  # exact names, combined per `tag_match` (the dashboard's tag picker)
    created_by: str | None = None  # a user's (`usr_…`) or an API key's (`key_…`) links only


def _cursor_value(sort: Sort, link: Link) -> CursorValue:
    value = getattr(link, sort.value)
    if isinstance(value, datetime):
        return as_utc(value).isoformat()  # to the microsecond: a rounded key would skip or repeat rows
    return value  # type: ignore[no-any-return]


def _keyset(sort: Sort, value: CursorValue, row_id: str) -> Keyset:
    """The cursor's sort key in the column's type (422 for one that does not fit the sort)."""
    if value is None:
        return Keyset(None, row_id)
    try:
        if sort in (Sort.created_at, Sort.last_clicked_at):
            if not isinstance(value, str):
                raise ValueError("not a time")
            return Keyset(as_utc(datetime.fromisoformat(value)), row_id)
        if sort is Sort.clicks:
            if not isinstance(value, int):
                raise ValueError("not a count")
            return Keyset(value, row_id)
        if not isinstance(value, str):
            raise ValueError("not a title")
        return Keyset(value, row_id)
    except ValueError as error:
        raise ValidationFailed.single(
            "cursor", "invalid_cursor", "The cursor is not one this API returned; pass `next_cursor` back as is."
        ) from error


async def list_page(
    session: AsyncSession, *, workspace_id: str, limit: int, cursor: str | None, query: ListQuery
) -> tuple[list[LinkView], str | None]:
    """A page of the workspace's links in the asked order, and the next page's cursor (None on the last)."""
    after = None
    if cursor:
        value, row_id = decode_sort_cursor(cursor, query.sort.value, query.order.value)
        after = _keyset(query.sort, value, row_id)
    errors: list[FieldError] = []
    tag_filter = tag_service.TagFilter()
    parsed: tuple[list[str], list[str]] | None = None
    if query.tag is not None and query.tags is not None:
        errors.append(FieldError("tags", "conflicting_filters", "Give either `tag` or `tags`, not both."))
    elif query.tags is not None:
        parsed = tag_service.parse_filter("tags", query.tags, errors)
    elif query.tag is not None:
        parsed = ([query.tag.strip()], [])
    elif query.tag_names:
        parsed = (list(query.tag_names), [])
    if parsed is not None:
        tag_filter = await tag_service.resolve_filter(
            session,
            workspace_id=workspace_id,
            include=parsed[0],
            exclude=parsed[1],
            match_all=query.tag_match == "all",
        )
    if errors:
        raise ValidationFailed(errors)
    filters = LinkFilters(
        domain=query.domain.strip().lower() if query.domain else None,
        query=query.query or None,
        archived=query.archived,
        any_tags=tag_filter.any_of,
        all_tags=tag_filter.all_of,
        no_tags=tag_filter.none_of,
        created_by=query.created_by,
        nothing=tag_filter.impossible,
    )
    links = await LinkRepository(session).list_page(
        workspace_id, limit=limit + 1, sort=query.sort, order=query.order, after=after, filters=filters
    )
    next_cursor = None
    if len(links) > limit:
        links = links[:limit]
        last = links[-1]
        next_cursor = encode_sort_cursor(query.sort.value, query.order.value, _cursor_value(query.sort, last), last.id)
    return await views(session, links), next_cursor


async def _record(session: AsyncSession, type: str, view: LinkView) -> None:
    await event_service.record(
        session, workspace_id=view.link.workspace_id, type=type, data=to_schema(view).model_dump(mode="json")
    )


async def record_limit_reached(session: AsyncSession, *, link_id: str) -> None:
    """The `link.limit_reached` event, once a limited link's last click has been let through."""
    link = await LinkRepository(session).get_any(link_id)
    if link is None or link.max_clicks is None:
        return
    await _record(session, "link.limit_reached", await _view(session, link))


async def check_page_url(session: AsyncSession, *, settings: Settings, url: str) -> str:
    """A URL whose page may be read for metadata: the rules of a link's `url` (422 otherwise)."""
    errors: list[FieldError] = []
    checked = await domain_service.check_destination(session, settings=settings, param="url", raw=url, errors=errors)
    if errors or checked is None:
        raise ValidationFailed(errors)
    return checked


# The same rules for bulk creation and imports (mask.bulk), applied item by item.
validate_new = _validate_new
check_may_create = _check_may_create
external_id_taken = _external_id_taken

"""Custom short domains. A host name belongs to at most one workspace; the default short domain to none."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from mask.config import Settings
from mask.domain.repository import DomainRepository
from mask.domain.schemas import Domain as DomainSchema
from mask.event import service as event_service
from mask.kit.errors import Conflict, FieldError, NotFound, ValidationFailed
from mask.kit.ids import new_id
from mask.kit.pagination import decode_cursor, encode_cursor
from mask.kit.url import ParsedUrl, UrlProblem, is_loopback, normalize_hostname, parse_destination, split_host
from mask.models.domain import Domain
from mask.signals import LinkChanged, emit


class DomainNotFound(NotFound):
    code = "domain_not_found"


class DomainTaken(Conflict):
    code = "domain_taken"


class DomainInUse(Conflict):
    code = "domain_in_use"


def default_hostname(settings: Settings) -> str:
    return settings.short_domain.split(":", 1)[0]


async def create(session: AsyncSession, *, settings: Settings, workspace_id: str, name: str) -> Domain:
    """Add a custom short domain to the workspace; taken by anyone (or the default short domain) → 409."""
    try:
        hostname = normalize_hostname(name)
    except UrlProblem as problem:
        raise ValidationFailed.single("domain", problem.code, problem.message) from problem
    if hostname in (settings.short_domain, default_hostname(settings)):
        raise DomainTaken("This is MASK's default short domain; it cannot be added.", param="domain")
    repository = DomainRepository(session)
    if await repository.exists(hostname):
        raise DomainTaken(f"The domain `{hostname}` is already in use.", param="domain")
    domain = Domain(id=new_id("dom"), workspace_id=workspace_id, domain=hostname)
    repository.add(domain)
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError as error:  # lost a race with another request adding the same name
        raise DomainTaken(f"The domain `{hostname}` is already in use.", param="domain") from error
    await event_service.record(
        session,
        workspace_id=workspace_id,
        type="domain.created",
        data=DomainSchema.model_validate(domain).model_dump(mode="json"),
    )
    return domain


async def get(session: AsyncSession, *, workspace_id: str, domain_id: str) -> Domain:
    """One of the workspace's domains, or DomainNotFound."""
    domain = await DomainRepository(session).get(workspace_id, domain_id)
    if domain is None:
        raise DomainNotFound(f"No domain `{domain_id}` in this workspace.", param="id")
    return domain


async def list_page(
    session: AsyncSession, *, workspace_id: str, limit: int, cursor: str | None
) -> tuple[list[Domain], str | None]:
    """A page of the workspace's domains, newest first, and the cursor of the next page."""
    after = decode_cursor(cursor) if cursor else None
    rows = await DomainRepository(session).list_page(workspace_id, limit=limit + 1, after=after)
    if len(rows) > limit:
        rows = rows[:limit]
        return rows, encode_cursor(rows[-1].created_at, rows[-1].id)
    return rows, None


async def delete(session: AsyncSession, *, workspace_id: str, domain_id: str) -> None:
    """Remove a domain. Refused (409) while links or bio pages use it, so that none silently stops working."""
    repository = DomainRepository(session)
    domain = await get(session, workspace_id=workspace_id, domain_id=domain_id)
    links = await repository.count_links(domain.domain)
    pages = await repository.count_bio_pages(domain.domain)
    if links or pages:
        users = " and ".join(
            part for part in (f"{links} link(s)" if links else "", f"{pages} bio page(s)" if pages else "") if part
        )
        raise DomainInUse(f"{users} still use `{domain.domain}`; delete or move them first.")
    data = DomainSchema.model_validate(domain).model_dump(mode="json")
    await repository.delete(domain)
    await event_service.record(session, workspace_id=workspace_id, type="domain.deleted", data=data)
    emit(session, LinkChanged(domain.domain))


async def workspace_owns(session: AsyncSession, *, workspace_id: str, name: str) -> bool:
    """Whether `name` is one of this workspace's domains."""
    domain = await DomainRepository(session).get_by_name(name)
    return domain is not None and domain.workspace_id == workspace_id


async def check_domain(
    session: AsyncSession, *, settings: Settings, workspace_id: str, raw: str | None, errors: list[FieldError]
) -> str | None:
    """Where a link or bio page lives: the default short domain when `raw` is None, else one of the
    workspace's domains; anything else adds an `unknown_domain` error for the `domain` field."""
    if raw is None:
        return settings.short_domain
    name = raw.strip().lower()
    if name == settings.short_domain:
        return name
    if await workspace_owns(session, workspace_id=workspace_id, name=name):
        return name
    errors.append(
        FieldError(
            "domain",
            "unknown_domain",
            f"`{raw}` is neither the default short domain nor one of this workspace's domains.",
        )
    )
    return None


async def is_short_domain(session: AsyncSession, *, settings: Settings, url: ParsedUrl) -> bool:
    """Whether a URL leads back to MASK (a redirect there would loop): the default short domain, however the
    URL spells it (capitals, a trailing dot; for a loopback short domain every loopback name and address on its
    port), or any workspace's domain."""
    short_name, short_port = split_host(settings.short_domain)
    if url.site == short_name or (is_loopback(url.site) and is_loopback(short_name)):
        return short_port is None or url.port == short_port
    return await DomainRepository(session).exists(url.site)


async def check_destination(
    session: AsyncSession, *, settings: Settings, param: str, raw: str, errors: list[FieldError]
) -> str | None:
    """A URL visitors are sent to (a link's `url` and `expired_url`, a bio page's buttons, …): the WHATWG rules
    of mask.kit.url, and never one of MASK's own short domains. Adds its problem to `errors`; the stored form."""
    try:
        parsed = parse_destination(raw)
    except UrlProblem as problem:
        errors.append(FieldError(param, problem.code, problem.message))
        return None
    if await is_short_domain(session, settings=settings, url=parsed):
        errors.append(FieldError(param, "redirect_loop", "The URL points at one of MASK's own short domains."))
        return None
    return parsed.href

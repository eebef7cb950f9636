"""Custom short domains: claims, their verification, and what a domain answers besides links.

A workspace claims a host name; links and bio pages can be created on it at once, but it serves nothing until
the claim is verified (a TXT record only the host name's DNS administrator can create, or an operator's word).
Several workspaces may claim the same host name meanwhile, so a squatter cannot block the owner; when one claim
is verified, the others are released: their links and bio pages on that host name are removed (they never
answered, and would hold slugs the owner needs) and their workspaces are told (`domain.verification_failed`,
with `claimed_elsewhere`). At most one claim per host name is verified (a partial unique index).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from publicsuffixlist import PublicSuffixList
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from mask import audit
from mask.abuse import service as abuse_service
from mask.config import Settings
from mask.domain import verification
from mask.domain.dns import Dns, challenge_name, challenge_value
from mask.domain.repository import DomainRepository
from mask.domain.schemas import CheckProblem, DnsRecord, DomainUpdate, Routing, Verification
from mask.domain.schemas import Domain as DomainSchema
from mask.event import service as event_service
from mask.kit.association import AssociationProblem, check_apple_app_site_association, check_asset_links
from mask.kit.errors import Conflict, FieldError, NotFound, ValidationFailed
from mask.kit.ids import new_id
from mask.kit.pagination import decode_cursor, encode_cursor
from mask.kit.time import as_utc, utcnow
from mask.kit.url import ParsedUrl, UrlProblem, is_loopback, normalize_hostname, parse_destination, split_host
from mask.models.domain import Domain
from mask.models.workspace import Workspace
from mask.signals import DomainChanged, LinkChanged, emit

TOKEN_BYTES = 24
_PUBLIC_SUFFIXES = PublicSuffixList()  # the list bundled with the package: no network, ever


class DomainNotFound(NotFound):
    code = "domain_not_found"


class DomainTaken(Conflict):
    code = "domain_taken"


class DomainInUse(Conflict):
    code = "domain_in_use"


def default_hostname(settings: Settings) -> str:
    return settings.short_domain.split(":", 1)[0]


# ---------------------------------------------------------------------------------------------------------------
# The API form


def routing_records(settings: Settings, name: str) -> list[DnsRecord]:
    """The records that send a domain's visitors to MASK: a CNAME to MASK_CNAME_TARGET, A/AAAA to MASK_PUBLIC_IPS."""
    records = [DnsRecord(type="CNAME", name=name, value=settings.cname_target)] if settings.cname_target else []
    for address in settings.public_ips:
        records.append(DnsRecord(type="AAAA" if ":" in address else "A", name=name, value=address))
    return records


def to_schema(domain: Domain, settings: Settings) -> DomainSchema:
    error = (
        CheckProblem(code=domain.last_error, message=domain.last_error_message or "")
        if domain.last_error is not None
        else None
    )
    record = (
        DnsRecord(type="TXT", name=challenge_name(domain.domain), value=challenge_value(domain.verification_token))
        if domain.verification_method == "dns_txt"
        else None
    )
    return DomainSchema(
        id=domain.id,
        domain=domain.domain,
        verified=domain.verified,
        verification=Verification(
            status=domain.verification_status,
            method=domain.verification_method,
            record=record,
            verified_at=domain.verified_at,
            last_checked_at=domain.last_checked_at,
            next_check_at=domain.next_check_at,
            record_missing_since=domain.record_missing_since,
            error=error,
        ),
        routing=Routing(
            status=domain.routing_status,
            records=routing_records(settings, domain.domain),
        ),
        root_url=domain.root_url,
        not_found_url=domain.not_found_url,
        expired_url=domain.expired_url,
        robots=domain.robots,
        apple_app_site_association=domain.apple_app_site_association,
        asset_links=domain.asset_links,
        workspace_id=domain.workspace_id,
        created_at=domain.created_at,
        updated_at=domain.updated_at,
    )


async def _record(session: AsyncSession, settings: Settings, type: str, domain: Domain) -> None:
    data = to_schema(domain, settings).model_dump(mode="json")
    await event_service.record(session, workspace_id=domain.workspace_id, type=type, data=data)


def _changed(session: AsyncSession, name: str) -> None:
    """What `name` answers changed: its state in every worker, and its links' cached answers, must go."""
    emit(session, DomainChanged(name))
    emit(session, LinkChanged(name))


# ---------------------------------------------------------------------------------------------------------------
# Claims


def check_hostname(raw: str) -> str:
    """A host name a workspace may claim, normalised (punycode, lower case), or ValidationFailed on `domain`."""
    try:
        hostname = normalize_hostname(raw)
    except UrlProblem as problem:
        raise ValidationFailed.single("domain", problem.code, problem.message) from problem
    if _PUBLIC_SUFFIXES.is_public(hostname):
        raise ValidationFailed.single(
            "domain",
            "public_suffix",
            f"`{hostname}` is a public suffix (like `co.uk` or `github.io`): names under it belong to different "
            "owners. Add a name you own under it instead.",
        )
    return hostname


async def create(
    session: AsyncSession, *, settings: Settings, workspace_id: str, name: str, operator_verified: bool = False
) -> Domain:
    """Claim a host name for the workspace (pending until verified). Taken when this workspace already claims it,
    another has verified it, or it is the default short domain (409). `operator_verified`: the server's operator
    vouches for it (`mask domains add --verified`): verified at once, never checked, other claims released."""
    hostname = check_hostname(name)
    if hostname in (settings.short_domain, default_hostname(settings)):
        raise DomainTaken("This is MASK's default short domain; it cannot be added.", param="domain")
    repository = DomainRepository(session)
    if await repository.claim(workspace_id, hostname) is not None:
        raise DomainTaken(f"`{hostname}` is already one of this workspace's domains.", param="domain")
    if await repository.verified_claim(hostname) is not None:
        raise DomainTaken(f"The domain `{hostname}` is already in use.", param="domain")
    now = utcnow()
    domain = Domain(
        id=new_id("dom"),
        workspace_id=workspace_id,
        domain=hostname,
        verified=False,
        verification_method="dns_txt",
        verification_status="pending",
        verification_token=secrets.token_hex(TOKEN_BYTES),
        pending_since=now,
        next_check_at=now,  # the background process looks as soon as it can: the record may exist already
        check_count=0,
        robots="deny",
        created_at=now,
        updated_at=now,
    )
    if operator_verified:
        domain.verification_method = "operator"
        _mark_verified(domain, now, next_check=None)
    repository.add(domain)
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError as error:  # lost a race with another request claiming or verifying the same name
        raise DomainTaken(f"The domain `{hostname}` is already in use.", param="domain") from error
    await _record(session, settings, "domain.created", domain)
    if operator_verified:
        await _release_others(session, settings, domain, now)
    _changed(session, hostname)  # also wakes the domain checker: the record may exist already
    return domain


async def operator_verify(session: AsyncSession, *, settings: Settings, workspace_id: str, name: str) -> Domain:
    """The server's operator vouches that the workspace owns `name` (`mask domains add --verified`): its claim
    (added now if it has none) is verified without DNS and never checked; other workspaces' claims give way.
    Refused (409) when another workspace's claim is verified already."""
    hostname = check_hostname(name)
    repository = DomainRepository(session)
    domain = await repository.claim(workspace_id, hostname)
    if domain is None:
        return await create(
            session, settings=settings, workspace_id=workspace_id, name=hostname, operator_verified=True
        )
    holder = await repository.verified_claim(hostname)
    if holder is not None and holder.id != domain.id:
        raise DomainTaken(f"Another workspace has verified `{hostname}`.", param="domain")
    now = utcnow()
    was_verified = domain.verified
    domain.verification_method = "operator"
    _mark_verified(domain, now, next_check=None)
    await session.flush()
    await _release_others(session, settings, domain, now)
    if not was_verified:
        await _record(session, settings, "domain.verified", domain)
    _changed(session, hostname)
    return domain


async def get(session: AsyncSession, *, workspace_id: str, domain_id: str, fresh: bool = False) -> Domain:
    """One of the workspace's domains, or DomainNotFound; `fresh` reloads a row the session already holds."""
    domain = await DomainRepository(session).get(workspace_id, domain_id, fresh=fresh)
    if domain is None:
        raise DomainNotFound(f"No domain `{domain_id}` in this workspace.", param="id")
    return domain


async def get_by_name(session: AsyncSession, *, workspace_id: str, name: str) -> Domain:
    """The workspace's claim of the host name `name`, or DomainNotFound."""
    hostname = check_hostname(name)
    domain = await DomainRepository(session).claim(workspace_id, hostname)
    if domain is None:
        raise DomainNotFound(f"This workspace has no domain `{hostname}`.", param="domain")
    return domain


async def list_all(session: AsyncSession, *, workspace_id: str | None) -> list[Domain]:
    """Every domain (of one workspace, or of all), by host name: for the operator's CLI."""
    return await DomainRepository(session).list_all(workspace_id)


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


async def unverified_names(session: AsyncSession, *, workspace_id: str) -> set[str]:
    """The workspace's domains whose links do not answer yet (the dashboard marks those links)."""
    return await DomainRepository(session).unverified_names(workspace_id)


async def delete(session: AsyncSession, *, settings: Settings, workspace_id: str, domain_id: str) -> None:
    """Remove a domain. Refused (409) while the workspace's links or bio pages use it, so that none silently
    stops working."""
    repository = DomainRepository(session)
    domain = await get(session, workspace_id=workspace_id, domain_id=domain_id)
    links = await repository.count_links(domain.domain, workspace_id=workspace_id)
    pages = await repository.count_bio_pages(domain.domain, workspace_id=workspace_id)
    if links or pages:
        users = " and ".join(
            part for part in (f"{links} link(s)" if links else "", f"{pages} bio page(s)" if pages else "") if part
        )
        raise DomainInUse(f"{users} still use `{domain.domain}`; delete or move them first.")
    await _record(session, settings, "domain.deleted", domain)
    await repository.delete(domain)
    _changed(session, domain.domain)


async def workspace_owns(session: AsyncSession, *, workspace_id: str, name: str) -> bool:
    """Whether `name` is one of this workspace's domains that may carry links: claimed by it, and not verified by
    another workspace (links may be prepared on a pending domain; they answer once it is verified)."""
    memo: dict[tuple[str, ...], bool] | None = session.info.get(LOOKUP_MEMO)
    if memo is not None and ("owns", workspace_id, name) in memo:
        return memo["owns", workspace_id, name]
    repository = DomainRepository(session)
    if await repository.claim(workspace_id, name) is None:
        owns = False
    else:
        verified = await repository.verified_claim(name)
        owns = verified is None or verified.workspace_id == workspace_id
    if memo is not None:
        memo["owns", workspace_id, name] = owns
    return owns


LOOKUP_MEMO = "mask.domain.lookups"


def remember_lookups(session: AsyncSession) -> None:
    """Answer this session's repeated domain lookups (`check_domain`, `check_destination`) from memory: a bulk
    create or an import checks thousands of links against a few host names in one short unit of work."""
    session.info.setdefault(LOOKUP_MEMO, {})


DEFAULTS_MEMO = "mask.domain.defaults"


async def default_domain(session: AsyncSession, *, settings: Settings, workspace_id: str) -> str:
    """Where the workspace's links and bio pages go when none is named: its chosen default domain while that is
    still one of its domains (one it removed, or lost to its verified owner, no longer counts), else the
    server's short domain."""
    memo: dict[str, str] | None = session.info.setdefault(DEFAULTS_MEMO, {}) if LOOKUP_MEMO in session.info else None
    if memo is not None and workspace_id in memo:
        return memo[workspace_id]
    chosen = await DomainRepository(session).workspace_default(workspace_id)
    if chosen is None or not await workspace_owns(session, workspace_id=workspace_id, name=chosen):
        chosen = settings.short_domain
    if memo is not None:
        memo[workspace_id] = chosen
    return chosen


async def set_default_domain(
    session: AsyncSession, *, settings: Settings, workspace: Workspace, raw: str | None
) -> str:
    """Choose where links and bio pages go when none is named: one of the workspace's verified domains, or the
    short domain (`raw` None or the short domain itself). A pending or unknown domain is refused (422)."""
    text = (raw or "").strip().lower().rstrip(".")
    if not text or text == settings.short_domain:
        chosen = None
    else:
        try:
            name = normalize_hostname(text)
        except UrlProblem as problem:
            raise ValidationFailed.single("default_domain", problem.code, problem.message) from problem
        claim = await DomainRepository(session).claim(workspace.id, name)
        if claim is None:
            raise ValidationFailed.single(
                "default_domain", "unknown_domain", f"`{raw}` is not one of this workspace's domains."
            )
        if not claim.verified:
            raise ValidationFailed.single(
                "default_domain",
                "domain_not_verified",
                f"`{name}` is not verified yet: links made there would not answer. Verify it first.",
            )
        chosen = name
    previous, workspace.default_domain = workspace.default_domain, chosen
    await session.flush()
    if previous != chosen:
        audit.record(
            session,
            workspace_id=workspace.id,
            action="workspace.default_domain_changed",
            target_type="workspace",
            target_id=workspace.id,
            details={"from": previous, "to": chosen},
        )
    return chosen or settings.short_domain


async def check_domain(
    session: AsyncSession, *, settings: Settings, workspace_id: str, raw: str | None, errors: list[FieldError]
) -> str | None:
    """Where a link or bio page lives: the workspace's default domain when `raw` is None, else one of the
    workspace's domains; anything else adds an `unknown_domain` error for the `domain` field."""
    if raw is None:
        return await default_domain(session, settings=settings, workspace_id=workspace_id)
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
    port), or any workspace's verified domain. A claim nobody verified serves nothing, so it loops nothing: it
    must not let a squatter forbid links to someone else's site (`https://yourbrand.com/…`)."""
    short_name, short_port = split_host(settings.short_domain)
    if url.site == short_name or (is_loopback(url.site) and is_loopback(short_name)):
        return short_port is None or url.port == short_port
    memo: dict[tuple[str, ...], bool] | None = session.info.get(LOOKUP_MEMO)
    if memo is not None and ("loop", url.site) in memo:
        return memo["loop", url.site]
    loops = await DomainRepository(session).verified_claim(url.site) is not None
    if memo is not None:
        memo["loop", url.site] = loops
    return loops


PARSED_MEMO = "mask.domain.parsed"


def _parse(session: AsyncSession, raw: str) -> ParsedUrl | UrlProblem:
    """`raw` parsed (or why not), once per session when lookups are remembered."""
    memo: dict[str, ParsedUrl | UrlProblem] | None = (
        session.info.setdefault(PARSED_MEMO, {}) if LOOKUP_MEMO in session.info else None
    )
    if memo is not None and raw in memo:
        return memo[raw]
    try:
        parsed: ParsedUrl | UrlProblem = parse_destination(raw)
    except UrlProblem as problem:
        parsed = problem
    if memo is not None:
        memo[raw] = parsed
    return parsed


async def screen_destinations(session: AsyncSession, *, raws: Iterable[str]) -> None:
    """Ahead of many `check_destination` calls (a bulk create, an import batch): parse the URLs and look up their
    blocklist entries with a few queries instead of one per URL. Needs `remember_lookups`."""
    remember_lookups(session)
    hrefs = [parsed.href for parsed in (_parse(session, raw) for raw in raws) if isinstance(parsed, ParsedUrl)]
    await abuse_service.screen(session, hrefs=hrefs)


async def check_destination(
    session: AsyncSession, *, settings: Settings, param: str, raw: str, errors: list[FieldError]
) -> str | None:
    """A URL visitors are sent to (a link's `url` and `expired_url`, a bio page's buttons, …): the WHATWG rules
    of mask.kit.url, never one of MASK's own short domains, never a blocklisted one (mask.abuse). Adds its
    problem to `errors`; the stored form."""
    parsed = _parse(session, raw)
    if isinstance(parsed, UrlProblem):
        errors.append(FieldError(param, parsed.code, parsed.message))
        return None
    if await is_short_domain(session, settings=settings, url=parsed):
        errors.append(FieldError(param, "redirect_loop", "The URL points at one of MASK's own short domains."))
        return None
    if await abuse_service.blocked_by(session, href=parsed.href) is not None:
        errors.append(
            FieldError(param, "destination_blocked", "This destination is on this server's blocklist of harmful sites.")
        )
        return None
    return parsed.href


# ---------------------------------------------------------------------------------------------------------------
# Per-domain settings


async def update(
    session: AsyncSession, *, settings: Settings, workspace_id: str, domain_id: str, data: DomainUpdate
) -> Domain:
    """Change the settings present in `data` (`null` clears one); every invalid field is reported at once."""
    domain = await get(session, workspace_id=workspace_id, domain_id=domain_id)
    sent = data.model_fields_set
    errors: list[FieldError] = []
    changes: dict[str, Any] = {}
    for name in ("root_url", "not_found_url", "expired_url"):
        if name in sent:
            raw = getattr(data, name)
            changes[name] = (
                await check_destination(session, settings=settings, param=name, raw=raw, errors=errors)
                if raw is not None
                else None
            )
    if "robots" in sent:
        if data.robots is None:
            errors.append(FieldError("robots", "required", "`robots` is `deny` or `allow`; it cannot be cleared."))
        changes["robots"] = data.robots
    checks = {
        "apple_app_site_association": check_apple_app_site_association,
        "asset_links": check_asset_links,
    }
    for name, check in checks.items():
        if name in sent:
            value = getattr(data, name)
            try:
                changes[name] = check(value) if value is not None else None
            except AssociationProblem as problem:
                where = f"{name}.{problem.where}" if problem.where and problem.where[0] != "[" else name + problem.where
                errors.append(FieldError(name, "invalid_association_file", f"{where}: {problem.message}"))
    if errors:
        raise ValidationFailed(errors)
    for name, value in changes.items():
        setattr(domain, name, value)
    domain.updated_at = utcnow()
    await session.flush()
    await _record(session, settings, "domain.updated", domain)
    _changed(session, domain.domain)
    return domain


# ---------------------------------------------------------------------------------------------------------------
# Verification


def _mark_verified(domain: Domain, now: datetime, *, next_check: datetime | None) -> None:
    domain.verified = True
    domain.verification_status = "verified"
    domain.verified_at = now
    domain.pending_since = None
    domain.check_count = 0
    domain.record_missing_since = None
    domain.last_error = domain.last_error_message = None
    domain.next_check_at = next_check
    domain.updated_at = now


def _mark_pending(domain: Domain, now: datetime) -> None:
    domain.verified = False
    domain.verification_status = "pending"
    domain.verified_at = None
    domain.pending_since = now
    domain.check_count = 0
    domain.record_missing_since = None
    domain.next_check_at = now + verification.pending_delay(0)
    domain.updated_at = now


async def _release_others(session: AsyncSession, settings: Settings, winner: Domain, now: datetime) -> None:
    """Every other workspace's claim of the winner's host name gives way: its links and bio pages there are
    removed, the claim is marked failed (`claimed_elsewhere`), and its workspace gets the event."""
    repository = DomainRepository(session)
    for claim in await repository.other_claims(winner.domain, besides=winner.id):
        if claim.verification_status == "failed" and claim.last_error == "claimed_elsewhere":
            continue  # released already, and told
        links, pages = await repository.delete_links_and_pages(claim.domain, workspace_id=claim.workspace_id)
        claim.verification_status = "failed"
        claim.next_check_at = None
        claim.pending_since = None
        claim.last_error = "claimed_elsewhere"
        removed = f" Its {links} link(s) and {pages} bio page(s) on it were removed." if links or pages else ""
        claim.last_error_message = (
            f"Another workspace proved it owns `{claim.domain}` on {now:%Y-%m-%d %H:%M} UTC; this claim was "
            f"released.{removed}"
        )
        claim.updated_at = now
        await _record(session, settings, "domain.verification_failed", claim)


async def apply_check(
    session: AsyncSession,
    *,
    settings: Settings,
    domain: Domain,
    result: verification.CheckResult,
    now: datetime,
    manual: bool,
) -> None:
    """Record a check's result on the claim, move its status, schedule the next check, and send the events.

    `manual`: asked for by a person (`POST …/verify`, "Check now"), which gives a failed claim a fresh week."""
    domain.last_checked_at = now
    domain.routing_status = result.routing
    domain.updated_at = now
    if domain.verification_method == "operator":
        return  # never checked for ownership; the check only reported the routing record
    grace = timedelta(seconds=settings.domain_grace_period)
    if result.found:
        domain.last_error = domain.last_error_message = None
        if domain.verified:
            domain.record_missing_since = None
            domain.next_check_at = now + timedelta(seconds=settings.domain_recheck_interval)
            return
        await _try_to_win(session, settings=settings, domain=domain, now=now)
        return
    domain.last_error, domain.last_error_message = result.error, result.message
    if domain.verified:
        if domain.record_missing_since is None:
            domain.record_missing_since = now
        missing_since = as_utc(domain.record_missing_since)
        if now - missing_since >= grace:
            _mark_pending(domain, now)
            domain.last_error_message = (
                f"{result.message} The record was missing for longer than the grace period, so the domain no "
                "longer serves links until it is verified again."
            )
            await _record(session, settings, "domain.verification_failed", domain)
            _changed(session, domain.domain)
        else:
            domain.next_check_at = now + verification.missing_delay(now, missing_since, grace)
        return
    if manual and domain.verification_status == "failed":
        _mark_pending(domain, now)  # a person is working on it: another week of checks
    domain.check_count += 1
    pending_since = as_utc(domain.pending_since) if domain.pending_since is not None else now
    if now - pending_since >= timedelta(seconds=settings.domain_pending_window):
        domain.verification_status = "failed"
        domain.next_check_at = None
        await _record(session, settings, "domain.verification_failed", domain)
    else:
        domain.next_check_at = now + verification.pending_delay(domain.check_count)


async def _try_to_win(session: AsyncSession, *, settings: Settings, domain: Domain, now: datetime) -> None:
    """The record is there: verify the claim, unless another workspace holds the verified one."""
    repository = DomainRepository(session)
    holder = await repository.verified_claim(domain.domain)
    if holder is not None and holder.id != domain.id:
        _verified_elsewhere(domain, now)
        return
    if holder is not None:  # verified meanwhile by a concurrent check of this same claim: show what it did
        await session.refresh(domain)
        return
    _mark_verified(domain, now, next_check=now + timedelta(seconds=settings.domain_recheck_interval))
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError:  # another workspace's claim was verified at the same moment
        await session.refresh(domain)
        domain.last_checked_at = now
        _verified_elsewhere(domain, now)
        return
    await _release_others(session, settings, domain, now)
    await _record(session, settings, "domain.verified", domain)
    _changed(session, domain.domain)


def _verified_elsewhere(domain: Domain, now: datetime) -> None:
    domain.last_error = "verified_elsewhere"
    domain.last_error_message = (
        f"Another workspace has verified `{domain.domain}`. It stays theirs while their record exists."
    )
    domain.check_count += 1
    domain.next_check_at = (
        now + verification.pending_delay(domain.check_count) if domain.verification_status == "pending" else None
    )


async def check_now(
    session: AsyncSession, *, settings: Settings, dns: Dns, workspace_id: str, domain_id: str
) -> Domain:
    """`POST /v1/domains/{id}/verify`: look the record up now and apply what was found."""
    domain = await get(session, workspace_id=workspace_id, domain_id=domain_id)
    # End the transaction before the lookup (seconds at worst): no pooled connection waits on DNS, and on SQLite a
    # read snapshot taken before another writer's commit could not be upgraded to this write ("database is locked").
    await session.commit()
    name, token = domain.domain, domain.verification_token
    result = await verification.check(dns, settings, domain=name, token=token)
    domain = await get(session, workspace_id=workspace_id, domain_id=domain_id, fresh=True)  # deleted meanwhile: 404
    await apply_check(session, settings=settings, domain=domain, result=result, now=utcnow(), manual=True)
    await session.flush()
    return domain

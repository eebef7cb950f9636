"""Abuse: screening destinations against the operator's blocklists, suspending links and workspaces, reports.

Screening runs wherever a destination is checked (mask.domain.service.check_destination: links' `url` and
`expired_url`, bio page buttons, domains' fallback URLs, imports): a blocked one is `destination_blocked`.
A refresh of a list (`mask blocklist update`) suspends the links that point at what it newly blocks; links that
an operator restored are not suspended again by entries that were already there.

A suspended link answers a neutral 451 page and counts no clicks (mask.redirect); a suspended workspace's links
all do, its bio pages are not found, and its API keys are refused (mask.auth.service.check_workspace).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from mask import audit
from mask.abuse.repository import AbuseRepository, BlocklistRepository
from mask.account import throttle
from mask.kit import blocklist
from mask.kit.errors import MaskError, NotFound, RateLimited
from mask.kit.ids import new_id
from mask.kit.time import utcnow
from mask.models.abuse import AbuseReport
from mask.models.link import Link
from mask.models.workspace import Workspace
from mask.signals import BioPageChanged, LinkChanged, emit

logger = logging.getLogger("mask.abuse")

OPERATOR = audit.Actor(kind="system", id=None, label="operator")
REASONS = ("phishing", "malware", "spam", "illegal", "other")
SCAN_BATCH = 1000
MAX_LIST_BYTES = 200 * 1024 * 1024
DOWNLOAD_TIMEOUT = 60.0


class BlocklistUnavailable(MaskError):
    code = "blocklist_unavailable"


# ---------------------------------------------------------------------------------------------------------------
# The blocklist


BLOCKED_MEMO = "mask.abuse.blocked"


async def blocked_by(session: AsyncSession, *, href: str) -> str | None:
    """The entry that blocks the normalised destination `href`, or None (from `screen`'s answers when it has
    screened `href` in this session)."""
    memo: dict[str, str | None] | None = session.info.get(BLOCKED_MEMO)
    if memo is not None and href in memo:
        return memo[href]
    return await BlocklistRepository(session).first_blocked(blocklist.candidates(href))


async def screen(session: AsyncSession, *, hrefs: Iterable[str]) -> None:
    """Look up many destinations' entries at once (a query per few hundred keys instead of one per destination)
    and keep the answers for this session's `blocked_by`: a bulk create or an import checks a thousand URLs."""
    memo: dict[str, str | None] = session.info.setdefault(BLOCKED_MEMO, {})
    fresh = [href for href in hrefs if href not in memo]
    if not fresh:
        return
    repository = BlocklistRepository(session)
    if await repository.empty():  # no list loaded: nothing is blocked, no keys to work out
        memo.update(dict.fromkeys(fresh))
        return
    wanted = {href: blocklist.candidates(href) for href in fresh}
    found = await repository.blocked({key for keys in wanted.values() for key in keys})
    for href, keys in wanted.items():
        memo[href] = next((key for key in keys if key in found), None)


@dataclass
class BlocklistUpdate:
    source: str
    entries: int
    added: int
    removed: int
    problems: list[tuple[int, str]] = field(default_factory=list)
    suspended: list[str] = field(default_factory=list)  # link ids


async def read_list(where: str) -> str:
    """The text of a list from a local file or an http(s) URL (`mask blocklist update --from`)."""
    if where.startswith(("http://", "https://")):
        try:
            async with httpx.AsyncClient(timeout=DOWNLOAD_TIMEOUT, follow_redirects=True) as client:
                response = await client.get(where)
        except httpx.HTTPError as error:
            raise BlocklistUnavailable(f"Could not download {where}: {error}") from error
        if response.status_code != 200:
            raise BlocklistUnavailable(f"Could not download {where}: HTTP {response.status_code}.")
        if len(response.content) > MAX_LIST_BYTES:
            raise BlocklistUnavailable(f"{where} is larger than {MAX_LIST_BYTES // 1024 // 1024} MB.")
        return response.text
    try:
        return await asyncio.to_thread(Path(where).read_text, encoding="utf-8", errors="replace")
    except OSError as error:
        raise BlocklistUnavailable(f"Could not read {where}: {error.strerror or error}") from error


async def update_blocklist(session: AsyncSession, *, text: str, source: str = "default") -> BlocklistUpdate:
    """Replace the entries of list `source` with those in `text` (any format of mask.kit.blocklist), then suspend
    the links whose destination a new entry blocks."""
    parsed = blocklist.parse(text)
    repository = BlocklistRepository(session)
    before = await repository.values(source)
    added = parsed.entries - before
    removed = before - parsed.entries
    now = utcnow()
    await repository.remove(source, removed)
    await repository.add(source, sorted(added), now)
    result = BlocklistUpdate(
        source=source, entries=len(parsed.entries), added=len(added), removed=len(removed), problems=parsed.problems
    )
    if added:
        result.suspended = await _suspend_matching(session, added)
    logger.info(
        "blocklist %s: %d entries (+%d, -%d), %d lines skipped, %d links suspended",
        source,
        result.entries,
        result.added,
        result.removed,
        len(result.problems),
        len(result.suspended),
    )
    return result


async def _suspend_matching(session: AsyncSession, entries: set[str]) -> list[str]:
    """Suspend every link whose `url` or `expired_url` one of `entries` blocks (a keyset scan of all links)."""
    repository = AbuseRepository(session)
    suspended: list[str] = []
    after = ""
    while True:
        rows = await repository.unsuspended_links_after(after, SCAN_BATCH)
        for link_id, url, expired_url in rows:
            for href in (url, expired_url):
                entry = next((key for key in blocklist.candidates(href) if key in entries), None) if href else None
                if entry is not None:
                    link = await repository.link(link_id)
                    assert link is not None
                    await _suspend_link(session, link, f"blocklist: {entry}")
                    suspended.append(link_id)
                    break
        if len(rows) < SCAN_BATCH:
            return suspended
        after = rows[-1][0]


async def blocklist_counts(session: AsyncSession) -> list[tuple[str, int]]:
    return await BlocklistRepository(session).counts()


# ---------------------------------------------------------------------------------------------------------------
# Suspensions


@dataclass(frozen=True)
class Suspendable:
    kind: str  # "link" or "workspace"
    id: str
    label: str


async def _find(session: AsyncSession, ref: str) -> Link | Workspace:
    """A link (`lnk_…`, or its short URL `go.example/abc`) or a workspace (`ws_…` or its handle)."""
    repository = AbuseRepository(session)
    text = ref.strip()
    if text.startswith("lnk_"):
        link = await repository.link(text)
        if link is None:
            raise NotFound(f"No link {text}.")
        return link
    if "/" in text:
        parts = urlsplit(text if "://" in text else f"https://{text}")
        slug = parts.path.strip("/")
        for domain in dict.fromkeys([parts.netloc.lower(), (parts.hostname or "").lower()]):
            found = await repository.link_by_address(domain, slug)
            if found is not None:
                return found
        raise NotFound(f"No link at {text}.")
    workspace = await repository.workspace(text)
    if workspace is None:
        raise NotFound(f"No link or workspace `{text}` (links: lnk_… or a short URL; workspaces: ws_… or a handle).")
    return workspace


async def _suspend_link(session: AsyncSession, link: Link, reason: str) -> None:
    link.suspended_at = utcnow()
    link.suspended_reason = reason[:200]
    audit.record(
        session,
        workspace_id=link.workspace_id,
        action="link.suspended",
        target_type="link",
        target_id=link.id,
        details={"reason": link.suspended_reason, "url": link.url},
        actor=OPERATOR,
    )
    emit(session, LinkChanged(link.domain, link.slug))


async def _workspace_changed(session: AsyncSession, workspace_id: str) -> None:
    """Every link and bio page of the workspace answers differently now: drop them from the public caches."""
    repository = AbuseRepository(session)
    for domain in await repository.workspace_domains(workspace_id):
        emit(session, LinkChanged(domain))
    for domain, handle in await repository.workspace_bio_pages(workspace_id):
        emit(session, BioPageChanged(domain, handle))


async def suspend(session: AsyncSession, *, ref: str, reason: str) -> Suspendable:
    """Suspend a link or a whole workspace (see `_find` for `ref`); the reports about it are resolved."""
    target = await _find(session, ref)
    repository = AbuseRepository(session)
    if isinstance(target, Link):
        await _suspend_link(session, target, reason or "suspended by the operator")
        await repository.resolve_reports(link_id=target.id)
        return Suspendable("link", target.id, f"{target.domain}/{target.slug}")
    target.suspended_at = utcnow()
    target.suspended_reason = (reason or "suspended by the operator")[:200]
    audit.record(
        session,
        workspace_id=target.id,
        action="workspace.suspended",
        target_type="workspace",
        target_id=target.id,
        details={"reason": target.suspended_reason},
        actor=OPERATOR,
    )
    await repository.resolve_reports(workspace_id=target.id)
    await _workspace_changed(session, target.id)
    return Suspendable("workspace", target.id, target.slug)


async def restore(session: AsyncSession, *, ref: str) -> Suspendable:
    """Lift a link's or a workspace's suspension."""
    target = await _find(session, ref)
    if isinstance(target, Link):
        target.suspended_at = target.suspended_reason = None
        audit.record(
            session,
            workspace_id=target.workspace_id,
            action="link.restored",
            target_type="link",
            target_id=target.id,
            actor=OPERATOR,
        )
        emit(session, LinkChanged(target.domain, target.slug))
        return Suspendable("link", target.id, f"{target.domain}/{target.slug}")
    target.suspended_at = target.suspended_reason = None
    audit.record(
        session,
        workspace_id=target.id,
        action="workspace.restored",
        target_type="workspace",
        target_id=target.id,
        actor=OPERATOR,
    )
    await _workspace_changed(session, target.id)
    return Suspendable("workspace", target.id, target.slug)


# ---------------------------------------------------------------------------------------------------------------
# Reports


class TooManyReports(RateLimited):
    code = "too_many_reports"


async def report(
    session: AsyncSession,
    *,
    short_url: str,
    reason: str,
    details: str,
    host: str,
    ip_prefix: str | None,
    per_hour: int,
) -> AbuseReport:
    """Store a report about a short link (the link is looked up when it exists; a report about nothing is kept
    too: the operator decides). `host`: the short domain the form was served on, for a bare slug. At most
    `per_hour` reports per network an hour (TooManyReports)."""
    if ip_prefix is not None:
        limit = throttle.Limit(f"report:{ip_prefix}", per_hour, timedelta(hours=1))
        await throttle.reserve(session, [limit], refuse=throttle.refused(TooManyReports, "Too many reports."))
    text = short_url.strip()[:2000]
    link: Link | None = None
    if text:
        try:
            found = await _find(session, text if "/" in text else f"{host}/{text}")
        except NotFound:
            found = None
        link = found if isinstance(found, Link) else None
    entry = AbuseReport(
        id=new_id("rep"),
        created_at=utcnow(),
        short_url=text,
        reason=reason if reason in REASONS else "other",
        details=details.strip()[:2000],
        link_id=link.id if link else None,
        workspace_id=link.workspace_id if link else None,
        reporter_ip_prefix=ip_prefix,
        status="open",
    )
    AbuseRepository(session).add_report(entry)
    if link is not None:
        audit.record(
            session,
            workspace_id=link.workspace_id,
            action="link.reported",
            target_type="link",
            target_id=link.id,
            details={"report": entry.id, "reason": entry.reason},
            actor=audit.Actor(kind="system", id=None, label="public report"),  # never the reporter's network
        )
    return entry


async def reports(session: AsyncSession, *, status: str | None = "open", limit: int = 100) -> list[AbuseReport]:
    return await AbuseRepository(session).reports(status=status, limit=limit)

"""The one door through which public handlers (redirects, bio pages) hand over clicks.

A handler that was given the process's tracker (mask.bootstrap builds it) records a click with

    await tracker.track(scope, workspace_id=page.workspace_id, domain=domain,
                        bio_page_id=page.id, bio_block_id=block.id)   # or link_id=...

before it sends its response (the redirect's hot path hands over a row: `await tracker.record_row(row)`). The
click is in this worker's journal file when that returns (mask.click.journal); enrichment and storage happen
later, off the request path, in the background process (mask.click.shipper).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from typing import Any

from mask.click.journal import ClickJournal
from mask.click.schemas import UTM_NAMES, ClickRow, OrphanType, RawClick, orphan_row
from mask.click.shipper import JournalShipper
from mask.config import Settings
from mask.kit.net import client_ip


def _header(scope: dict[str, Any], name: bytes) -> str:
    for key, value in scope.get("headers", ()):
        if key == name:
            return str(value.decode("latin-1"))
    return ""


MAX_GATED_WORKSPACES = 4096  # workspaces an OrphanGate remembers per minute; more start the count afresh


class OrphanGate:
    """This worker's cap on orphan hits: at most `per_minute` per workspace in a minute (a window that starts
    with the first hit after the previous one ended). Orphans come from whoever types or scans for URLs (a
    scanner tries thousands of paths a minute); a cap per worker needs no shared state and bounds what a flood
    costs the journal and the database (workers × cap per workspace and minute)."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self.started = float("-inf")  # the current window's start
        self.counts: dict[str, int] = {}
        self.dropped = 0  # orphan hits not recorded since the process started

    def admit(self, workspace_id: str, now: float) -> bool:
        if now - self.started >= 60 or len(self.counts) >= MAX_GATED_WORKSPACES:
            self.started, self.counts = now, {}
        count = self.counts.get(workspace_id, 0)
        if count >= self.per_minute:
            self.dropped += 1
            return False
        self.counts[workspace_id] = count + 1
        return True


class ClickTracker:
    """Takes raw clicks from public handlers and appends them to this worker's click journal before the
    handler answers. With MASK_RECORD_CLICKS=false clicks are dropped (for measuring what recording costs)."""

    def __init__(self, *, settings: Settings, journal: ClickJournal, shipper: JournalShipper | None) -> None:
        self.settings = settings
        self.enabled = settings.record_clicks
        self.journal = journal
        self.shipper = shipper  # this process's, when it runs the background services (tests: flush())
        self.orphans = OrphanGate(settings.orphan_hits_per_minute)

    async def track(
        self,
        scope: dict[str, Any],
        *,
        workspace_id: str,
        domain: str,
        link_id: str | None = None,
        bio_page_id: str | None = None,
        bio_block_id: str | None = None,
        utm: dict[str, str] | None = None,
        trigger: str | None = None,
        prefetch: bool = False,
    ) -> None:
        """Record a click on a link, or on a bio page (and the block clicked), from an ASGI HTTP scope. The
        trigger is `bio` for a bio page's traffic and `link` otherwise unless given; `prefetch`: the request
        said it was a speculative load (stored as traffic type `prefetch`, not counted)."""
        if not self.enabled:
            return
        click = RawClick(
            click_id="",
            at=time.time(),
            workspace_id=workspace_id,
            domain=domain,
            link_id=link_id,
            bio_page_id=bio_page_id,
            bio_block_id=bio_block_id,
            ip=client_ip(scope, self.settings.trusted_proxy_networks),
            user_agent=_header(scope, b"user-agent"),
            referrer=_header(scope, b"referer"),
            trigger=trigger or ("bio" if bio_page_id is not None else "link"),
            purpose="prefetch" if prefetch else "",
        )
        for name, value in (utm or {}).items():
            if name not in UTM_NAMES:
                raise TypeError(f"not a UTM field: {name!r}")
            setattr(click, name, value)
        await self.submit(click)

    async def record_orphan(
        self,
        scope: Mapping[str, Any],
        *,
        at: float,
        workspace_id: str,
        domain: str,
        orphan_type: OrphanType,
        user_agent: bytes,
        referrer: bytes,
        prefetch: bool,
        link_id: str | None = None,
    ) -> None:
        """Record a hit that found no link to count (mask.click.schemas.ORPHAN_TYPES: an unknown slug, a domain
        root, an expired link, a spent click limit), within this worker's cap per workspace and minute
        (MASK_ORPHAN_HITS_PER_MINUTE). `link_id` names the link an expired or spent hit asked for."""
        if not self.enabled or not self.orphans.admit(workspace_id, at):
            return
        row = orphan_row(
            at=at,
            workspace_id=workspace_id,
            domain=domain,
            orphan_type=orphan_type,
            path=scope["path"] or "/",
            ip=client_ip(scope, self.settings.trusted_proxy_networks),
            user_agent=user_agent.decode("latin-1"),
            referrer=referrer.decode("latin-1"),
            prefetch=prefetch,
            link_id=link_id,
        )
        await self.record_row(row)

    def record_row(self, row: ClickRow) -> asyncio.Future[None]:
        """The redirect's hot path: a click in row form (`RawClick.to_row()`'s layout, `link_click_row`), on the
        journal with this turn's clicks; await the result before answering. Only while `enabled`."""
        return self.journal.add_row(row)

    async def submit(self, click: RawClick) -> None:
        """Hand over a click built by the caller. Returns once it is in the journal (or counted as lost)."""
        if not self.enabled:
            return
        if click.link_id is None and click.bio_page_id is None and click.orphan_type is None:
            raise ValueError("a click belongs to a link or a bio page, or is an orphan hit")
        await self.journal.add_row(click.to_row())

    async def flush(self) -> bool:
        """Store everything journaled so far now (tests, admin tasks); True when it all got stored. Only in a
        process that runs the shipper."""
        if self.shipper is None:
            return True
        return await self.shipper.drain()

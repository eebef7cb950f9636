"""Shared dashboards: a public, read-only analytics page of one link, tag, domain or bio page at `/share/<token>`.

The rules:
- The token is `secrets.token_urlsafe(32)` (256 bits); only its SHA-256 is stored, so the page's URL is shown
  once (creation, rotation) and a copy of the database opens nothing. Rotating replaces the hash: the old URL
  answers 404 at once. Revoking deletes the row.
- Expired, revoked and unknown tokens, and pages whose link/tag/domain/bio page was deleted, are one and the same
  404: a visitor cannot tell a dead page from a never-existing one.
- A password is hashed with Argon2id (mask.account.passwords, as link passwords are). Wrong attempts are
  throttled per client address (mask.account.throttle); a right one gets a cookie holding an HMAC of the page's
  token hash and password version, never the password: rotating the token or changing the password ends it.
- The page shows human clicks only, of its object only: every store question gets the scope's filter added
  (ScopedStore), whatever the page's query string says.

Nothing here commits.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from mask import audit
from mask.account import passwords, throttle
from mask.analytics import service as analytics_service
from mask.analytics.query import TAG, BotMode, ClickQuery, Counts, Row, ValueFilter
from mask.analytics.schemas import AnalyticsParams, GroupBy
from mask.analytics.store import ClickStore
from mask.click.schemas import EnrichedClick
from mask.config import Settings
from mask.kit.errors import FieldError, NotFound, RateLimited, ValidationFailed
from mask.kit.ids import new_id
from mask.kit.net import source_of
from mask.kit.pagination import decode_cursor, encode_cursor
from mask.kit.time import as_utc, utcnow
from mask.link.service import short_url
from mask.models.shared_dashboard import SharedDashboard as SharedDashboardRow
from mask.shared_dashboard.repository import SharedDashboardRepository
from mask.shared_dashboard.schemas import (
    SCOPE_FIELDS,
    SharedDashboard,
    SharedDashboardCreate,
    SharedDashboardUpdate,
)

TOKEN_BYTES = 32
TOKEN_HINT_LENGTH = 6
COOKIE_NAME = "mask_share"
PASSWORD_WINDOW = timedelta(minutes=15)
# Which field names which kind, and the not-found error's code.
KINDS = {"link_id": "link", "tag": "tag", "domain": "domain", "bio_page_id": "bio_page"}
NOT_FOUND_CODES = {
    "link": "link_not_found",
    "tag": "tag_not_found",
    "domain": "domain_not_found",
    "bio_page": "bio_page_not_found",
}


class SharedDashboardNotFound(NotFound):
    code = "shared_dashboard_not_found"


class ScopeTargetNotFound(NotFound):
    code = "not_found"


class TooManyPasswordAttempts(RateLimited):
    code = "too_many_attempts"


@dataclass(frozen=True)
class Created:
    dashboard: SharedDashboardRow
    url: str  # shown once


@dataclass(frozen=True)
class Scope:
    """What a shared page shows: the filter every question gets, and how the page names its object."""

    filter: ValueFilter
    label: str


@dataclass(frozen=True)
class PublicPage:
    dashboard: SharedDashboardRow
    scope: Scope

    @property
    def heading(self) -> str:
        return self.dashboard.title or self.scope.label


# Tokens


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def share_url(settings: Settings, token: str) -> str:
    return short_url(settings.short_domain, f"share/{token}")


def share_path(token: str) -> str:
    return f"/share/{token}"


# Presentation


def to_schema(row: SharedDashboardRow, *, now: datetime | None = None) -> SharedDashboard:
    now = now or utcnow()
    return SharedDashboard(
        id=row.id,
        kind=row.kind,
        link_id=row.target_id if row.kind == "link" else None,
        tag_id=row.target_id if row.kind == "tag" else None,
        domain_id=row.target_id if row.kind == "domain" else None,
        bio_page_id=row.target_id if row.kind == "bio_page" else None,
        title=row.title,
        token_hint=row.token_hint,
        password_protected=row.password_hash is not None,
        expires_at=row.expires_at,
        expired=row.expires_at is not None and as_utc(row.expires_at) <= now,
        rotated_at=row.rotated_at,
        workspace_id=row.workspace_id,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


# Management


def _audit(session: AsyncSession, row: SharedDashboardRow, action: str) -> None:
    audit.record(
        session,
        workspace_id=row.workspace_id,
        action=action,
        target_type="shared_dashboard",
        target_id=row.id,
        details={"kind": row.kind, "target_id": row.target_id},
    )


def _check_expiry(value: datetime | None, errors: list[FieldError]) -> None:
    if value is not None and as_utc(value) <= utcnow():
        errors.append(FieldError("expires_at", "expires_in_past", "`expires_at` must be in the future."))


def _clean_title(raw: str | None, errors: list[FieldError]) -> str | None:
    title = (raw or "").strip()
    if any(ord(char) < 0x20 or ord(char) == 0x7F for char in title):
        errors.append(FieldError("title", "invalid_title", "Control characters are not allowed."))
    return title or None


async def _target(session: AsyncSession, workspace_id: str, field: str, value: str) -> str:
    """The id of the workspace's object a create names (404 naming the field when it is not the workspace's)."""
    repository = SharedDashboardRepository(session)
    value = value.strip()
    found: Any
    if field == "link_id":
        found = await repository.link(workspace_id, value)
    elif field == "tag":
        found = await repository.tag(workspace_id, value)
    elif field == "domain":
        found = await repository.domain(workspace_id, value)
    else:
        found = await repository.bio_page(workspace_id, value)
    if found is None:
        kind = KINDS[field].replace("_", " ")
        raise ScopeTargetNotFound(
            f"No {kind} `{value}` in this workspace.", param=field, code=NOT_FOUND_CODES[KINDS[field]]
        )
    return str(found.id)


async def create(
    session: AsyncSession, *, settings: Settings, workspace_id: str, data: SharedDashboardCreate
) -> Created:
    """A new shared page; its URL is in the answer only (422 naming the field, 404 for another's object)."""
    errors: list[FieldError] = []
    given = [name for name in SCOPE_FIELDS if getattr(data, name) is not None]
    if not given:
        message = "Give exactly one of `link_id`, `tag`, `domain`, `bio_page_id`."
        errors.extend(FieldError(name, "scope_required", message) for name in SCOPE_FIELDS)
    for name in given[1:]:
        errors.append(
            FieldError(
                name,
                "conflicting_scope",
                f"Give only one of `link_id`, `tag`, `domain`, `bio_page_id` (not `{given[0]}` and `{name}`).",
            )
        )
    for name in given[:1]:
        if not str(getattr(data, name)).strip():
            errors.append(FieldError(name, "required", f"`{name}` is empty."))
    title = _clean_title(data.title, errors)
    if data.password is not None:
        passwords.check(data.password, "password", errors)
    _check_expiry(data.expires_at, errors)
    if errors:
        raise ValidationFailed(errors)
    field = given[0]
    target_id = await _target(session, workspace_id, field, str(getattr(data, field)))
    token = new_token()
    now = utcnow()
    row = SharedDashboardRow(
        id=new_id("shd"),
        workspace_id=workspace_id,
        kind=KINDS[field],
        target_id=target_id,
        title=title,
        token_hash=hash_token(token),
        token_hint=token[:TOKEN_HINT_LENGTH],
        password_hash=await passwords.hash_password(data.password) if data.password is not None else None,
        password_version=0,
        expires_at=data.expires_at,
        created_at=now,
        updated_at=now,
    )
    SharedDashboardRepository(session).add(row)
    await session.flush()
    _audit(session, row, "shared_dashboard.created")
    return Created(dashboard=row, url=share_url(settings, token))


async def get(session: AsyncSession, *, workspace_id: str, dashboard_id: str) -> SharedDashboardRow:
    """One of the workspace's shared dashboards, or 404 (also for another workspace's id)."""
    row = await SharedDashboardRepository(session).get(workspace_id, dashboard_id)
    if row is None:
        raise SharedDashboardNotFound(f"No shared dashboard `{dashboard_id}` in this workspace.", param="id")
    return row


async def _locked(session: AsyncSession, *, workspace_id: str, dashboard_id: str) -> SharedDashboardRow:
    repository = SharedDashboardRepository(session)
    if not await repository.lock(workspace_id, dashboard_id):
        raise SharedDashboardNotFound(f"No shared dashboard `{dashboard_id}` in this workspace.", param="id")
    row = await get(session, workspace_id=workspace_id, dashboard_id=dashboard_id)
    await session.refresh(row)
    return row


async def list_page(
    session: AsyncSession, *, workspace_id: str, limit: int, cursor: str | None, target_id: str | None = None
) -> tuple[list[SharedDashboardRow], str | None]:
    """A page of the workspace's shared dashboards, newest first, and the next page's cursor."""
    after = decode_cursor(cursor) if cursor else None
    rows = await SharedDashboardRepository(session).list_page(
        workspace_id, limit=limit + 1, after=after, target_id=target_id
    )
    if len(rows) > limit:
        rows = rows[:limit]
        return rows, encode_cursor(rows[-1].created_at, rows[-1].id)
    return rows, None


async def update(
    session: AsyncSession, *, workspace_id: str, dashboard_id: str, data: SharedDashboardUpdate
) -> SharedDashboardRow:
    """Change the fields sent: `password` (null removes it), `expires_at` (null: never), `title`."""
    await get(session, workspace_id=workspace_id, dashboard_id=dashboard_id)
    sent = data.model_fields_set
    errors: list[FieldError] = []
    title = _clean_title(data.title, errors) if "title" in sent else None
    if "password" in sent and data.password is not None:
        passwords.check(data.password, "password", errors)
    if "expires_at" in sent:
        _check_expiry(data.expires_at, errors)
    if errors:
        raise ValidationFailed(errors)
    password_hash = (
        await passwords.hash_password(data.password) if "password" in sent and data.password is not None else None
    )
    # Hashed before the lock: Argon2 must not hold SQLite's write lock.
    row = await _locked(session, workspace_id=workspace_id, dashboard_id=dashboard_id)
    if "title" in sent:
        row.title = title
    if "password" in sent:
        row.password_hash = password_hash
        row.password_version += 1  # visitors let in by the old password must enter the new one
    if "expires_at" in sent:
        row.expires_at = data.expires_at
    row.updated_at = utcnow()
    await session.flush()
    _audit(session, row, "shared_dashboard.updated")
    return row


async def rotate(session: AsyncSession, *, settings: Settings, workspace_id: str, dashboard_id: str) -> Created:
    """A new URL, returned once; the old one answers 404 from this commit on."""
    row = await _locked(session, workspace_id=workspace_id, dashboard_id=dashboard_id)
    token = new_token()
    now = utcnow()
    row.token_hash = hash_token(token)
    row.token_hint = token[:TOKEN_HINT_LENGTH]
    row.rotated_at = now
    row.updated_at = now
    await session.flush()
    _audit(session, row, "shared_dashboard.rotated")
    return Created(dashboard=row, url=share_url(settings, token))


async def revoke(session: AsyncSession, *, workspace_id: str, dashboard_id: str) -> None:
    """Delete the shared dashboard: its URL answers 404 from this commit on."""
    row = await _locked(session, workspace_id=workspace_id, dashboard_id=dashboard_id)
    _audit(session, row, "shared_dashboard.revoked")
    await SharedDashboardRepository(session).delete(row)
    await session.flush()


# The public page


async def _scope(session: AsyncSession, row: SharedDashboardRow) -> Scope | None:
    repository = SharedDashboardRepository(session)
    workspace_id = row.workspace_id
    if row.kind == "link":
        link = await repository.link(workspace_id, row.target_id)
        return (
            None if link is None else Scope(ValueFilter("link_id", frozenset({link.id})), f"{link.domain}/{link.slug}")
        )
    if row.kind == "tag":
        tag = await repository.tag(workspace_id, row.target_id)
        return None if tag is None else Scope(ValueFilter(TAG, frozenset({tag.name})), f"Tag: {tag.name}")
    if row.kind == "domain":
        domain = await repository.domain(workspace_id, row.target_id)
        return None if domain is None else Scope(ValueFilter("domain", frozenset({domain.domain})), domain.domain)
    page = await repository.bio_page(workspace_id, row.target_id)
    return (
        None
        if page is None
        else Scope(ValueFilter("bio_page_id", frozenset({page.id})), f"{page.domain}/@{page.handle}")
    )


async def open_page(session: AsyncSession, *, token: str, now: datetime | None = None) -> PublicPage | None:
    """The page a token opens, or None: unknown, rotated away, revoked, expired, or its object deleted."""
    if not token or len(token) > 200:
        return None
    row = await SharedDashboardRepository(session).by_token_hash(hash_token(token))
    if row is None:
        return None
    if row.expires_at is not None and as_utc(row.expires_at) <= as_utc(now or utcnow()):
        return None
    scope = await _scope(session, row)
    return None if scope is None else PublicPage(dashboard=row, scope=scope)


def cookie_value(settings: Settings, row: SharedDashboardRow) -> str:
    """What the visitor's cookie holds once the password was right: an HMAC of the page's token hash and password
    version (rotating the URL or changing the password ends it), never the password."""
    message = f"shared-dashboard:{row.id}:{row.token_hash}:{row.password_version}".encode()
    return hmac.new(settings.secret_key.encode(), message, hashlib.sha256).hexdigest()


def unlocked(settings: Settings, row: SharedDashboardRow, cookie: str | None) -> bool:
    """Whether a visitor may see the page: no password, or a cookie from a right password."""
    if row.password_hash is None:
        return True
    return cookie is not None and hmac.compare_digest(cookie, cookie_value(settings, row))


async def check_password(
    session: AsyncSession,
    *,
    settings: Settings,
    row: SharedDashboardRow,
    password: str,
    ip: str | None,
    checkpoint: throttle.Checkpoint,
) -> bool:
    """Whether the password opens the page. Every attempt first takes one of the client's attempts (429 past
    MASK_SHARED_DASHBOARD_PASSWORD_ATTEMPTS per 15 minutes), committed before Argon2 runs; a right one gives it
    back."""
    limit = throttle.Limit(
        f"share-password:{source_of(ip) or 'unknown'}", settings.shared_dashboard_password_attempts, PASSWORD_WINDOW
    )
    reservation = await throttle.reserve(
        session, [limit], refuse=throttle.refused(TooManyPasswordAttempts, "Too many password attempts.")
    )
    await checkpoint()
    if row.password_hash is None:  # removed meanwhile: nothing to guess
        await throttle.refund(session, list(reservation.keys))
        return True
    if len(password) > passwords.MAX_LENGTH:
        return False
    if await passwords.verify(row.password_hash, password):
        await throttle.refund(session, list(reservation.keys))
        return True
    return False


class ScopedStore:
    """A click store that answers only about one object's human clicks: the scope's filter is added to every
    question and bots are always left out, whatever the question says."""

    def __init__(self, inner: ClickStore, scope: ValueFilter) -> None:
        self.inner = inner
        self.scope = scope

    def _scoped(self, query: ClickQuery) -> ClickQuery:
        return replace(query, filters=(*query.filters, self.scope), bots=BotMode.exclude)

    async def record(self, clicks: Sequence[EnrichedClick]) -> None:
        raise NotImplementedError("a shared page only reads")

    async def totals(self, query: ClickQuery) -> Counts:
        return await self.inner.totals(self._scoped(query))

    async def timeseries(self, query: ClickQuery, starts: Sequence[datetime]) -> list[Counts]:
        return await self.inner.timeseries(self._scoped(query), starts)

    async def breakdown(self, query: ClickQuery, columns: tuple[str, ...], *, limit: int) -> list[Row]:
        return await self.inner.breakdown(self._scoped(query), columns, limit=limit)

    async def tag_breakdown(self, query: ClickQuery, *, limit: int) -> list[Row]:
        return await self.inner.tag_breakdown(self._scoped(query), limit=limit)

    async def first_click_at(self, query: ClickQuery) -> datetime | None:
        return await self.inner.first_click_at(self._scoped(query))


# What the page shows: totals, the time series, and breakdowns (referrers are host names only: never URLs).
INTERVALS = [
    ("24h", "24 hours"),
    ("7d", "7 days"),
    ("30d", "30 days"),
    ("90d", "90 days"),
    ("1y", "1 year"),
    ("all", "All time"),
]
DEFAULT_INTERVAL = "30d"
BREAKDOWNS: list[tuple[GroupBy, str, str]] = [
    (GroupBy.countries, "Countries", "country"),
    (GroupBy.referrers, "Referrers", "referrer"),
    (GroupBy.devices, "Devices", "device"),
    (GroupBy.browsers, "Browsers", "browser"),
    (GroupBy.os, "Operating systems", "os"),
    (GroupBy.utm_sources, "UTM sources", "utm_source"),
    (GroupBy.utm_mediums, "UTM mediums", "utm_medium"),
    (GroupBy.utm_campaigns, "UTM campaigns", "utm_campaign"),
]
BREAKDOWN_ROWS = 10


@dataclass(frozen=True)
class ReportRow:
    label: str
    clicks: int
    unique_clicks: int
    share: float  # of the top row


@dataclass(frozen=True)
class Report:
    interval: str
    clicks: int
    unique_clicks: int
    granularity: str
    series: list[dict[str, Any]]  # start, clicks, unique_clicks
    breakdowns: list[tuple[str, list[ReportRow]]]


async def report(session: AsyncSession, *, page: PublicPage, interval: str) -> Report:
    """The page's numbers for one of INTERVALS (another value is the default): human clicks of its object only."""
    if interval not in {value for value, _ in INTERVALS}:
        interval = DEFAULT_INTERVAL
    store = ScopedStore(analytics_service.click_store(session), page.scope.filter)
    workspace_id = page.dashboard.workspace_id

    async def ask(group_by: GroupBy, **extra: Any) -> Any:
        params = AnalyticsParams.model_validate({"interval": interval, "group_by": group_by.value, **extra})
        return await analytics_service.clicks(session, workspace_id=workspace_id, params=params, store=store)

    totals = await ask(GroupBy.count)
    clicks, unique = int(totals.clicks), int(totals.unique_clicks)
    series: list[dict[str, Any]] = []
    granularity = "day"
    breakdowns: list[tuple[str, list[ReportRow]]] = []
    if clicks:
        timeseries = await ask(GroupBy.timeseries)
        series = analytics_service.rows_of(timeseries)
        granularity = str(timeseries.granularity.value)
        for group_by, title, key in BREAKDOWNS:
            items = analytics_service.rows_of(await ask(group_by, limit=BREAKDOWN_ROWS))
            top = max((item["clicks"] for item in items), default=0)
            empty = "Direct / none" if key in ("referrer", "utm_source") else "Unknown"
            rows = [
                ReportRow(
                    label=str(item.get(key) or empty),
                    clicks=item["clicks"],
                    unique_clicks=item["unique_clicks"],
                    share=item["clicks"] / top if top else 0.0,
                )
                for item in items
            ]
            breakdowns.append((title, rows))
    return Report(
        interval=interval,
        clicks=clicks,
        unique_clicks=unique,
        granularity=granularity,
        series=series,
        breakdowns=breakdowns,
    )

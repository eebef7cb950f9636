"""Plans and rate limits: whom a request counts against, with which quota; each plan's limit."""

from __future__ import annotations

import ipaddress
import logging
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from mask.auth import service as auth_service
from mask.auth.service import ResolvedKey
from mask.config import Settings
from mask.kit.errors import NotFound, Unauthenticated, ValidationFailed
from mask.models.rate_limit import PlanLimit
from mask.models.workspace import Plan, Workspace
from mask.rate_limit.limiter import Decision, Limiter, Quota
from mask.rate_limit.repository import PlanLimitRepository

logger = logging.getLogger("mask.rate_limit")

ANONYMOUS_WINDOW_SECONDS = 60
MAX_WINDOW_SECONDS = 86_400
# A workspace whose plan has no plan_limits row (the migration seeds all three): the smallest seeded limit.
MISSING_PLAN_QUOTA = Quota(requests=60, window_seconds=60)


class PlanNotFound(NotFound):
    code = "plan_not_found"


@dataclass(frozen=True)
class Caller:
    """Whom a request counts against (`bucket`), its quota, and the key lookup that authentication reuses."""

    bucket: str
    quota: Quota
    resolved: ResolvedKey | None = None


def anonymous(*, settings: Settings, client_ip: str | None, resolved: ResolvedKey | None = None) -> Caller:
    """A request without a valid API key: counted per client IP (an IPv6 client per /64, the usual allocation,
    so that rotating addresses does not reset the count), with the anonymous limit."""
    return Caller(
        bucket=f"ip:{_ip_bucket(client_ip)}",
        quota=Quota(settings.rate_limit_anonymous_per_minute, ANONYMOUS_WINDOW_SECONDS),
        resolved=resolved,
    )


async def identify(session: AsyncSession, *, settings: Settings, token: str, client_ip: str | None) -> Caller:
    """The workspace a token speaks for and its plan's quota, in one query; invalid tokens are anonymous."""
    try:
        found = await PlanLimitRepository(session).find_key_with_plan_limit(auth_service.token_hash(token))
        subject = auth_service.admit(found.key if found else None, found.workspace if found else None)
    except Unauthenticated as error:
        return anonymous(
            settings=settings, client_ip=client_ip, resolved=ResolvedKey(token=token, subject=None, error=error)
        )
    assert found is not None
    if found.plan_limit is None:
        logger.warning(
            "plan %r of workspace %s has no plan_limits row; using %s",
            subject.workspace.plan,
            subject.workspace_id,
            MISSING_PLAN_QUOTA,
        )
        quota = MISSING_PLAN_QUOTA
    else:
        quota = Quota(found.plan_limit.requests, found.plan_limit.window_seconds)
    return Caller(
        bucket=workspace_bucket(subject.workspace_id),
        quota=quota,
        resolved=ResolvedKey(token=token, subject=subject, error=None),
    )


def workspace_bucket(workspace_id: str) -> str:
    """What a workspace's API requests are counted under."""
    return f"ws:{workspace_id}"


async def workspace_usage(session: AsyncSession, *, limiter: Limiter, workspace: Workspace) -> Decision:
    """A workspace's requests in its current window and its limit, without counting one (the dashboard)."""
    plan_limit = await PlanLimitRepository(session).get(workspace.plan)
    quota = MISSING_PLAN_QUOTA if plan_limit is None else Quota(plan_limit.requests, plan_limit.window_seconds)
    return await limiter.peek(workspace_bucket(workspace.id), quota)


async def list_plan_limits(session: AsyncSession) -> list[PlanLimit]:
    """Every plan's limit, smallest first."""
    return await PlanLimitRepository(session).list()


async def set_plan_limit(session: AsyncSession, *, plan: str, requests: int, window_seconds: int = 60) -> PlanLimit:
    """Change a plan's limit; every workspace on it gets the new limit on its next request."""
    if plan not in Plan.__members__:
        raise ValidationFailed.single("plan", "invalid_plan", f"Plan must be one of {', '.join(Plan)}.")
    if requests < 1:
        raise ValidationFailed.single("requests", "invalid_limit", "A plan allows 1 or more requests.")
    if not 1 <= window_seconds <= MAX_WINDOW_SECONDS:
        raise ValidationFailed.single(
            "window_seconds", "invalid_window", f"The window is 1 to {MAX_WINDOW_SECONDS} seconds."
        )
    repository = PlanLimitRepository(session)
    plan_limit = await repository.get(plan)
    if plan_limit is None:
        plan_limit = PlanLimit(plan=plan, requests=requests, window_seconds=window_seconds)
        repository.add(plan_limit)
    else:
        plan_limit.requests = requests
        plan_limit.window_seconds = window_seconds
    await session.flush()
    return plan_limit


async def get_plan_limit(session: AsyncSession, *, plan: str) -> PlanLimit:
    """One plan's limit."""
    plan_limit = await PlanLimitRepository(session).get(plan)
    if plan_limit is None:
        raise PlanNotFound(f"No limit is set for plan `{plan}`.")
    return plan_limit


def _ip_bucket(client_ip: str | None) -> str:
    if not client_ip:
        return "unknown"
    try:
        address = ipaddress.ip_address(client_ip)
    except ValueError:
        return client_ip
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)

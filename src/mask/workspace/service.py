"""Workspaces: the tenant. Everything else belongs to exactly one."""

from __future__ import annotations

import re

from sqlalchemy.ext.asyncio import AsyncSession

from mask import audit
from mask.kit.errors import Conflict, FieldError, NotFound, ValidationFailed
from mask.kit.ids import new_id
from mask.models.workspace import Plan, Workspace
from mask.workspace.repository import WorkspaceRepository

WORKSPACE_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")


class WorkspaceNotFound(NotFound):
    code = "workspace_not_found"


async def create(session: AsyncSession, *, slug: str, name: str | None = None, plan: str = Plan.hobby) -> Workspace:
    """Create a workspace; `slug` is its short, unique, lower-case handle (`acme`)."""
    slug = slug.strip().lower()
    if not WORKSPACE_SLUG.match(slug):
        raise ValidationFailed.single(
            "slug", "invalid_slug", "Use 1–63 lower-case letters, digits and dashes, starting with a letter or digit."
        )
    if plan not in Plan.__members__:
        raise ValidationFailed.single("plan", "invalid_plan", f"Plan must be one of {', '.join(Plan)}.")
    repository = WorkspaceRepository(session)
    if await repository.get_by_slug(slug) is not None:
        raise Conflict(f"A workspace `{slug}` already exists.", param="slug", code="workspace_exists")
    workspace = Workspace(id=new_id("ws"), slug=slug, name=(name or slug).strip()[:100], plan=Plan(plan).value)
    repository.add(workspace)
    await session.flush()
    return workspace


async def get_by_slug_or_id(session: AsyncSession, *, ref: str) -> Workspace:
    """Find a workspace by its slug or its `ws_…` id."""
    repository = WorkspaceRepository(session)
    workspace = await (repository.get(ref) if ref.startswith("ws_") else repository.get_by_slug(ref.lower()))
    if workspace is None:
        raise WorkspaceNotFound(f"No workspace `{ref}`.")
    return workspace


async def set_plan(session: AsyncSession, *, workspace: Workspace, plan: str) -> Workspace:
    """Change a workspace's plan; rate limits follow at once."""
    if plan not in Plan.__members__:
        raise ValidationFailed.single("plan", "invalid_plan", f"Plan must be one of {', '.join(Plan)}.")
    previous, workspace.plan = workspace.plan, Plan(plan).value
    await session.flush()
    audit.record(
        session,
        workspace_id=workspace.id,
        action="workspace.plan_changed",
        target_type="workspace",
        target_id=workspace.id,
        details={"from": previous, "to": workspace.plan},
    )
    return workspace


async def list_all(session: AsyncSession) -> list[Workspace]:
    """Every workspace, oldest first (for the CLI)."""
    return await WorkspaceRepository(session).list()


async def rename(session: AsyncSession, *, workspace: Workspace, name: str) -> Workspace:
    """Change a workspace's display name (its handle, and so its URLs, stay)."""
    clean = name.strip()
    if not 1 <= len(clean) <= 100:
        raise ValidationFailed.single("name", "invalid_name", "A workspace name is 1 to 100 characters.")
    previous, workspace.name = workspace.name, clean
    await session.flush()
    audit.record(
        session,
        workspace_id=workspace.id,
        action="workspace.renamed",
        target_type="workspace",
        target_id=workspace.id,
        details={"from": previous, "to": clean},
    )
    return workspace


class TwoFactorNotEnrolled(ValidationFailed):
    code = "two_factor_not_enrolled"


async def set_require_two_factor(
    session: AsyncSession, *, workspace: Workspace, require: bool, actor_enrolled: bool
) -> Workspace:
    """Require (or stop requiring) two-factor sign-in of every member: members without it are sent to enrol
    before they see the workspace. Only an owner who uses it may turn it on (nobody locks themselves out)."""
    if require and not actor_enrolled:
        raise TwoFactorNotEnrolled(
            [
                FieldError(
                    "require_two_factor",
                    "two_factor_not_enrolled",
                    "Turn on two-factor sign-in for your own account first (Account → Two-factor sign-in).",
                )
            ]
        )
    if workspace.require_two_factor != require:
        workspace.require_two_factor = require
        await session.flush()
        audit.record(
            session,
            workspace_id=workspace.id,
            action="workspace.two_factor_required" if require else "workspace.two_factor_optional",
            target_type="workspace",
            target_id=workspace.id,
        )
    return workspace

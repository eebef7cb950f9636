"""Settings → API Keys (through mask.auth.service) and Settings → Workspace (name, plan, members, invites)."""

from __future__ import annotations

import math
import time
from datetime import timedelta

from starlette.responses import Response

from mask.auth import service as auth_service
from mask.dashboard.web import Page, Rerender, field_errors, view
from mask.dashboard.wording import humanize
from mask.kit.errors import MaskError
from mask.kit.time import utcnow
from mask.link import service as link_service
from mask.models.account import Role
from mask.models.rate_limit import PlanLimit
from mask.rate_limit import service as rate_limit_service
from mask.workspace import members as workspace_members
from mask.workspace import permissions
from mask.workspace import service as workspace_service
from mask.workspace.permissions import Permission

SCOPE_LABELS = {
    "audit": "Audit log",
    "links": "Links",
    "domains": "Domains",
    "analytics": "Analytics",
    "bio_pages": "Bio pages",
    "webhooks": "Webhooks",
    "keys": "API keys",
    "members": "Members and invitations",
    "workspace": "Workspace settings",
}


EXPIRY_CHOICES = [("", "Never"), ("7", "In 7 days"), ("30", "In 30 days"), ("90", "In 90 days"), ("365", "In a year")]


def _scope_groups(role: str) -> list[tuple[str, list[str]]]:
    """The scopes this member's role may give a key (mask.workspace.permissions), by area."""
    groups: dict[str, list[str]] = {}
    for scope in permissions.grantable_scopes(role):
        groups.setdefault(scope.split(":", 1)[0], []).append(scope)
    return [(SCOPE_LABELS.get(name, name), scopes) for name, scopes in groups.items()]


async def _keys_page(
    page: Page,
    *,
    status: int = 200,
    errors: dict[str, str] | None = None,
    values: dict[str, object] | None = None,
) -> Response:
    keys = await auth_service.list_keys(page.db, workspace=page.ws.workspace)
    # A key made by the form just before (post/redirect/get): shown on this one view, then never again.
    created = page.take_flash("api_key") if status == 200 else None
    headers = {"Cache-Control": "no-store"}
    return page.render(
        "settings/keys.html",
        status=status,
        headers=headers,
        keys=keys,
        created=created,
        scope_groups=_scope_groups(page.ws.role),
        errors=errors or {},
        values=values or {"scopes": permissions.grantable_scopes(page.ws.role)},
        expiry_choices=EXPIRY_CHOICES,
        now=utcnow(),
    )


@view(workspace=True, permission=Permission.keys_own)
async def api_keys(page: Page) -> Response:
    return await _keys_page(page)


@view(workspace=True, permission=Permission.keys_own)
async def create_api_key(page: Page) -> Response:
    form = await page.form()
    name = (await page.field("name")).strip()
    scopes = [value for value in form.getlist("scopes") if isinstance(value, str)]
    days = await page.field("expires_in_days")
    expires_at = (
        utcnow() + timedelta(days=int(days)) if days in {choice for choice, _ in EXPIRY_CHOICES if choice} else None
    )
    if not scopes:
        raise Rerender(
            await _keys_page(
                page, status=422, errors={"scopes": "Choose at least one scope."}, values={"name": name, "scopes": []}
            )
        )
    try:
        created = await auth_service.create(
            page.db,
            workspace=page.ws.workspace,
            name=name or None,
            scopes=scopes,
            created_by=page.me.id,
            role=page.ws.role,
            expires_at=expires_at,
        )
    except MaskError as error:
        raise Rerender(
            await _keys_page(
                page, status=error.status_code, errors=field_errors(error), values={"name": name, "scopes": scopes}
            )
        ) from error
    # The key is shown once, on the page this answer leads to: kept sealed in the session until then (never in the
    # URL), so reloading that page neither shows it again nor posts the form again.
    page.flash("api_key", {"token": created.token, "key": {"name": created.key.name}})
    return page.redirect(f"{page.base}/settings/keys")


@view(workspace=True, permission=Permission.keys_own)
async def revoke_api_key(page: Page) -> Response:
    await auth_service.revoke(
        page.db,
        workspace=page.ws.workspace,
        key_id=page.request.path_params["key_id"],
        only_of=None if page.ws.can(Permission.keys_manage) else page.me.id,
    )
    return page.redirect(f"{page.base}/settings/keys", done="key-revoked")


async def _workspace_page(
    page: Page,
    *,
    status: int = 200,
    errors: dict[str, str] | None = None,
    invite_link: str | None = None,
    values: dict[str, str] | None = None,
) -> Response:
    members = await workspace_members.members(page.db, workspace=page.ws.workspace)
    can_manage = page.ws.can(Permission.members_manage)
    invites = await workspace_members.pending_invites(page.db, actor=page.ws) if can_manage else []
    try:
        plan_limit: PlanLimit | None = await rate_limit_service.get_plan_limit(page.db, plan=page.ws.workspace.plan)
    except rate_limit_service.PlanNotFound:
        plan_limit = None
    return page.render(
        "settings/workspace.html",
        status=status,
        members=members,
        invites=invites,
        errors=errors or {},
        invite_link=invite_link,
        values=values or {},
        plan_limit=plan_limit,
        usage=await _usage(page),
        assignable_roles=[role.value for role in Role if page.ws.is_owner or role != Role.owner],
        headers={"Cache-Control": "no-store"},
    )


async def _usage(page: Page) -> dict[str, int] | None:
    """The workspace's API requests in the current rate-limit window (None when this process has no limiter)."""
    limiter = page.rate_limiter
    if limiter is None:
        return None
    decision = await rate_limit_service.workspace_usage(page.db, limiter=limiter, workspace=page.ws.workspace)
    return {
        "used": decision.limit - decision.remaining,
        "limit": decision.limit,
        "reset_in": max(0, math.ceil(decision.reset_at - time.time())),
    }


@view(workspace=True, permission=Permission.members_read)
async def workspace_settings(page: Page) -> Response:
    return await _workspace_page(page)


@view(workspace=True, permission=Permission.workspace_manage)
async def rename_workspace(page: Page) -> Response:
    name = await page.field("name")
    try:
        await workspace_service.rename(page.db, workspace=page.ws.workspace, name=name)
    except MaskError as error:
        raise Rerender(
            await _workspace_page(page, status=error.status_code, errors=field_errors(error), values={"name": name})
        ) from error
    return page.redirect(f"{page.base}/settings", done="workspace-renamed")


@view(workspace=True, permission=Permission.members_manage)
async def create_invite(page: Page) -> Response:
    role, email = await page.field("role"), await page.field("email")
    try:
        created = await workspace_members.create_invite(
            page.db,
            actor=page.ws,
            role=role or "member",
            email=email,
            settings=page.settings,
            inviter=page.me.name or page.me.email,
        )
    except MaskError as error:
        raise Rerender(
            await _workspace_page(
                page, status=error.status_code, errors=field_errors(error), values={"email": email, "role": role}
            )
        ) from error
    link = link_service.short_url(page.settings.short_domain, f"app/invites/{created.token}")
    return await _workspace_page(page, status=201, invite_link=link)


@view(workspace=True, permission=Permission.members_manage)
async def revoke_invite(page: Page) -> Response:
    await workspace_members.revoke_invite(page.db, actor=page.ws, invite_id=page.request.path_params["invite_id"])
    return page.redirect(f"{page.base}/settings", done="invite-revoked")


@view(workspace=True, permission=Permission.members_read)
async def remove_member(page: Page) -> Response:
    """An owner removes a member; anyone may remove themselves (leave)."""
    user_id = page.request.path_params["user_id"]
    try:
        await workspace_members.remove_member(page.db, actor=page.ws, user_id=user_id)
    except workspace_members.LastOwner as error:
        raise Rerender(
            await _workspace_page(page, status=error.status_code, errors={"members": humanize(error.message)})
        ) from error
    if user_id == page.me.id:
        return page.redirect("/app")
    return page.redirect(f"{page.base}/settings", done="member-removed")


@view(workspace=True, permission=Permission.members_manage)
async def change_role(page: Page) -> Response:
    try:
        await workspace_members.set_role(
            page.db, actor=page.ws, user_id=page.request.path_params["user_id"], role=await page.field("role")
        )
    except MaskError as error:
        raise Rerender(
            await _workspace_page(page, status=error.status_code, errors={"members": humanize(error.message)})
        ) from error
    return page.redirect(f"{page.base}/settings", done="role-changed")

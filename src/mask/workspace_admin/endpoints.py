"""`/v1/workspace`, `/v1/members`, `/v1/invitations`: what the dashboard's Settings → Workspace does."""

from __future__ import annotations

from fastapi import APIRouter, Response

from mask.auth.dependencies import MembersRead, MembersWrite, WorkspaceRead, WorkspaceWrite
from mask.dependencies import ContextDep, SessionDep
from mask.kit.schemas import error_responses
from mask.workspace_admin import service
from mask.workspace_admin.schemas import (
    InvitationCreate,
    InvitationCreated,
    InvitationList,
    Member,
    MemberList,
    MemberUpdate,
    WorkspaceSettings,
    WorkspaceUpdate,
)

router = APIRouter()
ACTS_AS = (
    " The key acts for the member who made it, with their current role: the scope and the role must both allow "
    "it (`403` otherwise)."
)


@router.get(
    "/workspace",
    response_model=WorkspaceSettings,
    responses=error_responses(403),
    tags=["Workspace"],
    summary="The key's workspace",
    description="Scope: `workspace:read`.",
)
async def get_workspace(auth: WorkspaceRead, session: SessionDep, context: ContextDep) -> WorkspaceSettings:
    return await service.get_workspace(session, subject=auth, settings=context.settings)


@router.patch(
    "/workspace",
    response_model=WorkspaceSettings,
    responses=error_responses(403, 422),
    tags=["Workspace"],
    summary="Rename the workspace or change its defaults",
    description="Scope: `workspace:write` (admins and owners)." + ACTS_AS + " The fields sent change; the handle "
    "(`slug`) never does. `default_domain` is where links and bio pages go when they name no `domain` (and "
    "where `GET /v1/links/info?slug=` looks): one of the workspace's verified domains.",
)
async def update_workspace(
    body: WorkspaceUpdate, auth: WorkspaceWrite, session: SessionDep, context: ContextDep
) -> WorkspaceSettings:
    return await service.update_workspace(session, subject=auth, settings=context.settings, data=body)


@router.get(
    "/members",
    response_model=MemberList,
    responses=error_responses(403),
    tags=["Members"],
    summary="List members",
    description="Scope: `members:read`. In the order they joined.",
)
async def list_members(auth: MembersRead, session: SessionDep) -> MemberList:
    return MemberList(data=await service.list_members(session, subject=auth))


@router.get(
    "/members/{user_id}",
    response_model=Member,
    responses=error_responses(403, 404),
    tags=["Members"],
    summary="Get a member",
    description="Scope: `members:read`.",
)
async def get_member(user_id: str, auth: MembersRead, session: SessionDep) -> Member:
    return await service.get_member(session, subject=auth, user_id=user_id)


@router.patch(
    "/members/{user_id}",
    response_model=Member,
    responses=error_responses(403, 404, 409, 422),
    tags=["Members"],
    summary="Change a member's role",
    description="Scope: `members:write` (admins and owners)." + ACTS_AS + " Only owners make or unmake owners "
    "(`403 owner_required`); the last owner cannot step down (`409 last_owner`). The member's API keys lose the "
    "scopes the new role may not give.",
)
async def update_member(user_id: str, body: MemberUpdate, auth: MembersWrite, session: SessionDep) -> Member:
    return await service.update_member(session, subject=auth, user_id=user_id, data=body)


@router.delete(
    "/members/{user_id}",
    status_code=204,
    responses=error_responses(403, 404, 409),
    tags=["Members"],
    summary="Remove a member",
    description="Scope: `members:write`." + ACTS_AS + " Removing someone else is for admins and owners (owners "
    "only by owners); the key's own member may leave. The last owner cannot go (`409 last_owner`). The member's "
    "API keys in this workspace are revoked.",
)
async def remove_member(user_id: str, auth: MembersWrite, session: SessionDep) -> Response:
    await service.remove_member(session, subject=auth, user_id=user_id)
    return Response(status_code=204)


@router.get(
    "/invitations",
    response_model=InvitationList,
    responses=error_responses(403),
    tags=["Members"],
    summary="List open invitations",
    description="Scope: `members:read`; the member's role must manage members (admins, owners)." + ACTS_AS,
)
async def list_invitations(auth: MembersRead, session: SessionDep) -> InvitationList:
    return InvitationList(data=await service.list_invitations(session, subject=auth))


@router.post(
    "/invitations",
    status_code=201,
    response_model=InvitationCreated,
    responses=error_responses(403, 422),
    tags=["Members"],
    summary="Invite someone",
    description="Scope: `members:write` (admins and owners)." + ACTS_AS + " Only owners invite owners. With "
    "`email` the link is mailed there; `url` is in this answer only. It works once, for 7 days, for whoever "
    "signs in with it.",
)
async def create_invitation(
    body: InvitationCreate, auth: MembersWrite, session: SessionDep, context: ContextDep, response: Response
) -> InvitationCreated:
    created = await service.create_invitation(session, subject=auth, settings=context.settings, data=body)
    response.headers["Cache-Control"] = "no-store"
    return created


@router.delete(
    "/invitations/{invitation_id}",
    status_code=204,
    responses=error_responses(403, 404),
    tags=["Members"],
    summary="Withdraw an invitation",
    description="Scope: `members:write`." + ACTS_AS,
)
async def revoke_invitation(invitation_id: str, auth: MembersWrite, session: SessionDep) -> Response:
    await service.revoke_invitation(session, subject=auth, invitation_id=invitation_id)
    return Response(status_code=204)

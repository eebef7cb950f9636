"""`client.members` and `client.invitations`: who is in the workspace (`/v1/members`, `/v1/invitations`).
Scopes `members:read`, `members:write`; the key acts for its member, whose role must allow the change too."""

from __future__ import annotations

from typing import TypeVar

from mask_sdk._endpoint import NOT_GIVEN, Args, Json, NoContent, NotGiven, Part, Resource, endpoint, given
from mask_sdk.models import (
    InvitationCreate,
    InvitationCreated,
    InvitationList,
    Member,
    MemberList,
    MemberUpdate,
    Role,
)

R = TypeVar("R")


class Members(Resource[R]):
    @endpoint("GET", "/v1/members", returns=Part(MemberList, lambda members: members.data))
    def list(self) -> Args:
        """Every member with their role, in the order they joined."""
        return given(locals())

    @endpoint("GET", "/v1/members/{user_id}", returns=Json(Member))
    def get(self, user_id: str) -> Args:
        """One member of the workspace."""
        return given(locals())

    @endpoint("PATCH", "/v1/members/{user_id}", returns=Json(Member), body=MemberUpdate)
    def update(self, user_id: str, *, role: Role | NotGiven = NOT_GIVEN) -> Args:
        """Change a member's role: admins and owners; only owners make or unmake owners
        (`PermissionDeniedError`); the last owner stays (`ConflictError`, `last_owner`)."""
        return given(locals())

    @endpoint("DELETE", "/v1/members/{user_id}", returns=NoContent())
    def remove(self, user_id: str) -> Args:
        """Remove a member (or leave: the key's own member); their keys in the workspace are revoked."""
        return given(locals())


class Invitations(Resource[R]):
    @endpoint("GET", "/v1/invitations", returns=Part(InvitationList, lambda invitations: invitations.data))
    def list(self) -> Args:
        """Open invitations, newest first (admins and owners)."""
        return given(locals())

    @endpoint("POST", "/v1/invitations", returns=Json(InvitationCreated), body=InvitationCreate)
    def create(self, *, role: Role = "member", email: str | None = None, idempotency_key: str | None = None) -> Args:
        """Invite someone: with `email` the link is mailed there; `url` is in this answer only. Valid 7 days,
        once."""
        return given(locals())

    @endpoint("DELETE", "/v1/invitations/{invitation_id}", returns=NoContent())
    def revoke(self, invitation_id: str) -> Args:
        """Withdraw an open invitation."""
        return given(locals())

"""`client.keys`, `client.members`, `client.invitations`, `client.workspace` against a real `mask serve`: what the
dashboard's settings do, with its refusals as typed exceptions."""

from __future__ import annotations

import pytest
from mask_sdk import ConflictError, NotFoundError, PermissionDeniedError, UnprocessableEntityError
from mask_sdk.models import QrStyleUpdate

from tests.sdk.conftest import SdkServer

pytestmark = pytest.mark.slow


def test_keys_are_made_within_the_asking_keys_scopes_shown_once_and_revoked(server: SdkServer) -> None:
    workspace = server.workspace()
    with server.client(workspace.key) as client:
        created = client.keys.create(name="reporting", scopes=["links:read", "keys:read", "keys:write"])
        assert created.secret.startswith("mk_live_") and created.scopes == ["links:read", "keys:read", "keys:write"]
        with server.client(created.secret) as reporting:
            assert list(reporting.links.list()) == []
            with pytest.raises(PermissionDeniedError) as refused:
                reporting.keys.create(scopes=["links:write"])
            assert refused.value.code == "scope_not_held" and refused.value.param == "scopes"
            narrower = reporting.keys.create(name="narrower", scopes=["links:read"])
            assert narrower.scopes == ["links:read"]
        listed = client.keys.list()
        assert [key.name for key in listed] == ["narrower", "reporting", "sdk tests"]
        assert not any(hasattr(key, "secret") for key in listed)
        assert client.keys.get(created.id).revoked_at is None
        assert client.keys.revoke(created.id) is None
        with pytest.raises(NotFoundError):  # revoked: gone, as after any DELETE
            client.keys.get(created.id)
        assert created.id not in [key.id for key in client.keys.list()]
        with pytest.raises(UnprocessableEntityError) as invalid:
            client.keys.create(scopes=["links:everything"])
        assert invalid.value.errors[0].code == "invalid_scope"
        # A retry with the same idempotency key never makes a second key, nor hands the secret out again.
        client.keys.create(name="once", idempotency_key="one-key-only")
        with pytest.raises(ConflictError) as retried:
            client.keys.create(name="once", idempotency_key="one-key-only")
        assert retried.value.code == "idempotency_secret_not_replayed"
        assert [key.name for key in client.keys.list()].count("once") == 1
    with server.client(server.workspace().key) as stranger, pytest.raises(NotFoundError):
        stranger.keys.revoke(created.id)


def test_members_and_invitations_with_the_dashboards_rules(server: SdkServer) -> None:
    workspace = server.workspace()
    owner = server.member(workspace, f"owner-{workspace.slug}@example.com", "owner")
    admin = server.member(workspace, f"admin-{workspace.slug}@example.com", "admin")
    member = server.member(workspace, f"member-{workspace.slug}@example.com", "member")
    with server.client(admin.key) as client:
        members = client.members.list()
        assert [m.role for m in members] == ["owner", "admin", "member"]
        owner_id, admin_id, member_id = (m.user_id for m in members)
        with pytest.raises(PermissionDeniedError) as promoted:
            client.members.update(admin_id, role="owner")  # promoting themself
        assert promoted.value.code == "owner_required"
        assert client.members.update(member_id, role="viewer").role == "viewer"
        assert client.members.get(member_id).role == "viewer"

        invitation = client.invitations.create(email=f"new-{workspace.slug}@example.com", role="member")
        assert "/app/invites/" in invitation.url and invitation.created_by == admin_id
        assert [i.id for i in client.invitations.list()] == [invitation.id]
        client.invitations.revoke(invitation.id)
        assert client.invitations.list() == []
    with server.client(member.key) as viewer:
        with pytest.raises(PermissionDeniedError) as scope:
            viewer.members.update(member_id, role="admin")
        assert scope.value.required_scope == "members:write"
    with server.client(owner.key) as client:
        with pytest.raises(ConflictError) as last:
            client.members.update(owner_id, role="admin")
        assert last.value.code == "last_owner"
        client.members.remove(member_id)
        assert [m.user_id for m in client.members.list()] == [owner_id, admin_id]
    with server.client(server.workspace().key) as stranger, pytest.raises(NotFoundError):
        stranger.members.get(admin_id)


async def test_the_workspace_is_read_and_changed_with_the_async_client(server: SdkServer) -> None:
    workspace = server.workspace()
    async with server.async_client(workspace.key) as client:
        current = await client.workspace.get()
        assert (current.id, current.slug, current.qr_style.fg) == (workspace.id, workspace.slug, "#000000")
        assert current.default_domain == server.url.removeprefix("http://")
        with pytest.raises(UnprocessableEntityError) as unknown:
            await client.workspace.update(default_domain="go.unknown.example")
        assert unknown.value.param == "default_domain"
        changed = await client.workspace.update(name="Acme", qr_style=QrStyleUpdate(fg="#1f2937"))
        assert (changed.name, changed.qr_style.fg, changed.slug) == ("Acme", "#1f2937", workspace.slug)
        with pytest.raises(UnprocessableEntityError) as invalid:
            await client.workspace.update(name="")
        assert invalid.value.param == "name"
        keys = await client.keys.list()
        assert [key.name for key in keys] == ["sdk tests"]

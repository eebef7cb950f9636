"""`/v1/members`, `/v1/invitations`, `/v1/workspace`: the dashboard's Settings → Workspace through the API, with
its rules: a key acts for its member with their role; no one promotes themself; the last owner stays."""

from __future__ import annotations

import asyncio

import httpx

from mask.account.repository import UserRepository
from mask.app import MaskApp
from mask.auth import service as auth_service
from mask.db import session_scope
from mask.kit.time import utcnow
from mask.workspace import service as workspace_service
from tests.api.people import Someone, fast_argon2, join
from tests.conftest import TenantFactory
from tests.dashboard.conftest import delivered, link_in
from tests.domains import add_verified_domain
from tests.waiting import eventually

__all__ = ["fast_argon2"]


async def _team(app: MaskApp, workspace_id: str) -> dict[str, Someone]:
    return {
        role: await join(app, workspace_id, f"{role}@example.com", role)
        for role in ("owner", "admin", "member", "viewer")
    }


async def test_members_are_listed_with_their_roles(
    app: MaskApp, client: httpx.AsyncClient, make_tenant: TenantFactory
) -> None:
    tenant = await make_tenant()
    team = await _team(app, tenant.workspace_id)
    listed = await client.get("/v1/members", headers=team["viewer"].headers)
    assert listed.status_code == 200
    assert [(m["email"], m["role"]) for m in listed.json()["data"]] == [
        ("owner@example.com", "owner"),
        ("admin@example.com", "admin"),
        ("member@example.com", "member"),
        ("viewer@example.com", "viewer"),
    ]
    one = await client.get(f"/v1/members/{team['admin'].user_id}", headers=team["member"].headers)
    assert one.status_code == 200 and one.json()["role"] == "admin"
    missing = await client.get("/v1/members/usr_nobody", headers=tenant.headers)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "member_not_found"


async def test_no_one_promotes_themself(app: MaskApp, client: httpx.AsyncClient, make_tenant: TenantFactory) -> None:
    tenant = await make_tenant()
    team = await _team(app, tenant.workspace_id)
    member, admin = team["member"], team["admin"]
    # A member's key cannot even hold members:write (their role may not give it).
    selfish = await client.patch(f"/v1/members/{member.user_id}", json={"role": "admin"}, headers=member.headers)
    assert selfish.status_code == 403 and selfish.json()["error"]["required_scope"] == "members:write"
    # An admin's key may manage members, but not make an owner, themself included.
    to_owner = await client.patch(f"/v1/members/{admin.user_id}", json={"role": "owner"}, headers=admin.headers)
    assert to_owner.status_code == 403 and to_owner.json()["error"]["code"] == "owner_required"
    other = await client.patch(f"/v1/members/{member.user_id}", json={"role": "owner"}, headers=admin.headers)
    assert other.status_code == 403
    demote_owner = await client.patch(
        f"/v1/members/{team['owner'].user_id}", json={"role": "member"}, headers=admin.headers
    )
    assert demote_owner.status_code == 403
    roles = {m["email"]: m["role"] for m in (await client.get("/v1/members", headers=admin.headers)).json()["data"]}
    assert roles == {"owner@example.com": "owner", "admin@example.com": "admin", "member@example.com": "member",
                     "viewer@example.com": "viewer"}  # fmt: skip


async def test_a_role_change_narrows_the_members_keys(
    app: MaskApp, client: httpx.AsyncClient, make_tenant: TenantFactory
) -> None:
    tenant = await make_tenant()
    team = await _team(app, tenant.workspace_id)
    member = team["member"]
    changed = await client.patch(
        f"/v1/members/{member.user_id}", json={"role": "viewer"}, headers=team["admin"].headers
    )
    assert changed.status_code == 200 and changed.json()["role"] == "viewer"
    refused = await client.post("/v1/links", json={"url": "https://example.com/x"}, headers=member.headers)
    assert refused.status_code == 403 and refused.json()["error"]["required_scope"] == "links:write"
    assert (await client.get("/v1/links", headers=member.headers)).status_code == 200
    bad = await client.patch(f"/v1/members/{member.user_id}", json={"role": "king"}, headers=team["admin"].headers)
    assert bad.status_code == 422 and bad.json()["error"]["param"] == "role"


async def test_the_last_owner_is_never_removed_nor_demoted(
    app: MaskApp, client: httpx.AsyncClient, make_tenant: TenantFactory
) -> None:
    tenant = await make_tenant()
    owner = await join(app, tenant.workspace_id, "solo@example.com", "owner")
    for attempt in (
        client.patch(f"/v1/members/{owner.user_id}", json={"role": "admin"}, headers=owner.headers),
        client.delete(f"/v1/members/{owner.user_id}", headers=owner.headers),
        client.delete(f"/v1/members/{owner.user_id}", headers=tenant.headers),  # the operator's key too
    ):
        response = await attempt
        assert response.status_code == 409 and response.json()["error"]["code"] == "last_owner"
    second = await join(app, tenant.workspace_id, "second@example.com", "member")
    promoted = await client.patch(f"/v1/members/{second.user_id}", json={"role": "owner"}, headers=owner.headers)
    assert promoted.status_code == 200 and promoted.json()["role"] == "owner"
    # Now there are two: the first may step down, and the second may remove them.
    assert (await client.patch(f"/v1/members/{owner.user_id}", json={"role": "admin"}, headers=owner.headers)).json()[
        "role"
    ] == "admin"
    second_key = {
        "Authorization": f"Bearer {(await client.post('/v1/keys', json={}, headers=owner.headers)).json()['secret']}"
    }
    assert (await client.get("/v1/members", headers=second_key)).status_code == 200
    removed = await client.delete(f"/v1/members/{owner.user_id}", headers=tenant.headers)
    assert removed.status_code == 204
    assert (await client.get("/v1/links", headers=owner.headers)).status_code == 401  # their keys went with them
    assert (await client.get("/v1/links", headers=second_key)).status_code == 401


async def test_invitations_are_mailed_listed_and_withdrawn(
    app: MaskApp, client: httpx.AsyncClient, make_tenant: TenantFactory
) -> None:
    tenant = await make_tenant()
    team = await _team(app, tenant.workspace_id)
    admin = team["admin"]
    made = await client.post(
        "/v1/invitations", json={"email": "New@Example.com", "role": "member"}, headers=admin.headers
    )
    assert made.status_code == 201, made.text
    invitation = made.json()
    assert invitation["email"] == "new@example.com" and invitation["created_by"] == admin.user_id
    assert "/app/invites/" in invitation["url"] and made.headers["cache-control"] == "no-store"
    await eventually(lambda: len(delivered(app, "new@example.com", "invite")) == 1, message="the invitation mail")
    mail = delivered(app, "new@example.com", "invite")[0]
    text = mail.get_body(("plain",))
    assert text is not None and "admin@example.com" in text.get_content()
    assert link_in(mail) in invitation["url"]
    listed = (await client.get("/v1/invitations", headers=admin.headers)).json()["data"]
    assert [item["id"] for item in listed] == [invitation["id"]] and "url" not in listed[0]
    # Only owners invite owners; who cannot manage members cannot see invitations.
    owner_invite = await client.post("/v1/invitations", json={"role": "owner"}, headers=admin.headers)
    assert owner_invite.status_code == 403 and owner_invite.json()["error"]["code"] == "owner_required"
    assert (
        await client.post("/v1/invitations", json={"role": "owner"}, headers=team["owner"].headers)
    ).status_code == 201
    hidden = await client.get("/v1/invitations", headers=team["member"].headers)
    assert hidden.status_code == 403 and hidden.json()["error"]["code"] == "permission_denied"
    bad = await client.post("/v1/invitations", json={"email": "not-an-address", "role": "boss"}, headers=admin.headers)
    assert bad.status_code == 422
    assert {error["param"] for error in bad.json()["error"]["errors"]} == {"role"}
    bad_email = await client.post("/v1/invitations", json={"email": "not-an-address"}, headers=admin.headers)
    assert bad_email.status_code == 422 and bad_email.json()["error"]["param"] == "email"
    withdrawn = await client.delete(f"/v1/invitations/{invitation['id']}", headers=admin.headers)
    assert withdrawn.status_code == 204
    assert (await client.delete(f"/v1/invitations/{invitation['id']}", headers=admin.headers)).status_code == 404
    accepted = await client.get(invitation["url"].split("8000", 1)[1])
    assert "unknown, used or expired" in accepted.text


async def test_the_workspace_is_read_and_renamed_by_who_may(
    app: MaskApp, client: httpx.AsyncClient, make_tenant: TenantFactory
) -> None:
    tenant = await make_tenant()
    team = await _team(app, tenant.workspace_id)
    got = await client.get("/v1/workspace", headers=team["viewer"].headers)
    assert got.status_code == 200
    assert got.json()["id"] == tenant.workspace_id and got.json()["qr_style"]["fg"] == "#000000"
    refused = await client.patch("/v1/workspace", json={"name": "Mine"}, headers=team["member"].headers)
    assert refused.status_code == 403 and refused.json()["error"]["required_scope"] == "workspace:write"
    changed = await client.patch(
        "/v1/workspace", json={"name": "  Acme  ", "qr_style": {"fg": "#112233"}}, headers=team["admin"].headers
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["name"] == "Acme" and changed.json()["qr_style"]["fg"] == "#112233"
    assert changed.json()["slug"] == tenant.slug
    empty = await client.patch("/v1/workspace", json={"name": " "}, headers=team["admin"].headers)
    assert empty.status_code == 422 and empty.json()["error"]["param"] == "name"
    unreadable = await client.patch("/v1/workspace", json={"qr_style": {"fg": "#ffffff"}}, headers=tenant.headers)
    assert unreadable.status_code == 422
    assert (await client.get("/v1/workspace", headers=tenant.headers)).json()["name"] == "Acme"


async def test_only_an_owner_who_uses_two_factor_sign_in_requires_it_of_everyone(
    app: MaskApp, client: httpx.AsyncClient, make_tenant: TenantFactory
) -> None:
    tenant = await make_tenant()
    team = await _team(app, tenant.workspace_id)
    assert (await client.get("/v1/workspace", headers=tenant.headers)).json()["require_two_factor"] is False
    admin = await client.patch("/v1/workspace", json={"require_two_factor": True}, headers=team["admin"].headers)
    assert admin.status_code == 403
    owner = team["owner"]
    not_enrolled = await client.patch("/v1/workspace", json={"require_two_factor": True}, headers=owner.headers)
    assert not_enrolled.status_code == 422
    assert not_enrolled.json()["error"]["errors"][0]["code"] == "two_factor_not_enrolled"
    async with session_scope(app.context.sessionmaker) as session:
        user = await UserRepository(session).get(owner.user_id)
        assert user is not None
        user.totp_enabled_at = utcnow()  # enrolled (the enrolment itself is tests/dashboard/test_two_factor.py)
    required = await client.patch("/v1/workspace", json={"require_two_factor": True}, headers=owner.headers)
    assert required.status_code == 200 and required.json()["require_two_factor"] is True
    stranger = await make_tenant()
    theirs = await client.get("/v1/workspace", headers=stranger.headers)
    assert theirs.json()["require_two_factor"] is False  # another workspace's setting is its own


async def test_changes_are_in_the_audit_log_as_the_api_key_that_made_them(
    app: MaskApp, client: httpx.AsyncClient, make_tenant: TenantFactory
) -> None:
    tenant = await make_tenant()
    team = await _team(app, tenant.workspace_id)
    admin = team["admin"]
    await client.patch("/v1/workspace", json={"name": "Audited"}, headers=admin.headers)
    await client.patch(f"/v1/members/{team['member'].user_id}", json={"role": "viewer"}, headers=admin.headers)
    invitation = (await client.post("/v1/invitations", json={}, headers=admin.headers)).json()
    await client.delete(f"/v1/invitations/{invitation['id']}", headers=admin.headers)
    await client.delete(f"/v1/members/{team['viewer'].user_id}", headers=admin.headers)
    entries = (await client.get("/v1/audit-log", headers=admin.headers)).json()["data"]
    mine = [entry for entry in entries if entry["actor"]["id"] == admin.key_id]
    assert [entry["action"] for entry in reversed(mine)] == [
        "workspace.renamed",
        "member.role_changed",
        "invite.created",
        "invite.revoked",
        "member.removed",
    ]
    assert all(entry["actor"]["type"] == "api_key" for entry in mine)


async def test_another_workspaces_members_and_invitations_are_not_found(
    app: MaskApp, client: httpx.AsyncClient, make_tenant: TenantFactory
) -> None:
    victim, attacker = await make_tenant(), await make_tenant()
    member = await join(app, victim.workspace_id, "victim@example.com", "member")
    invitation = (await client.post("/v1/invitations", json={"role": "admin"}, headers=victim.headers)).json()
    for method, path, body in (
        ("GET", f"/v1/members/{member.user_id}", None),
        ("PATCH", f"/v1/members/{member.user_id}", {"role": "viewer"}),
        ("DELETE", f"/v1/members/{member.user_id}", None),
        ("DELETE", f"/v1/invitations/{invitation['id']}", None),
    ):
        response = await client.request(method, path, json=body, headers=attacker.headers)
        assert response.status_code == 404, (method, path, response.text)
    assert (await client.get("/v1/members", headers=attacker.headers)).json()["data"] == []
    assert (await client.get("/v1/invitations", headers=attacker.headers)).json()["data"] == []
    assert (await client.get(f"/v1/members/{member.user_id}", headers=victim.headers)).json()["role"] == "member"
    assert len((await client.get("/v1/invitations", headers=victim.headers)).json()["data"]) == 1


async def test_the_default_domain_is_where_links_go_when_they_name_none(
    app: MaskApp, client: httpx.AsyncClient, make_tenant: TenantFactory
) -> None:
    tenant = await make_tenant()
    assert (await client.get("/v1/workspace", headers=tenant.headers)).json()["default_domain"] == "localhost:8000"
    domain = await add_verified_domain(client, app, tenant, "go.acme.example")
    pending = await client.post("/v1/domains", json={"domain": "later.acme.example"}, headers=tenant.headers)
    assert pending.status_code == 201
    refused = await client.patch("/v1/workspace", json={"default_domain": "later.acme.example"}, headers=tenant.headers)
    assert refused.status_code == 422 and refused.json()["error"]["errors"][0]["code"] == "domain_not_verified"
    for unknown in ("elsewhere.example", "not a domain"):
        answer = await client.patch("/v1/workspace", json={"default_domain": unknown}, headers=tenant.headers)
        assert answer.status_code == 422 and answer.json()["error"]["param"] == "default_domain"
    chosen = await client.patch("/v1/workspace", json={"default_domain": "Go.Acme.Example."}, headers=tenant.headers)
    assert chosen.status_code == 200 and chosen.json()["default_domain"] == "go.acme.example"
    link = (
        await client.post("/v1/links", json={"url": "https://example.com/d", "slug": "d"}, headers=tenant.headers)
    ).json()
    assert link["domain"] == "go.acme.example" and link["short_url"] == "https://go.acme.example/d"
    found = await client.get("/v1/links/info", params={"slug": "d"}, headers=tenant.headers)
    assert found.status_code == 200 and found.json()["id"] == link["id"]
    named = await client.post(
        "/v1/links", json={"url": "https://example.com/e", "domain": "localhost:8000"}, headers=tenant.headers
    )
    assert named.json()["domain"] == "localhost:8000"
    # Another workspace's default is its own business.
    other = await make_tenant()
    theirs = (await client.post("/v1/links", json={"url": "https://example.com/f"}, headers=other.headers)).json()
    assert theirs["domain"] == "localhost:8000"
    stolen = await client.patch("/v1/workspace", json={"default_domain": "go.acme.example"}, headers=other.headers)
    assert stolen.status_code == 422
    # Back to the short domain; a removed domain stops being the default.
    reset = await client.patch("/v1/workspace", json={"default_domain": None}, headers=tenant.headers)
    assert reset.json()["default_domain"] == "localhost:8000"
    await client.patch("/v1/workspace", json={"default_domain": "go.acme.example"}, headers=tenant.headers)
    await client.delete(f"/v1/links/{link['id']}", headers=tenant.headers)
    assert (await client.delete(f"/v1/domains/{domain['id']}", headers=tenant.headers)).status_code == 204
    assert (await client.get("/v1/workspace", headers=tenant.headers)).json()["default_domain"] == "localhost:8000"
    after = (await client.post("/v1/links", json={"url": "https://example.com/g"}, headers=tenant.headers)).json()
    assert after["domain"] == "localhost:8000"
    entries = (await client.get("/v1/audit-log", headers=tenant.headers)).json()["data"]
    assert [e["details"]["to"] for e in entries if e["action"] == "workspace.default_domain_changed"] == [
        "go.acme.example",
        None,
        "go.acme.example",
    ]


async def test_two_owners_demoting_each_other_at_once_leave_one_owner(
    app: MaskApp, client: httpx.AsyncClient, make_tenant: TenantFactory
) -> None:
    tenant = await make_tenant()
    first = await join(app, tenant.workspace_id, "first@example.com", "owner")
    second = await join(app, tenant.workspace_id, "second@example.com", "owner")
    for _ in range(3):
        answers = await asyncio.gather(
            client.patch(f"/v1/members/{second.user_id}", json={"role": "admin"}, headers=first.headers),
            client.patch(f"/v1/members/{first.user_id}", json={"role": "admin"}, headers=second.headers),
        )
        owners = [
            m for m in (await client.get("/v1/members", headers=tenant.headers)).json()["data"] if m["role"] == "owner"
        ]
        assert len(owners) == 1, [answer.text for answer in answers]
        # The other is refused: it was no longer an owner (403), or it found the last owner (409).
        assert sorted(answer.status_code for answer in answers) in ([200, 403], [200, 409]), [a.text for a in answers]
        # Both owners again for the next round (the operator's key acts as an owner).
        demoted = first if owners[0]["user_id"] == second.user_id else second
        await client.patch(f"/v1/members/{demoted.user_id}", json={"role": "owner"}, headers=tenant.headers)
        # Their keys lost the owners' scopes with the demotion: make new ones.
        first, second = (
            (await _rekey(app, tenant.workspace_id, first)),
            (await _rekey(app, tenant.workspace_id, second)),
        )


async def _rekey(app: MaskApp, workspace_id: str, someone: Someone) -> Someone:
    async with session_scope(app.context.sessionmaker) as session:
        workspace = await workspace_service.get_by_slug_or_id(session, ref=workspace_id)
        created = await auth_service.create(session, workspace=workspace, created_by=someone.user_id, role="owner")
    return Someone(someone.user_id, someone.email, "owner", created.token, created.key.id)

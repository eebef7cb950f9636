"""Workspaces in the dashboard: tenant boundaries, owner-only pages, invites, members, switching."""

from __future__ import annotations

import re

from sqlalchemy import select

from mask.app import MaskApp
from mask.db import session_scope
from mask.models.auth import ApiKey
from mask.models.domain import Domain
from mask.models.link import Link
from tests.dashboard.conftest import Person, confirm_email, csrf_of, make_person, new_client, sign_up

INVITE_LINK = re.compile(r'id="invite-link"[^>]*value="([^"]+)"')


async def _invite(owner: Person, role: str = "member") -> str:
    response = await owner.post(f"{owner.base}/settings/invites", {"role": role, "email": ""})
    assert response.status_code == 201, response.text
    found = INVITE_LINK.search(response.text)
    assert found
    return found.group(1).split("localhost:8000", 1)[1]


async def _member_of(app: MaskApp, owner: Person, email: str) -> Person:
    member = await make_person(app, email)
    path = await _invite(owner)
    accepted = await member.post(path, form_page=path)
    assert accepted.status_code == 303 and accepted.headers["location"].startswith(f"{owner.base}/links")
    return Person(http=member.http, email=email, workspace=owner.workspace)


async def test_another_workspace_looks_like_nothing_at_all(app: MaskApp) -> None:
    alice = await make_person(app, "alice@example.com", name="Alpha")
    bob = await make_person(app, "bob@example.com", name="Beta")
    created = await alice.post(f"{alice.base}/links", {"url": "https://example.com/secret", "slug": "secret"})
    assert created.status_code == 303
    async with session_scope(app.context.sessionmaker) as db:
        link_id = (await db.execute(select(Link.id))).scalar_one()
    missing = await bob.http.get("/app/no-such-workspace/links")
    for path in (
        f"{alice.base}/links",
        f"{alice.base}/settings",
        f"{alice.base}/links/{link_id}",
        f"{bob.base}/links/{link_id}",
        f"{bob.base}/links/{link_id}/qr.svg",
    ):
        response = await bob.http.get(path)
        assert response.status_code == 404, path
        assert "secret" not in response.text
    assert missing.status_code == 404
    for path in (f"{alice.base}/links/{link_id}/delete", f"{bob.base}/links/{link_id}/delete"):
        assert (await bob.post(path)).status_code == 404
    edit = await bob.post(f"{bob.base}/links/{link_id}", {"url": "https://evil.example", "slug": "secret"})
    assert edit.status_code == 404
    async with session_scope(app.context.sessionmaker) as db:
        link = (await db.execute(select(Link))).scalar_one()
    assert link.url == "https://example.com/secret"


async def test_members_cannot_open_or_use_owner_only_pages(app: MaskApp) -> None:
    owner = await make_person(app, "owner@example.com", name="Team")
    member = await _member_of(app, owner, "member@example.com")
    for path in ("/webhooks", "/audit"):
        refused = await member.http.get(member.base + path)
        assert refused.status_code == 403 and "does not allow" in refused.text
    attempts = [
        (f"{member.base}/domains", {"domain": "go.example.com"}),
        (f"{member.base}/settings", {"name": "Renamed"}),
        (f"{member.base}/settings/invites", {"role": "owner"}),
    ]
    for path, form in attempts:
        assert (await member.post(path, form)).status_code == 403, path
    # A member makes keys, but never with more than a member may do.
    beyond = await member.post(f"{member.base}/settings/keys", {"name": "sneaky", "scopes": "domains:write"})
    assert beyond.status_code == 422 and "cannot give a key domains:write" in beyond.text
    async with session_scope(app.context.sessionmaker) as db:
        assert list((await db.execute(select(ApiKey.id))).scalars()) == []
        assert list((await db.execute(select(Domain.id))).scalars()) == []
    # What members may do: links, and seeing the workspace.
    assert (await member.http.get(f"{member.base}/settings")).status_code == 200
    assert (await member.http.get(f"{member.base}/domains")).status_code == 200
    assert (await member.post(f"{member.base}/links", {"url": "https://example.com/m"})).status_code == 303
    settings_page = await member.http.get(f"{member.base}/settings")
    assert "Invite people" not in settings_page.text and "Audit log" not in settings_page.text


async def test_an_invite_link_works_once_and_grants_its_role(app: MaskApp) -> None:
    owner = await make_person(app, "owner@example.com", name="Team")
    path = await _invite(owner, role="owner")
    visitor = new_client(app)
    landing = await visitor.get(path)
    assert landing.status_code == 200 and "Join Team" in landing.text and "Create an account to join" in landing.text
    signed_up = await sign_up(visitor, "new@example.com", name="")
    assert signed_up.status_code == 303
    assert (await confirm_email(app, visitor, "new@example.com")).status_code == 303
    form = await visitor.get(path)
    accepted = await visitor.post(path, data={"csrf_token": csrf_of(form.text)})
    assert accepted.status_code == 303
    keys = await visitor.get(f"{owner.base}/settings/keys")
    assert keys.status_code == 200  # joined as an owner
    again = await new_client(app).get(path)
    assert again.status_code == 404 and "unknown, used or expired" in again.text


async def test_the_last_owner_cannot_leave_and_owners_manage_roles(app: MaskApp) -> None:
    owner = await make_person(app, "owner@example.com", name="Team")
    member = await _member_of(app, owner, "member@example.com")
    page = await owner.http.get(f"{owner.base}/settings")
    owner_id = re.search(r'/settings/members/(usr_\w+)/remove"[^>]*data-confirm="Leave', page.text)
    member_id = re.search(r"/settings/members/(usr_\w+)/role", page.text)
    assert owner_id and member_id
    refused = await owner.post(f"{owner.base}/settings/members/{owner_id.group(1)}/remove")
    assert refused.status_code == 409 and "needs an owner" in refused.text
    promoted = await owner.post(f"{owner.base}/settings/members/{member_id.group(1)}/role", {"role": "owner"})
    assert promoted.status_code == 303
    assert (await member.http.get(f"{member.base}/settings/keys")).status_code == 200
    left = await owner.post(f"{owner.base}/settings/members/{owner_id.group(1)}/remove")
    assert left.status_code == 303
    assert (await owner.http.get(f"{owner.base}/links")).status_code == 404


async def test_a_user_creates_and_switches_between_workspaces(app: MaskApp) -> None:
    person = await make_person(app, "ada@example.com", name="First")
    form = await person.http.get("/app/workspaces/new")
    empty = await person.http.post("/app/workspaces/new", data={"name": " ", "csrf_token": csrf_of(form.text)})
    assert empty.status_code == 422 and 'id="e-name"' in empty.text
    created = await person.post("/app/workspaces/new", {"name": "Second <script>"})
    assert created.status_code == 303
    second = created.headers["location"].split("/")[2]
    assert second == "second-script"
    page = await person.http.get(f"/app/{second}/links")
    assert page.status_code == 200
    assert "Second &lt;script&gt;" in page.text and "<script>" not in page.text.split("</head>")[1].replace(
        '<script src="', ""
    )
    assert f'href="/app/{person.workspace}/links"' in page.text  # the switcher lists both
    rename = await person.post(f"/app/{second}/settings", {"name": "Renamed"})
    assert rename.status_code == 303
    assert "Renamed" in (await person.http.get(f"/app/{second}/settings")).text

"""The permission matrix (mask.workspace.permissions), walked: every role against every workspace page and action
of the dashboard, and the same matrix through the API keys each role may make."""

from __future__ import annotations

import re

import httpx
import pytest
from starlette.routing import Mount, Route

from mask.app import MaskApp
from mask.dashboard.app import routes
from mask.models.account import Role
from mask.workspace.permissions import MATRIX, Permission, allows, grantable_scopes
from tests.dashboard.conftest import Person, make_person
from tests.dashboard.test_workspaces import _invite

INVITE_PATH = re.compile(r"/app/invites/[\w-]+")
KEY = re.compile(r'id="new-key"[^>]*value="(mk_live_[^"]+)"')


def workspace_routes() -> list[tuple[str, str, Permission | None, str]]:
    """(method, path template, declared permission, view name) of every page under /app/{workspace}/."""
    found = []
    for mount in routes():
        if not isinstance(mount, Mount):
            continue
        for route in mount.routes:
            if isinstance(route, Route) and route.path.startswith("/{workspace:str}/"):
                for method in sorted((route.methods or set()) - {"HEAD"}):
                    permission = getattr(route.endpoint, "permission", None)
                    found.append((method, "/app" + route.path, permission, route.endpoint.__name__))
    return found


def test_every_workspace_page_declares_its_permission() -> None:
    missing = [(method, path) for method, path, permission, _ in workspace_routes() if permission is None]
    assert missing == []
    # Every API scope is a permission of the matrix, and the owner has every permission.
    from mask.auth.scopes import ALL_SCOPES

    assert set(ALL_SCOPES) <= {permission.value for permission in Permission}
    assert MATRIX[Role.owner] == frozenset(Permission)


def _fill(path: str, workspace: str) -> str:
    return re.sub(r"\{(\w+):str\}", lambda match: workspace if match.group(1) == "workspace" else "x_missing", path)


async def _person_with_role(app: MaskApp, owner: Person, role: str) -> Person:
    person = await make_person(app, f"{role}@example.com", ip=f"198.51.100.{len(role)}")
    path = await _invite(owner, role=role)
    accepted = await person.post(path, form_page=path)
    assert accepted.status_code == 303
    return Person(http=person.http, email=person.email, workspace=owner.workspace)


async def test_every_role_against_every_workspace_page_and_action(app: MaskApp) -> None:
    owner = await make_person(app, "owner@example.com", name="Team")
    people = {Role.owner: owner}
    for role in (Role.admin, Role.member, Role.viewer):
        people[role] = await _person_with_role(app, owner, role)
    table = workspace_routes()
    assert len(table) > 40
    for role, person in people.items():
        token = await person.csrf(f"{person.base}/settings")
        for method, template, permission, name in table:
            assert permission is not None
            path = _fill(template, person.workspace)
            if method == "GET":
                response = await person.http.get(path)
            else:
                response = await person.http.post(path, data={"csrf_token": token})
            expected = allows(role, permission)
            if name == "remove_member":  # anyone may leave; removing someone else is managing members
                expected = allows(role, Permission.members_manage)
            refused = response.status_code == 403 and "does not allow" in response.text
            assert refused != expected, f"{role} {method} {path} ({permission}): {response.status_code}"


async def _key_of(person: Person, role: str) -> str:
    """A key with every scope `role` may give."""
    body: dict[str, object] = {"name": "k", "scopes": grantable_scopes(role)}
    body["csrf_token"] = await person.csrf(f"{person.base}/settings/keys")
    response = await person.http.post(f"{person.base}/settings/keys", data=body)
    assert response.status_code == 303, response.text
    found = KEY.search((await person.http.get(response.headers["location"])).text)
    assert found
    return found.group(1)


@pytest.mark.parametrize("role", [Role.admin, Role.member])
async def test_a_members_key_can_do_what_their_role_may_and_no_more(app: MaskApp, role: str) -> None:
    owner = await make_person(app, "owner@example.com", name="Team")
    person = await _person_with_role(app, owner, role)
    key = await _key_of(person, role)
    api = person.http
    headers = {"Authorization": f"Bearer {key}"}
    checks = [
        ("links:write", api.post("/v1/links", json={"url": "https://example.com/k"}, headers=headers)),
        ("domains:write", api.post("/v1/domains", json={"domain": "go.example.com"}, headers=headers)),
        ("audit:read", api.get("/v1/audit-log", headers=headers)),
        ("webhooks:read", api.get("/v1/webhooks", headers=headers)),
    ]
    for scope, request in checks:
        response = await request
        assert (response.status_code != 403) == (scope in grantable_scopes(role)), (role, scope, response.text)


async def test_a_demoted_members_keys_lose_what_the_new_role_may_not_do(app: MaskApp) -> None:
    owner = await make_person(app, "owner@example.com", name="Team")
    admin = await _person_with_role(app, owner, Role.admin)
    key = await _key_of(admin, Role.admin)
    headers = {"Authorization": f"Bearer {key}"}
    assert (await admin.http.get("/v1/audit-log", headers=headers)).status_code == 200
    page = await owner.http.get(f"{owner.base}/settings")
    [admin_id] = re.findall(r"/settings/members/(usr_\w+)/role", page.text)
    assert (await owner.post(f"{owner.base}/settings/members/{admin_id}/role", {"role": "viewer"})).status_code == 303
    assert (await admin.http.get("/v1/audit-log", headers=headers)).status_code == 403
    assert (
        await admin.http.post("/v1/links", json={"url": "https://example.com/v"}, headers=headers)
    ).status_code == 403
    assert (await admin.http.get("/v1/links", headers=headers)).status_code == 200  # a viewer still reads
    assert (await owner.post(f"{owner.base}/settings/members/{admin_id}/remove")).status_code == 303
    gone = await admin.http.get("/v1/links", headers=headers)
    assert gone.status_code == 401  # a removed member's keys are revoked


async def test_admins_cannot_make_owners(app: MaskApp) -> None:
    owner = await make_person(app, "owner@example.com", name="Team")
    admin = await _person_with_role(app, owner, Role.admin)
    refused = await admin.post(f"{admin.base}/settings/invites", {"role": "owner"}, form_page=f"{admin.base}/settings")
    assert refused.status_code == 403
    page = await admin.http.get(f"{admin.base}/settings")
    assert 'value="owner"' not in page.text
    assert (
        await admin.post(f"{admin.base}/settings/invites", {"role": "viewer"}, form_page=f"{admin.base}/settings")
    ).status_code == 201


async def test_viewers_change_nothing_but_read_analytics(app: MaskApp, client: httpx.AsyncClient) -> None:
    owner = await make_person(app, "owner@example.com", name="Team")
    viewer = await _person_with_role(app, owner, Role.viewer)
    assert (await viewer.http.get(f"{viewer.base}/analytics")).status_code == 200
    links = await viewer.http.get(f"{viewer.base}/links")
    assert links.status_code == 200 and "New link" not in links.text
    assert (await viewer.post(f"{viewer.base}/links", {"url": "https://example.com/x"})).status_code == 403

"""The audit log is filled by every write, says who (member or key), from which network (never the address),
and is tenant-isolated; API keys expire and remember the network they were last used from."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import update

from mask.api.app import create_api
from mask.app import MaskApp
from mask.db import session_scope
from mask.kit.time import utcnow
from mask.models.auth import ApiKey
from tests.dashboard.conftest import Person, make_person, new_client
from tests.dashboard.test_roles import KEY, _person_with_role
from tests.dashboard.test_workspaces import _invite


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return {"webhooks_allow_private": True}  # a webhook to loopback: this machine has no other network


async def _owner_key(owner: Person) -> str:
    body: dict[str, object] = {
        "name": "auditor",
        "scopes": [
            "links:read",
            "links:write",
            "domains:write",
            "bio_pages:write",
            "webhooks:write",
            "webhooks:read",
            "audit:read",
        ],
    }
    body["csrf_token"] = await owner.csrf(f"{owner.base}/settings/keys")
    response = await owner.http.post(f"{owner.base}/settings/keys", data=body)
    assert response.status_code == 303, response.text
    found = KEY.search((await owner.http.get(response.headers["location"])).text)
    assert found
    return found.group(1)


async def _entries(http: httpx.AsyncClient, key: str) -> list[dict[str, object]]:
    entries: list[dict[str, object]] = []
    cursor = None
    while True:
        params = {"limit": "100"} | ({"cursor": cursor} if cursor else {})
        page = await http.get("/v1/audit-log", params=params, headers={"Authorization": f"Bearer {key}"})
        assert page.status_code == 200, page.text
        entries.extend(page.json()["data"])
        cursor = page.json()["next_cursor"]
        if not cursor:
            return entries


async def test_every_kind_of_write_leaves_an_entry_saying_who_and_from_which_network(app: MaskApp) -> None:
    owner = await make_person(app, "owner@example.com", name="Team")
    key = await _owner_key(owner)
    api, auth = owner.http, {"Authorization": f"Bearer {key}"}
    # API writes, through the key.
    link = (await api.post("/v1/links", json={"url": "https://example.com/a"}, headers=auth)).json()
    assert (await api.patch(f"/v1/links/{link['id']}", json={"url": "https://example.com/b"}, headers=auth)).is_success
    assert (await api.delete(f"/v1/links/{link['id']}", headers=auth)).status_code == 204
    domain = (await api.post("/v1/domains", json={"domain": "go.example.com"}, headers=auth)).json()
    assert (await api.delete(f"/v1/domains/{domain['id']}", headers=auth)).status_code == 204
    bio = (await api.post("/v1/bio-pages", json={"handle": "team", "title": "Team"}, headers=auth)).json()
    assert (await api.patch(f"/v1/bio-pages/{bio['id']}", json={"title": "The team"}, headers=auth)).is_success
    assert (await api.delete(f"/v1/bio-pages/{bio['id']}", headers=auth)).status_code == 204
    receiver = {"url": "http://127.0.0.1:9/hook", "events": ["link.created"]}
    hook = (await api.post("/v1/webhooks", json=receiver, headers=auth)).json()
    assert (await api.patch(f"/v1/webhooks/{hook['id']}", json={"enabled": False}, headers=auth)).is_success
    assert (await api.post(f"/v1/webhooks/{hook['id']}/rotate-secret", headers=auth)).is_success
    assert (await api.delete(f"/v1/webhooks/{hook['id']}", headers=auth)).status_code == 204
    # Dashboard writes, by members.
    assert (await owner.post(f"{owner.base}/settings", {"name": "Team two"})).status_code == 303
    await _person_with_role(app, owner, "member")
    page = await owner.http.get(f"{owner.base}/settings")
    [member_id] = re.findall(r"/settings/members/(usr_\w+)/role", page.text)
    assert (await owner.post(f"{owner.base}/settings/members/{member_id}/role", {"role": "viewer"})).status_code == 303
    assert (await owner.post(f"{owner.base}/settings/members/{member_id}/remove")).status_code == 303
    await _invite(owner)
    settings_page = await owner.http.get(f"{owner.base}/settings")
    [invite_id] = re.findall(r"/settings/invites/(inv_\w+)/revoke", settings_page.text)
    assert (await owner.post(f"{owner.base}/settings/invites/{invite_id}/revoke")).status_code == 303
    keys_page = await owner.http.get(f"{owner.base}/settings/keys")
    [key_id] = re.findall(r"/settings/keys/(key_\w+)/revoke", keys_page.text)
    # A sign-in from a network the owner never used.
    elsewhere = new_client(app, ip="192.0.2.77")
    from tests.dashboard.conftest import log_in

    assert (await log_in(elsewhere, "owner@example.com")).status_code == 303

    entries = await _entries(api, key)
    actions = {entry["action"] for entry in entries}
    expected = {
        "link.created", "link.updated", "link.deleted", "domain.created", "domain.deleted",
        "bio_page.created", "bio_page.updated", "bio_page.deleted",
        "webhook.created", "webhook.updated", "webhook.secret_rotated", "webhook.deleted",
        "workspace.created", "workspace.renamed", "api_key.created", "invite.created", "invite.revoked",
        "member.joined", "member.role_changed", "member.removed", "user.signed_in_new_place",
    }  # fmt: skip
    assert expected <= actions, expected - actions
    by_action: dict[object, dict[str, object]] = {}
    for entry in entries:  # newest first: the latest entry of each action
        by_action.setdefault(entry["action"], entry)
    assert by_action["link.created"]["actor"] == {"type": "api_key", "id": key_id, "label": "auditor"}
    assert by_action["workspace.renamed"]["actor"]["label"] == "owner@example.com"  # type: ignore[index]
    assert by_action["link.created"]["ip_prefix"] == "203.0.113.0/24"
    assert by_action["user.signed_in_new_place"]["ip_prefix"] == "192.0.2.0/24"
    for entry in entries:
        assert entry["ip_prefix"] in (None, "203.0.113.0/24", "192.0.2.0/24", "198.51.100.0/24")
        assert "203.0.113.10" not in str(entry) and "192.0.2.77" not in str(entry)  # never the address
    assert (await owner.post(f"{owner.base}/settings/keys/{key_id}/revoke")).status_code == 303
    async with session_scope(app.context.sessionmaker) as db:
        from sqlalchemy import select

        from mask.models.audit import AuditEntry

        assert await db.scalar(select(AuditEntry.id).where(AuditEntry.action == "api_key.revoked")) is not None


def test_every_write_route_of_the_api_is_in_the_audit_test() -> None:
    """A new write endpoint must show up in the test above (and so be audited)."""
    covered = {
        ("POST", "/v1/links"), ("PATCH", "/v1/links/{link_id}"), ("DELETE", "/v1/links/{link_id}"),
        ("POST", "/v1/domains"), ("DELETE", "/v1/domains/{domain_id}"),
        ("POST", "/v1/bio-pages"), ("PATCH", "/v1/bio-pages/{page_id}"), ("DELETE", "/v1/bio-pages/{page_id}"),
        ("POST", "/v1/webhooks"), ("PATCH", "/v1/webhooks/{webhook_id}"), ("DELETE", "/v1/webhooks/{webhook_id}"),
        ("POST", "/v1/webhooks/{webhook_id}/rotate-secret"),
        # Audited too (webhook.test_sent, webhook.delivery_retried), exercised in tests/webhook.
        ("POST", "/v1/webhooks/{webhook_id}/test"),
        ("POST", "/v1/webhooks/{webhook_id}/deliveries/{delivery_id}/retry"),
    }  # fmt: skip
    from mask.config import Settings
    from mask.context import AppContext

    api = create_api(AppContext.create(Settings(env="test", database_url="sqlite+aiosqlite:///:memory:")))
    writes = {
        (method, route.path)  # type: ignore[attr-defined]
        for route in api.routes
        for method in getattr(route, "methods", set()) or set()
        if method in ("POST", "PATCH", "PUT", "DELETE")
    }
    assert writes <= covered, writes - covered


async def test_the_audit_log_is_tenant_isolated_and_for_owners_and_admins(app: MaskApp) -> None:
    alpha = await make_person(app, "alpha@example.com", name="Alpha")
    beta = await make_person(app, "beta@example.com", name="Beta", ip="198.51.100.5")
    alpha_key, beta_key = await _owner_key(alpha), await _owner_key(beta)
    await alpha.http.post(
        "/v1/links", json={"url": "https://example.com/a"}, headers={"Authorization": f"Bearer {alpha_key}"}
    )
    beta_entries = await _entries(beta.http, beta_key)
    assert all(entry["action"] != "link.created" for entry in beta_entries)
    assert {entry["actor"]["label"] for entry in beta_entries} <= {"beta@example.com", "auditor"}  # type: ignore[index]
    member = await _person_with_role(app, alpha, "member")
    assert (await member.http.get(f"{member.base}/audit")).status_code == 403
    assert (await alpha.http.get(f"{alpha.base}/audit")).status_code == 200


async def test_keys_expire_and_remember_the_network_they_were_last_used_from(app: MaskApp) -> None:
    owner = await make_person(app, "owner@example.com", name="Team")
    body: dict[str, object] = {"name": "temp", "scopes": ["links:read"], "expires_in_days": "7"}
    body["csrf_token"] = await owner.csrf(f"{owner.base}/settings/keys")
    created = await owner.http.post(f"{owner.base}/settings/keys", data=body)
    found = KEY.search((await owner.http.get(created.headers["location"])).text)
    assert found
    headers = {"Authorization": f"Bearer {found.group(1)}"}
    assert (await owner.http.get("/v1/links", headers=headers)).status_code == 200
    keys_page = await owner.http.get(f"{owner.base}/settings/keys")
    assert "203.0.113.0/24" in keys_page.text and "203.0.113.10" not in keys_page.text
    async with session_scope(app.context.sessionmaker) as db:  # a week passes
        await db.execute(update(ApiKey).where(ApiKey.name == "temp").values(expires_at=utcnow() - timedelta(seconds=1)))
    expired = await owner.http.get("/v1/links", headers=headers)
    assert expired.status_code == 401 and expired.json()["error"]["code"] == "api_key_expired"


async def test_created_by_me_lists_the_links_of_the_member_behind_the_key(app: MaskApp) -> None:
    owner = await make_person(app, "owner@example.com", name="Team")
    member = await _person_with_role(app, owner, "member")
    assert (await owner.post(f"{owner.base}/links", {"url": "https://example.com/owner"})).status_code == 303
    assert (await member.post(f"{member.base}/links", {"url": "https://example.com/member"})).status_code == 303
    key = await _owner_key(owner)
    mine = await owner.http.get("/v1/links?created_by=me", headers={"Authorization": f"Bearer {key}"})
    assert [link["url"] for link in mine.json()["data"]] == ["https://example.com/owner"]
    page = await member.http.get(f"{member.base}/links?created_by=me")
    assert "example.com/member" in page.text and "example.com/owner" not in page.text

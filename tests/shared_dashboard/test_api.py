"""/v1/shared-dashboards: exactly one scope, the workspace's own objects only, the URL shown once and stored
hashed, password and expiry changes, rotation and revocation, scopes and tenant isolation."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from mask.app import MaskApp
from mask.auth import service as auth_service
from mask.db import session_scope
from mask.workspace import service as workspace_service
from tests.analytics.helpers import create_link
from tests.conftest import Tenant, TenantFactory


async def share(client: httpx.AsyncClient, tenant: Tenant, **body: Any) -> httpx.Response:
    return await client.post("/v1/shared-dashboards", headers=tenant.headers, json=body)


def errors_of(response: httpx.Response) -> dict[str, str]:
    assert response.status_code == 422, response.text
    return {item["param"]: item["code"] for item in response.json()["error"]["errors"]}


async def test_create_returns_the_url_once_and_stores_only_its_hash(
    app: MaskApp, client: httpx.AsyncClient, tenant: Tenant
) -> None:
    link_id = await create_link(client, tenant, "launch")
    response = await share(client, tenant, link_id=link_id, title=" Launch week ")
    assert response.status_code == 201, response.text
    assert response.headers["cache-control"] == "no-store"
    created = response.json()
    assert created["id"].startswith("shd_") and created["kind"] == "link" and created["link_id"] == link_id
    assert created["title"] == "Launch week" and created["password_protected"] is False
    assert created["url"].startswith("http://localhost:8000/share/")
    token = created["url"].rsplit("/", 1)[1]
    assert len(token) >= 32 and "+" not in token and created["token_hint"] == token[:6]

    fetched = await client.get(f"/v1/shared-dashboards/{created['id']}", headers=tenant.headers)
    listed = await client.get("/v1/shared-dashboards", headers=tenant.headers)
    assert fetched.status_code == 200 and "url" not in fetched.json()
    assert [item["id"] for item in listed.json()["data"]] == [created["id"]]
    assert token not in fetched.text + listed.text
    async with session_scope(app.context.sessionmaker) as session:
        stored = (await session.execute(text("SELECT token_hash FROM shared_dashboards"))).scalar_one()
        dump = str((await session.execute(text("SELECT * FROM shared_dashboards"))).all())
    assert stored == hashlib.sha256(token.encode()).hexdigest()
    assert token not in dump


async def test_exactly_one_scope_is_required_and_errors_name_the_field(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    link_id = await create_link(client, tenant, "one")
    none_given = errors_of(await share(client, tenant))
    assert none_given == {name: "scope_required" for name in ("link_id", "tag", "domain", "bio_page_id")}
    assert errors_of(await share(client, tenant, link_id=link_id, tag="x")) == {"tag": "conflicting_scope"}
    assert errors_of(await share(client, tenant, link_id=link_id, password="short")) == {
        "password": "password_too_short"
    }
    past = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    assert errors_of(await share(client, tenant, link_id=link_id, expires_at=past)) == {"expires_at": "expires_in_past"}
    unknown = await share(client, tenant, link_id=link_id, workspace_id="ws_x")
    assert unknown.status_code == 422 and unknown.json()["error"]["errors"][0]["param"] == "workspace_id"
    missing = await share(client, tenant, link_id="lnk_nothere")
    assert missing.status_code == 404 and missing.json()["error"]["param"] == "link_id"
    assert missing.json()["error"]["code"] == "link_not_found"


async def test_each_kind_of_object_can_be_shared_by_id_or_name(client: httpx.AsyncClient, tenant: Tenant) -> None:
    await create_link(client, tenant, "tagged", tags=["spring"])
    tag_id = next(t["id"] for t in (await client.get("/v1/tags", headers=tenant.headers)).json()["data"])
    domain = (await client.post("/v1/domains", json={"domain": "go.brand.test"}, headers=tenant.headers)).json()
    page = (await client.post("/v1/bio-pages", json={"handle": "ada"}, headers=tenant.headers)).json()
    made = [
        (await share(client, tenant, tag="spring")).json(),
        (await share(client, tenant, tag=tag_id)).json(),
        (await share(client, tenant, domain="go.brand.test")).json(),
        (await share(client, tenant, domain=domain["id"])).json(),
        (await share(client, tenant, bio_page_id=page["id"])).json(),
    ]
    assert [(item["kind"], item["tag_id"] or item["domain_id"] or item["bio_page_id"]) for item in made] == [
        ("tag", tag_id),
        ("tag", tag_id),
        ("domain", domain["id"]),
        ("domain", domain["id"]),
        ("bio_page", page["id"]),
    ]


async def test_another_workspaces_objects_cannot_be_shared(
    client: httpx.AsyncClient, tenant: Tenant, make_tenant: TenantFactory
) -> None:
    other = await make_tenant(plan="enterprise")
    link_id = await create_link(client, other, "theirs", tags=["private"])
    tag_id = (await client.get("/v1/tags", headers=other.headers)).json()["data"][0]["id"]
    domain = (await client.post("/v1/domains", json={"domain": "go.other.test"}, headers=other.headers)).json()
    page = (await client.post("/v1/bio-pages", json={"handle": "theirs"}, headers=other.headers)).json()
    for field, value in (
        ("link_id", link_id),
        ("tag", tag_id),
        ("tag", "private"),
        ("domain", domain["id"]),
        ("domain", "go.other.test"),
        ("bio_page_id", page["id"]),
    ):
        response = await share(client, tenant, **{field: value})
        assert response.status_code == 404, (field, response.text)
        assert response.json()["error"]["param"] == field
    assert (await client.get("/v1/shared-dashboards", headers=tenant.headers)).json()["data"] == []


async def test_another_workspaces_key_gets_404_on_every_endpoint(
    client: httpx.AsyncClient, tenant: Tenant, make_tenant: TenantFactory
) -> None:
    other = await make_tenant(plan="enterprise")
    link_id = await create_link(client, tenant, "mine")
    created = (await share(client, tenant, link_id=link_id)).json()
    base = f"/v1/shared-dashboards/{created['id']}"
    for method, path, body in (
        ("GET", base, None),
        ("PATCH", base, {"password": "a new password"}),
        ("POST", f"{base}/rotate", None),
        ("DELETE", base, None),
    ):
        response = await client.request(method, path, json=body, headers=other.headers)
        assert response.status_code == 404, (method, path, response.text)
        assert response.json()["error"]["code"] == "shared_dashboard_not_found"
    assert (await client.get("/v1/shared-dashboards", headers=other.headers)).json()["data"] == []
    page = await client.get(created["url"].removeprefix("http://localhost:8000"))
    assert page.status_code == 200  # untouched: not rotated, not revoked


async def test_patch_sets_and_removes_the_password_and_the_expiry(client: httpx.AsyncClient, tenant: Tenant) -> None:
    link_id = await create_link(client, tenant, "patch")
    created = (await share(client, tenant, link_id=link_id)).json()
    path = f"/v1/shared-dashboards/{created['id']}"
    later = (datetime.now(UTC) + timedelta(days=3)).replace(microsecond=0)
    changed = await client.patch(
        path, headers=tenant.headers, json={"password": "open sesame", "expires_at": later.isoformat()}
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["password_protected"] is True
    assert changed.json()["expires_at"] == later.isoformat().replace("+00:00", "Z")
    assert errors_of(await client.patch(path, headers=tenant.headers, json={"password": "x"})) == {
        "password": "password_too_short"
    }
    cleared = await client.patch(path, headers=tenant.headers, json={"password": None, "expires_at": None})
    assert cleared.json()["password_protected"] is False and cleared.json()["expires_at"] is None


async def test_rotation_gives_a_new_url_and_revocation_removes_it(client: httpx.AsyncClient, tenant: Tenant) -> None:
    link_id = await create_link(client, tenant, "rotate")
    created = (await share(client, tenant, link_id=link_id)).json()
    old_path = created["url"].removeprefix("http://localhost:8000")
    rotated = await client.post(f"/v1/shared-dashboards/{created['id']}/rotate", headers=tenant.headers)
    assert rotated.status_code == 200 and rotated.headers["cache-control"] == "no-store"
    new_path = rotated.json()["url"].removeprefix("http://localhost:8000")
    assert new_path != old_path and rotated.json()["rotated_at"] is not None
    assert (await client.get(old_path)).status_code == 404
    assert (await client.get(new_path)).status_code == 200
    deleted = await client.delete(f"/v1/shared-dashboards/{created['id']}", headers=tenant.headers)
    assert deleted.status_code == 204
    assert (await client.get(new_path)).status_code == 404
    gone = await client.get(f"/v1/shared-dashboards/{created['id']}", headers=tenant.headers)
    assert gone.status_code == 404
    audit = await client.get("/v1/audit-log", headers=tenant.headers)
    entries = [entry for entry in audit.json()["data"] if entry["target_id"] == created["id"]]
    assert [entry["action"] for entry in entries] == [
        "shared_dashboard.revoked",
        "shared_dashboard.rotated",
        "shared_dashboard.created",
    ]
    assert new_path.rsplit("/", 1)[1] not in audit.text and old_path.rsplit("/", 1)[1] not in audit.text


async def test_an_idempotent_retry_never_replays_the_url(client: httpx.AsyncClient, tenant: Tenant) -> None:
    link_id = await create_link(client, tenant, "idem")
    headers = {**tenant.headers, "Idempotency-Key": "share-once"}
    first = await client.post("/v1/shared-dashboards", headers=headers, json={"link_id": link_id})
    assert first.status_code == 201
    again = await client.post("/v1/shared-dashboards", headers=headers, json={"link_id": link_id})
    assert again.status_code == 409 and again.json()["error"]["code"] == "idempotency_secret_not_replayed"
    assert first.json()["url"] not in again.text
    rotate_headers = {**tenant.headers, "Idempotency-Key": "rotate-once"}
    path = f"/v1/shared-dashboards/{first.json()['id']}/rotate"
    assert (await client.post(path, headers=rotate_headers)).status_code == 200
    replay = await client.post(path, headers=rotate_headers)
    assert replay.status_code == 409 and replay.json()["error"]["code"] == "idempotency_secret_not_replayed"


@pytest.mark.parametrize(
    ("scopes", "read", "write"),
    [(["analytics:read"], 200, 403), (["links:write"], 403, 201), (["links:read"], 403, 403)],
)
async def test_reading_needs_analytics_read_and_changing_needs_links_write(
    app: MaskApp, client: httpx.AsyncClient, tenant: Tenant, scopes: list[str], read: int, write: int
) -> None:
    link_id = await create_link(client, tenant, "scoped")
    async with session_scope(app.context.sessionmaker) as session:
        workspace = await workspace_service.get_by_slug_or_id(session, ref=tenant.workspace_id)
        key = await auth_service.create(session, workspace=workspace, scopes=scopes, name="limited")
    limited = Tenant(workspace_id=tenant.workspace_id, slug=tenant.slug, token=key.token)
    assert (await client.get("/v1/shared-dashboards", headers=limited.headers)).status_code == read
    created = await share(client, limited, link_id=link_id)
    assert created.status_code == write, created.text
    if write == 403:
        assert created.json()["error"]["required_scope"] == "links:write"
